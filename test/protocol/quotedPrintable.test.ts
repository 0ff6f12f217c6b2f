import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { latin1, utf8 } from '../../protocol/bytes.js';
import { qpDecode, qpEncode } from '../../protocol/quotedPrintable.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 200);
const decoded = (s: string) => {
  const r = qpDecode(utf8(s));
  return r.ok ? latin1(r.bytes) : null;
};

describe('quoted-printable run arguments', () => {
  it('keeps printable bytes and escapes the rest like stap', () => {
    expect(qpEncode(utf8('a b=c\n'))).toBe('a=20b=3Dc=0A');
    expect(qpEncode(new Uint8Array([0, 0x7f, 0xff, 0x21, 0x7e]))).toBe('=00=7F=FF!~');
  });

  it('reads hex in either case and drops soft line breaks', () => {
    expect(decoded('=41=4a=4A')).toBe('AJJ');
    expect(decoded('ab=\ncd')).toBe('abcd');
    expect(decoded('ab=\r\ncd')).toBe('abcd');
  });

  it('refuses a lone or malformed escape', () => {
    for (const bad of ['=', 'a=', '=4', '=G1', '=1G', '=\r', '=\rx']) expect(decoded(bad), bad).toBeNull();
  });

  test.prop([fc.uint8Array({ maxLength: 64 })], { numRuns: runs })('decode(encode(x)) = x, and encodings are one word', (bytes) => {
    const word = qpEncode(bytes);
    expect(word).toMatch(/^[!-~]*$/);
    const r = qpDecode(utf8(word));
    expect(r.ok && [...r.bytes]).toEqual([...bytes]);
  });
});
