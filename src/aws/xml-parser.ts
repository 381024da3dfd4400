/**
 * The AWS SDK's XML parser (`parseXML` of `@aws-sdk/xml-builder`), written
 * to scan with `indexOf` and `slice` where the SDK's copy builds every name,
 * value and text node one character at a time. It gives the same result and
 * throws the same errors for every input (test/fuzz/xml-parser.test.ts holds
 * it to the installed SDK's copy); only the speed differs, as
 * `npx tsx bench/xml-parse.ts` measures on a page of a thousand instances.
 *
 * The bundles (scripts/aws-sdk-plugins.mjs) put it in place of the SDK's,
 * since every DescribeInstances page of a fleet-wide pass goes through it;
 * the library build and the in-process tests use the SDK's own.
 */

/** What the SDK's parser gives: a tree of objects, arrays (repeated tags) and strings. */
export type XmlValue = string | XmlNode | XmlValue[];
export interface XmlNode {
  [key: string]: XmlValue;
}

/** Entity names; a plain object, looked up as the SDK looks them up (`&constructor;` included). */
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

const ENTITY = /&(?:#x([0-9a-fA-F]{1,6})|#(\d{1,7})|([a-zA-Z][a-zA-Z0-9]{0,30}));/g;

/**
 * `s` as a string of its own. In V8 a slice of 13 characters or more is a
 * view into the text it was cut from, so one instance id kept from a page
 * would keep the whole page (megabytes) alive for as long as the pass keeps
 * the instance. Joining a character to the slice and cutting it off again
 * copies it.
 */
function detach(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

/**
 * A text or attribute value cut from the answer, detached from the answer's
 * text, entities decoded. Detached first: a regular expression keeps the
 * text it last matched (V8's `RegExp.lastMatch`), which must not be a view
 * into the answer either.
 */
function decodeEntities(s: string): string {
  const own = detach(s);
  if (!own.includes('&')) return own;
  return own.replace(ENTITY, (_, hex: string | undefined, dec: string | undefined, named: string) => {
    if (hex) return String.fromCharCode(parseInt(hex, 16));
    if (dec) return String.fromCharCode(parseInt(dec, 10));
    return ENTITIES[named] ?? '';
  });
}

/** An own, enumerable `__proto__` property, so that assigning it later sets a key, not the prototype. */
function writeKey(obj: object): void {
  Object.defineProperty(obj, '__proto__', { value: undefined, writable: true, enumerable: true, configurable: true });
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 13 || c === 10;
/** Ends a tag name: whitespace, `>` or `/`. */
const endsTag = (c: number) => isSpace(c) || c === 62 || c === 47;
/** Ends an attribute name: `=`, whitespace, `>`, `/` or `?`. */
const endsName = (c: number) => c === 61 || isSpace(c) || c === 62 || c === 47 || c === 63;

/** Whether trimming leaves `name` as it is: it starts and ends with a visible ASCII character. */
const untrimmable = (name: string) => {
  const first = name.charCodeAt(0);
  const last = name.charCodeAt(name.length - 1);
  return first > 32 && first < 127 && last > 32 && last < 127;
};

class Parser {
  private readonly x: string;
  private i = 0;
  private readonly z: number;
  /**
   * The tag names read so far, by length and first and last character. A
   * response repeats a few dozen names thousands of times; handing back the
   * string already used as a key spares V8 looking up each new copy among
   * its interned strings, which was most of the time spent building objects.
   */
  private readonly names = new Map<number, string[]>();

  constructor(xml: string) {
    this.x = xml.replace(/\r\n?/g, '\n');
    this.z = this.x.length;
  }

  parse(): XmlNode {
    while (this.i < this.z) {
      this.trim();
      if (this.i >= this.z) break;
      if (this.x.startsWith('<?', this.i)) {
        this.readTo('?>');
        this.trim();
      } else if (this.x.startsWith('<!--', this.i)) {
        this.readTo('-->');
        this.trim();
      } else if (this.isDoctype()) {
        this.skipDoctype();
        this.trim();
      } else if (this.x[this.i] === '<') {
        const root = this.parseTag();
        return { [root.tag]: root.value };
      } else {
        throw new Error('@aws-sdk XML parse error: unexpected content.');
      }
    }
    throw new Error('@aws-sdk XML parse error: no root element.');
  }

  /**
   * Whether `<!DOCTYPE` (any case) comes next, as the SDK asks: at this
   * position of the whole text lower-cased. Lower-casing keeps every
   * position only when the text before is ASCII, which it nearly always is
   * (a declaration, a comment); then nine characters are enough to look at.
   */
  private isDoctype(): boolean {
    let ascii = true;
    for (let k = 0; k < this.i && ascii; k++) ascii = this.x.charCodeAt(k) < 128;
    if (ascii) return this.x.slice(this.i, this.i + 9).toLowerCase() === '<!doctype';
    return this.x.toLowerCase().startsWith('<!doctype', this.i);
  }

  private readTo(stop: string): string {
    const at = this.x.indexOf(stop, this.i);
    if (at === -1) throw new Error(`@aws-sdk XML parse error: expected "${stop}" not found.`);
    const result = this.x.slice(this.i, at);
    this.i = at + stop.length;
    return result;
  }

  private trim(): void {
    while (this.i < this.z && isSpace(this.x.charCodeAt(this.i))) ++this.i;
  }

  /** Reads a quoted value: from the character at hand to the next one like it, or to the end. */
  private readAttrValue(): string {
    if (this.i >= this.z) {
      this.i += 2;
      return '';
    }
    const quote = this.x[this.i] as string;
    const from = ++this.i;
    const at = this.x.indexOf(quote, from);
    const to = at < 0 ? this.z : at;
    this.i = to + 1;
    return decodeEntities(this.x.slice(from, to));
  }

  /** `x.slice(start, end)`, as the string returned for the same name before when there was one. */
  private name(start: number, end: number): string {
    const x = this.x;
    const key = (end - start) * 0x1000000 + x.charCodeAt(start) * 0x10000 + x.charCodeAt(end - 1);
    const known = this.names.get(key);
    if (known) {
      for (const name of known) if (x.startsWith(name, start)) return name;
    }
    const name = x.slice(start, end);
    if (known) known.push(name);
    else this.names.set(key, [name]);
    return name;
  }

  /** Reads `</tag>` (the `</` already passed): the SDK's `readTo('>').trim()` and compare, without the copy when the name is plainly there. */
  private closeTag(tag: string): void {
    const x = this.x;
    if (tag.length > 0 && x.charCodeAt(this.i + tag.length) === 62 && x.startsWith(tag, this.i) && untrimmable(tag)) {
      this.i += tag.length + 1;
      return;
    }
    const closeTag = this.readTo('>').trim();
    if (closeTag !== tag) throw new Error(`@aws-sdk XML parse error: mismatched tags <${tag}> and </${closeTag}>.`);
  }

  private parseTag(): { tag: string; value: XmlValue } {
    const x = this.x;
    const z = this.z;
    let i = ++this.i;
    while (i < z && !endsTag(x.charCodeAt(i))) i++;
    const tag = i > this.i ? this.name(this.i, i) : '';
    this.i = i;
    let hasAttrs = false;
    const attrs: Record<string, string> = {};
    while (this.i < z) {
      this.trim();
      const c = x.charCodeAt(this.i);
      if (c === 62 || c === 47) break;
      let j = this.i;
      while (j < z && !endsName(x.charCodeAt(j))) j++;
      const name = x.slice(this.i, j);
      this.i = j;
      this.trim();
      if (x[this.i] !== '=') break;
      ++this.i;
      this.trim();
      if (name === '__proto__') writeKey(attrs);
      attrs[name] = this.readAttrValue();
      hasAttrs = true;
    }
    if (this.i >= z) throw new Error('@aws-sdk XML parse error: unexpected end of input.');
    if (x[this.i] === '/') {
      ++this.i;
      if (this.i >= z || x[this.i] !== '>') throw new Error('@aws-sdk XML parse error: expected > at the end of self-closing tag.');
      ++this.i;
      return { tag, value: hasAttrs ? attrs : '' };
    }
    if (x[this.i] !== '>') throw new Error('@aws-sdk XML parse error: expected > at the end of opening tag.');
    ++this.i;
    // Most elements hold only text (<instanceId>i-0abc</instanceId>): read to the closing tag at once.
    const lt = hasAttrs ? -1 : x.indexOf('<', this.i);
    if (lt >= 0 && x.charCodeAt(lt + 1) === 47) {
      const text = decodeEntities(x.slice(this.i, lt));
      this.i = lt + 2;
      this.closeTag(tag);
      return { tag, value: text.trim() === '' && text.includes('\n') ? '' : text };
    }
    const textParts: string[] = [];
    const childTags: { tag: string; value: XmlValue }[] = [];
    let hasElementChild = false;
    while (this.i < z) {
      if (x.startsWith('</', this.i)) break;
      if (x.charCodeAt(this.i) === 60) {
        if (x.startsWith('<!--', this.i)) {
          this.readTo('-->');
        } else if (x.startsWith('<![CDATA[', this.i)) {
          this.i += 9;
          textParts.push(detach(this.readTo(']]>')));
        } else if (x.startsWith('<?', this.i)) {
          this.readTo('?>');
        } else {
          hasElementChild = true;
          childTags.push(this.parseTag());
        }
      } else {
        const at = x.indexOf('<', this.i);
        const to = at < 0 ? z : at;
        textParts.push(decodeEntities(x.slice(this.i, to)));
        this.i = to;
      }
    }
    if (!x.startsWith('</', this.i)) throw new Error(`@aws-sdk XML parse error: missing closing tag </${tag}>.`);
    this.i += 2;
    this.closeTag(tag);
    if (!hasAttrs && textParts.length === 0 && !hasElementChild) return { tag, value: '' };
    if (!hasAttrs && !hasElementChild) {
      const text = textParts.length === 1 ? (textParts[0] as string) : textParts.join('');
      if (text.trim() === '' && text.includes('\n')) return { tag, value: '' };
      return { tag, value: text };
    }
    const obj: XmlNode = {};
    for (const text of textParts) {
      if (text.trim() === '' && text.includes('\n')) continue;
      obj['#text'] = '#text' in obj ? (obj['#text'] as string) + text : text;
    }
    for (const child of childTags) {
      if (child.tag === '__proto__') writeKey(obj);
      if (child.tag in obj) {
        const held = obj[child.tag] as XmlValue;
        if (Array.isArray(held)) held.push(child.value);
        else obj[child.tag] = [held, child.value];
      } else {
        obj[child.tag] = child.value;
      }
    }
    if (hasAttrs) for (const [k, v] of Object.entries(attrs)) {
      if (k === '__proto__') writeKey(obj);
      obj[k] = v;
    }
    return { tag, value: obj };
  }

  private skipDoctype(): void {
    this.i += 9;
    let depth = 0;
    while (this.i < this.z) {
      const c = this.x[this.i];
      if (c === '[') ++depth;
      else if (c === ']') --depth;
      else if (c === '>' && depth === 0) {
        ++this.i;
        return;
      }
      ++this.i;
    }
    throw new Error('@aws-sdk XML parse error: unclosed DOCTYPE.');
  }
}

/** Parses an AWS XML response as `@aws-sdk/xml-builder`'s `parseXML` does. */
export function parseXML(xml: string): XmlNode {
  return new Parser(xml).parse();
}
