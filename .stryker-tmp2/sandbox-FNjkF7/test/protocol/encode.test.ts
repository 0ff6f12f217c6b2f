// @ts-nocheck
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { latin1, utf8 } from '../../protocol/bytes.js';
import * as encode from '../../protocol/encode.js';
import { parseCommandLine } from '../../protocol/commandLine.js';
import { qpDecode } from '../../protocol/quotedPrintable.js';
import { ReplyDecoder } from '../../protocol/replyDecoder.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 200);
const text = (bytes: Uint8Array) => latin1(bytes);

describe('host → guest encoders', () => {
  it('write the exact bytes of each command', () => {
    expect(text(encode.hello('4.8'))).toBe('stap 4.8\n');
    expect(text(encode.option('data'))).toBe('option data\n');
    expect(text(encode.file(1234, 'stap_4664.ko'))).toBe('file 1234 stap_4664.ko\n');
    expect(text(encode.run([utf8('-R'), utf8('-r'), utf8('0:unix:/tmp/s'), utf8('./stap_1.ko'), utf8('a b=c')]))).toBe(
      'run -R -r 0:unix:/tmp/s ./stap_1.ko a=20b=3Dc\n',
    );
    expect(text(encode.run([]))).toBe('run\n');
    expect(text(encode.quit())).toBe('quit\n');
  });

  it('lets refused values through (size 0, bad name characters) but not ones that break the line', () => {
    expect(text(encode.file(0, '_a'))).toBe('file 0 _a\n');
    expect(() => encode.file(-1, 'a')).toThrow(RangeError);
    expect(() => encode.file(1.5, 'a')).toThrow(RangeError);
    expect(() => encode.file(1, 'a b')).toThrow(RangeError);
    expect(() => encode.file(1, '')).toThrow(RangeError);
    expect(() => encode.hello('4.8\n')).toThrow(RangeError);
    expect(() => encode.option('da\tta')).toThrow(RangeError);
    expect(() => encode.hello('ĀĀ')).toThrow(RangeError);
  });

  test.prop([fc.array(fc.uint8Array({ minLength: 1, maxLength: 24 }), { maxLength: 8 })], { numRuns: runs })(
    'run arguments come back out of the guest\'s parser byte for byte',
    (args) => {
      const line = encode.run(args);
      expect(line.at(-1)).toBe(0x0a);
      const cmd = parseCommandLine(line.subarray(0, -1));
      if (cmd.command !== 'run') throw new Error(`parsed as ${cmd.command}`);
      expect(cmd.args.map((w) => qpDecode(w)).map((r) => (r.ok ? [...r.bytes] : null))).toEqual(args.map((a) => [...a]));
    },
  );
});

describe('guest → host encoders', () => {
  it('write the exact bytes of each reply', () => {
    expect(text(encode.helloReply('4.8', 'x86_64', '6.1.0-18-amd64'))).toBe('stapsh 4.8 x86_64 6.1.0-18-amd64\n');
    expect(text(encode.ok())).toBe('OK\n');
    expect(text(encode.error('Invalid option'))).toBe('ERROR: Invalid option\n');
    expect(text(encode.error(new Uint8Array([0x62, 0xff])))).toBe('ERROR: b\xff\n');
    expect(text(encode.error('Invalid encoding in argument "=\xe9"'))).toBe('ERROR: Invalid encoding in argument "=\xe9"\n');
    expect(text(encode.dataHeader('stdout', 41))).toBe('data stdout 41\n');
    expect(text(encode.dataHeader('stderr', 0))).toBe('data stderr 0\n');
    expect(text(encode.quitLine())).toBe('quit\n');
    expect(text(encode.debugLine('command: stap 4.8'))).toBe('stapsh: command: stap 4.8\n');
    expect(text(encode.debugLine('OK', 'reply:198'))).toBe('stapsh:reply:198 OK\n');
  });

  it('refuse a newline inside a line', () => {
    expect(() => encode.error('a\nb')).toThrow(RangeError);
    expect(() => encode.error(new Uint8Array([0x0a]))).toThrow(RangeError);
    expect(() => encode.debugLine('x\n')).toThrow(RangeError);
    expect(() => encode.dataHeader('stdout', -1)).toThrow(RangeError);
  });

  it('return a fresh array each call', () => {
    const a = encode.ok();
    a[0] = 0;
    expect(text(encode.ok())).toBe('OK\n');
  });

  test.prop([fc.string({ unit: fc.integer({ min: 0, max: 255 }).filter((c) => c !== 10).map((c) => String.fromCharCode(c)), maxLength: 40 })], {
    numRuns: runs,
  })('error lines decode back to their message', (message) => {
    const d = new ReplyDecoder();
    d.push(encode.error(message));
    const e = d.next();
    expect(e).toEqual({ type: 'line', text: `ERROR: ${message}`, reply: { kind: 'error', message } });
  });
});
