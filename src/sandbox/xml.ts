/**
 * A tiny XML writer for EC2 Query responses. EC2 names members in lowerCamel
 * case and wraps every list as `<nameSet><item>…</item></nameSet>`.
 */

export const EC2_NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';

/** A value in a response tree: undefined members are left out. */
export type XmlValue = string | number | boolean | undefined | null | XmlObject | XmlValue[] | RawXml;

/** Markup a hot path rendered itself (already escaped), written as is inside its element. */
export class RawXml {
  constructor(readonly xml: string) {}
}
export interface XmlObject {
  [name: string]: XmlValue;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function write(out: string[], name: string, value: XmlValue): void {
  if (value === undefined || value === null) return;
  if (value instanceof RawXml) {
    out.push(`<${name}>${value.xml}</${name}>`);
    return;
  }
  if (Array.isArray(value)) {
    out.push(`<${name}>`);
    for (const item of value) {
      if (item === undefined || item === null) continue;
      write(out, 'item', item);
    }
    out.push(`</${name}>`);
    return;
  }
  if (typeof value === 'object') {
    out.push(`<${name}>`);
    for (const [k, v] of Object.entries(value)) write(out, k, v);
    out.push(`</${name}>`);
    return;
  }
  out.push(`<${name}>${escapeXml(String(value))}</${name}>`);
}

/** The body of a successful response to `action`. */
export function responseXml(action: string, requestId: string, body: XmlObject): string {
  const out: string[] = [
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_NAMESPACE}">`,
    `<requestId>${requestId}</requestId>`,
  ];
  for (const [k, v] of Object.entries(body)) write(out, k, v);
  out.push(`</${action}Response>`);
  return out.join('');
}

/** AWS's error envelope, as EC2 sends it. */
export function errorXml(code: string, message: string, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
  );
}

/** Tags as EC2 lists them: `tagSet` of `{key, value}`. */
export function tagSet(tags: ReadonlyMap<string, string>): XmlObject[] | undefined {
  if (tags.size === 0) return undefined;
  return [...tags].map(([key, value]) => ({ key, value }));
}
