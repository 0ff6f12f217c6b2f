import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { fromLatin1, latin1, utf8 } from '../../protocol/bytes.js';
import { qpDecode, qpEncode } from '../../protocol/quotedPrintable.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 200);

/** Decode a word given as a byte string; null when the guest would refuse it. */
const decoded = (word: string) => {
  const r = qpDecode(fromLatin1(word));
  return r.ok ? latin1(r.bytes) : null;
};

describe('qpEncode (the host)', () => {
  it('keeps printable bytes and escapes the rest with uppercase hex', () => {
    expect(qpEncode(utf8('a b=c\n'))).toBe('a=20b=3Dc=0A');
    expect(qpEncode(new Uint8Array([0, 0x7f, 0xff, 0x21, 0x7e]))).toBe('=00=7F=FF!~');
    expect(qpEncode(utf8('-r 0:unix:/tmp/s'))).toBe('-r=200:unix:/tmp/s');
    expect(qpEncode(utf8('é'))).toBe('=C3=A9');
    expect(qpEncode(new Uint8Array(0))).toBe('');
  });

  it('escapes exactly the bytes outside 33..126 and `=`', () => {
    for (let b = 0; b < 256; b++) {
      const plain = b >= 33 && b <= 126 && b !== 0x3d;
      expect(qpEncode(new Uint8Array([b]))).toBe(plain ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`);
    }
  });
});

describe('qpDecode (the guest)', () => {
  it('reads hex in either case', () => {
    expect(decoded('=41=4a=4A')).toBe('AJJ');
    expect(decoded('=ff=Ff=00')).toBe('\xff\xff\x00');
    expect(decoded('plain')).toBe('plain');
    expect(decoded('')).toBe('');
  });

  it('drops soft line breaks', () => {
    expect(decoded('ab=\ncd')).toBe('abcd');
    expect(decoded('ab=\r\ncd')).toBe('abcd');
    expect(decoded('=\n')).toBe('');
    expect(decoded('=\n=41')).toBe('A');
  });

  it('passes bytes other than `=` through, as the guest does', () => {
    expect(decoded('a b\t\xff')).toBe('a b\t\xff');
  });

  it('refuses a lone, truncated or non-hex escape', () => {
    for (const bad of ['=', 'a=', '=4', 'x=4', '=G1', '=1G', '=g4', '=4g', '=\r', '=\rx', '= 1', '==41', '=41='])
      expect(decoded(bad), JSON.stringify(bad)).toBeNull();
    // A CR not followed by LF is no soft line break; and the verdict is exactly `{ ok: false }`.
    expect(qpDecode(utf8('a=\rb'))).toEqual({ ok: false });
    expect(qpDecode(utf8('=G0'))).toEqual({ ok: false });
    expect(qpDecode(utf8('=0G'))).toEqual({ ok: false });
    expect(qpDecode(utf8('=:0'))).toEqual({ ok: false });
    expect(qpDecode(utf8('=/0'))).toEqual({ ok: false });
    // '@' and '`' are 'A' and 'a' less one, once case is folded: not hex either.
    expect(qpDecode(utf8('=@0'))).toEqual({ ok: false });
    expect(qpDecode(utf8('=`0'))).toEqual({ ok: false });
    expect(qpDecode(utf8('=0@'))).toEqual({ ok: false });
    // Only `=` CR LF is a soft break: `=` anything-else LF is a bad escape.
    expect(qpDecode(utf8('a=x\nb'))).toEqual({ ok: false });
  });

  it('returns a fresh array, not a view of the word', () => {
    const word = utf8('abc');
    const r = qpDecode(word);
    expect(r.ok).toBe(true);
    if (r.ok) {
      word[0] = 0x7a;
      expect(latin1(r.bytes)).toBe('abc');
    }
  });

  test.prop([fc.uint8Array({ maxLength: 64 })], { numRuns: runs })(
    'decode(encode(x)) = x, and an encoding is one word of printable ASCII',
    (bytes) => {
      const word = qpEncode(bytes);
      expect(word).toMatch(/^[!-~]*$/);
      const r = qpDecode(utf8(word));
      expect(r.ok && [...r.bytes]).toEqual([...bytes]);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 64 })], { numRuns: runs })(
    'any word decodes or is refused, never throws, never grows',
    (word) => {
      const r = qpDecode(word);
      if (r.ok) expect(r.bytes.length).toBeLessThanOrEqual(word.length);
      // A word without `=` always decodes to itself.
      if (!word.includes(0x3d)) expect(r.ok && [...r.bytes]).toEqual([...word]);
    },
  );
});
