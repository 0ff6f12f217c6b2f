import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { CommandDecoder, type CommandItem } from '../../protocol/commandDecoder.js';
import { parseCommandLine, cAtoi, gluedHello, isSeparator, splitWords } from '../../protocol/commandLine.js';
import { latin1, utf8, concatBytes } from '../../protocol/bytes.js';
import { splitAt } from '../support/chunks.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 200);

/** Decode a whole stream the way a guest does: payload after accepted `file` lines. */
function decodeAll(chunks: Uint8Array[], maxLineBytes?: number): string[] {
  const d = new CommandDecoder(maxLineBytes === undefined ? {} : { maxLineBytes });
  const out: string[] = [];
  let payload: Uint8Array[] = [];
  const pull = () => {
    for (let item: CommandItem | null; (item = d.next()); ) {
      if (item.type === 'line') {
        const text = latin1(item.bytes);
        out.push(`line:${text}`);
        const cmd = parseCommandLine(item.bytes);
        if (cmd.command === 'file' && cmd.size > 0 && cmd.size < 1000) d.expectPayload(cmd.size);
      } else if (item.type === 'overlong') {
        out.push(`overlong:${item.length}`);
      } else {
        payload.push(item.bytes);
        if (item.remaining === 0) {
          out.push(`payload:${latin1(concatBytes(payload))}`);
          payload = [];
        }
      }
    }
  };
  for (const c of chunks) {
    d.push(c);
    pull();
  }
  const end = d.end();
  pull();
  if (end.type === 'truncatedPayload') out.push(`truncated:${end.missing}`);
  return out;
}


describe('CommandDecoder', () => {
  const session = utf8('stap 4.8\noption data\nfile 5 a.ko\nx\ny\nzrun ./a.ko\nquit\n');
  const expected = ['line:stap 4.8', 'line:option data', 'line:file 5 a.ko', 'payload:x\ny\nz', 'line:run ./a.ko', 'line:quit'];

  it('decodes a session whole, and split at start, middle and end', () => {
    expect(decodeAll([session])).toEqual(expected);
    for (const cut of [0, 1, session.length >> 1, session.length - 1, session.length]) {
      expect(decodeAll(splitAt(session, [cut]))).toEqual(expected);
    }
  });

  it('delivers a trailing line without newline at EOF, as fgets does', () => {
    expect(decodeAll([utf8('stap\nhello')])).toEqual(['line:stap', 'line:hello']);
  });

  it('reports a payload cut short by EOF', () => {
    expect(decodeAll([utf8('file 10 a\nabc')])).toEqual(['line:file 10 a', 'truncated:7']);
  });

  it('reports an overlong line once and resynchronises after its newline', () => {
    const long = 'x'.repeat(100);
    expect(decodeAll([utf8(`${long}\nstap\n`)], 50)).toEqual(['overlong:100', 'line:stap']);
    expect(decodeAll(splitAt(utf8(`${long}\nstap\n`), [10, 60, 99]), 50)).toEqual(['overlong:100', 'line:stap']);
  });

  it('keeps a line of exactly the cap', () => {
    const line = 'y'.repeat(50);
    expect(decodeAll([utf8(`${line}\n`)], 50)).toEqual([`line:${line}`]);
  });

  test.prop([fc.array(fc.nat(), { maxLength: 20 })], { numRuns: runs })('any split decodes to the same items', (cuts) => {
    expect(decodeAll(splitAt(session, cuts))).toEqual(expected);
  });

  test.prop([fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 30 })], { numRuns: runs })(
    'garbage never throws and buffering stays under the cap',
    (chunks) => {
      const d = new CommandDecoder({ maxLineBytes: 128 });
      for (const c of chunks) {
        d.push(c);
        for (let item = d.next(); item; item = d.next()) {
          if (item.type === 'line') expect(item.bytes.length).toBeLessThanOrEqual(128);
        }
        expect(d.bufferedBytes).toBeLessThanOrEqual(128);
      }
    },
  );
});

describe('command lines', () => {
  it('splits words on space, tab and carriage return', () => {
    expect(splitWords(utf8(' a\tb\r c  ')).map(latin1)).toEqual(['a', 'b', 'c']);
    expect(parseCommandLine(utf8('stap\r'))).toEqual({ command: 'stap', version: null, nonce: null });
    // stapflow's nonce is the third word, and only a well-formed one counts.
    expect(parseCommandLine(utf8('stap 4.8 nonce=Ab-9_z\r'))).toEqual({ command: 'stap', version: '4.8', nonce: 'Ab-9_z' });
    expect(parseCommandLine(utf8('stap 4.8 nonce='))).toMatchObject({ nonce: null });
    expect(parseCommandLine(utf8('stap 4.8 x nonce=abc'))).toMatchObject({ nonce: null });
    expect(parseCommandLine(utf8('stap 4.8 nonce=a/b'))).toMatchObject({ nonce: null });
  });

  it('reads sizes like C atoi on LP64', () => {
    expect(cAtoi('10abc')).toBe(10);
    expect(cAtoi('+5')).toBe(5);
    expect(cAtoi('0x10')).toBe(0);
    expect(cAtoi('x')).toBe(0);
    expect(cAtoi('-1')).toBe(-1);
    expect(cAtoi('99999999999999999999')).toBe(-1);
    expect(cAtoi('-99999999999999999999')).toBe(0);
    expect(cAtoi('4294967301')).toBe(5);
    expect(parseCommandLine(utf8('file'))).toMatchObject({ command: 'file', size: -1, name: null });
  });

  it('separates words on exactly space, tab, CR and LF', () => {
    const seps = Array.from({ length: 256 }, (_, b) => b).filter(isSeparator);
    expect(seps).toEqual([0x09, 0x0a, 0x0d, 0x20]);
    expect(splitWords(utf8('a\nb')).map(latin1)).toEqual(['a', 'b']);
    expect(splitWords(utf8('ab')).map(latin1)).toEqual(['ab']);
    expect(splitWords(utf8('  '))).toEqual([]);
  });

  test.prop([fc.array(fc.stringMatching(/^[a-z0-9=.]{1,5}$/), { maxLength: 5 }), fc.array(fc.constantFrom(' ', '\t', '\r'), { minLength: 1, maxLength: 3 })], {
    numRuns: runs,
  })('words joined by any separators split back into the same words', (words, sep) => {
    const line = sep.join('') + words.join(sep.join('')) + sep[0];
    expect(splitWords(utf8(line)).map(latin1)).toEqual(words);
  });

  it('reads every command with its words', () => {
    expect(parseCommandLine(utf8('option'))).toEqual({ command: 'option', name: null });
    expect(parseCommandLine(utf8('option data'))).toEqual({ command: 'option', name: 'data' });
    const file = parseCommandLine(utf8('file 12 a.ko extra'));
    expect(file).toMatchObject({ command: 'file', size: 12 });
    expect(file.command === 'file' && file.name !== null ? latin1(file.name) : null).toBe('a.ko');
    expect(parseCommandLine(utf8('run ./a.ko x=1')).command).toBe('run');
    const run = parseCommandLine(utf8('run ./a.ko x=1'));
    expect(run.command === 'run' ? run.args.map(latin1) : null).toEqual(['./a.ko', 'x=1']);
    expect(parseCommandLine(utf8('quit now'))).toEqual({ command: 'quit' });
    expect(parseCommandLine(utf8('arg 7'))).toEqual({ command: 'arg', size: 7 });
    expect(parseCommandLine(utf8('arg'))).toEqual({ command: 'arg', size: -1 });
    expect(parseCommandLine(utf8('signal 15'))).toEqual({ command: 'signal', number: 15 });
    expect(parseCommandLine(utf8('signal'))).toEqual({ command: 'signal', number: -1 });
    expect(parseCommandLine(utf8('stap 4.8'))).toEqual({ command: 'stap', version: '4.8', nonce: null });
  });

  it('reads sizes like C atoi: leading white space, one sign, clamping at LONG_MAX/LONG_MIN', () => {
    expect(cAtoi(' \t\n\v\f\r42')).toBe(42);
    expect(cAtoi('-7x')).toBe(-7);
    expect(cAtoi('+-7')).toBe(0);
    expect(cAtoi('-')).toBe(0);
    expect(cAtoi('')).toBe(0);
    expect(cAtoi('x12')).toBe(0);
    // LONG_MAX = 2^63-1: low 32 bits all ones (-1); LONG_MIN = -2^63: low 32 bits 0.
    expect(cAtoi('9223372036854775807')).toBe(-1);
    expect(cAtoi('9223372036854775808')).toBe(-1);
    expect(cAtoi('-9223372036854775808')).toBe(0);
    expect(cAtoi('-9223372036854775809')).toBe(0);
    // Just inside the range: not clamped, only cut to 32 bits.
    expect(cAtoi('9223372036854775806')).toBe(-2);
    expect(cAtoi('-9223372036854775807')).toBe(1);
    expect(cAtoi('2147483648')).toBe(-2147483648);
  });

  it('finds a hello glued to the end of a dead session\'s bytes', () => {
    expect(gluedHello(utf8('garbagestap 4.8 nonce=abc'))).toEqual({ command: 'stap', version: '4.8', nonce: 'abc' });
    expect(gluedHello(utf8('xxstap'))).toEqual({ command: 'stap', version: null, nonce: null });
    expect(gluedHello(utf8('xxstap\r'))).toEqual({ command: 'stap', version: null, nonce: null });
    expect(gluedHello(utf8('file 3 a.kostap\t4.8'))).toEqual({ command: 'stap', version: '4.8', nonce: null });
    // A line that is a hello itself, or has none at its end, or only at its start: none.
    expect(gluedHello(utf8('stap 4.8'))).toBeNull();
    expect(gluedHello(utf8('xxstapsh 4.8'))).toBeNull();
    expect(gluedHello(utf8('stapx 4.8'))).toBeNull();
    // A hello with leading blanks is a hello itself, not one glued to garbage.
    expect(gluedHello(utf8(' \tstap 4.8'))).toBeNull();
    // The hello is the one that ends the line, not the first `stap` in it.
    expect(gluedHello(utf8('xxstapx stap 4.8'))).toEqual({ command: 'stap', version: '4.8', nonce: null });
    expect(gluedHello(utf8('xx stap 4.8 '))).toEqual({ command: 'stap', version: '4.8', nonce: null });
    expect(gluedHello(utf8('quit'))).toBeNull();
    expect(gluedHello(utf8('xxstapx'))).toBeNull();
  });

  it('names unknown and empty commands', () => {
    expect(parseCommandLine(utf8(''))).toEqual({ command: 'unknown', word: '' });
    expect(parseCommandLine(utf8('OPTION data'))).toEqual({ command: 'unknown', word: 'OPTION' });
  });
});
