import { describe, expect, it } from 'vitest';
import { createLogger, formatTextLine, terminalText } from './logger.js';

describe('text log lines', () => {
  // What a rule's tag planted by anyone allowed to add rules can hold: clear the screen, a fake message,
  // a clipboard write (OSC 52), a link (OSC 8), a carriage return over the line, a right-to-left override.
  const planted = 'x\u001b[2J\u001b[H\u001b]52;c;Y3VybA==\u0007\u001b]8;;https://evil.example/\u001b\\docs\r\u202e';

  it('write every control and format character of a message and its fields as an escape', () => {
    const line = formatTextLine(JSON.stringify({ level: 40, time: 0, msg: `rule for unknown target "${planted}"`, target: planted }));
    expect(line).toBe(
      '00:00:00 warn  rule for unknown target "x\\x1b[2J\\x1b[H\\x1b]52;c;Y3VybA==\\x07\\x1b]8;;https://evil.example/\\x1b\\docs\\x0d\\u{202e}"' +
        '  target=x\\x1b[2J\\x1b[H\\x1b]52;c;Y3VybA==\\x07\\x1b]8;;https://evil.example/\\x1b\\docs\\x0d\\u{202e}\n',
    );
    expect(line.slice(0, -1)).not.toMatch(/[\p{Cc}\u202e]/u);
  });

  it('do so through the logger a terminal gets', () => {
    const lines: string[] = [];
    createLogger({ format: 'text', destination: { write: (l) => lines.push(l) }, env: {} }).warn({ region: 'eu-west-1\u009b2J' }, `denied\u001b[31m`);
    expect(lines.join('')).toMatch(/warn {2}denied\\x1b\[31m {2}region=eu-west-1\\x9b2J\n$/);
  });

  it('leave printable text of any script alone', () => {
    expect(terminalText('ウェブ שרת web — 54.0.0.1/32 → sg-1')).toBe('ウェブ שרת web — 54.0.0.1/32 → sg-1');
  });
});
