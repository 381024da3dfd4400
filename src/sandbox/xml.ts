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

const NEEDS_ESCAPE = /[&<>"']/;

export function escapeXml(text: string): string {
  // Most values (ids, addresses, numbers) need no escaping; skip the replace for them.
  return NEEDS_ESCAPE.test(text) ? text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c) : text;
}

// Strings are built by concatenation: V8's rope strings make that several
// times faster than collecting parts in an array for pages of a thousand items.
function write(name: string, value: XmlValue): string {
  if (value === undefined || value === null) return '';
  if (value instanceof RawXml) return `<${name}>${value.xml}</${name}>`;
  if (Array.isArray(value)) {
    let out = `<${name}>`;
    for (const item of value) {
      if (item === undefined || item === null) continue;
      out += write('item', item);
    }
    return `${out}</${name}>`;
  }
  if (typeof value === 'object') {
    let out = `<${name}>`;
    for (const k in value) out += write(k, value[k]);
    return `${out}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** The body of a successful response to `action`. */
export function responseXml(action: string, requestId: string, body: XmlObject): string {
  let out = `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_NAMESPACE}"><requestId>${requestId}</requestId>`;
  for (const k in body) out += write(k, body[k]);
  return `${out}</${action}Response>`;
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
