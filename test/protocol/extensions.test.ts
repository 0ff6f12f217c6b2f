import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { latin1 } from '../../protocol/bytes.js';
import * as encode from '../../protocol/encode.js';
import { nonceWord, parseNonceWord, parseStatusLine, STATUS_OPTION, statusText, type ChildStatus } from '../../protocol/extensions.js';
import { classifyReply } from '../../protocol/replyDecoder.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 200);
const token = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const status: fc.Arbitrary<ChildStatus> = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((code) => ({ kind: 'exited' as const, code })),
  fc.integer({ min: 1, max: 127 }).map((number) => ({ kind: 'signalled' as const, number })),
);

describe('stapflow extensions on the wire', () => {
  test.prop([status], { numRuns: runs })('a status line reads back as what it says', (s) => {
    expect(parseStatusLine(statusText(s))).toEqual(s);
    expect(latin1(encode.statusLine(s))).toBe(`${statusText(s)}\n`);
  });

  it('spells status as `status CODE` and `status signal NUM`, and nothing else parses', () => {
    expect(statusText({ kind: 'exited', code: 3 })).toBe('status 3');
    expect(statusText({ kind: 'signalled', number: 9 })).toBe('status signal 9');
    for (const bad of ['status', 'status 256', 'status -1', 'status signal 0', 'status signal 128', 'status 3 ', 'status  3', 'status signal', 'status x', 'STATUS 3']) {
      expect(parseStatusLine(bad), bad).toBeNull();
    }
    expect(() => statusText({ kind: 'exited', code: 300 })).toThrow(RangeError);
  });

  it('bounds status lines at both ends: codes 0..255, signals 1..127, integers only', () => {
    expect(statusText({ kind: 'exited', code: 0 })).toBe('status 0');
    expect(statusText({ kind: 'exited', code: 255 })).toBe('status 255');
    expect(statusText({ kind: 'signalled', number: 1 })).toBe('status signal 1');
    expect(statusText({ kind: 'signalled', number: 127 })).toBe('status signal 127');
    for (const code of [-1, 256, 1.5]) expect(() => statusText({ kind: 'exited', code })).toThrow(`exit code out of 0..255: ${code}`);
    for (const number of [0, 128, 2.5]) expect(() => statusText({ kind: 'signalled', number })).toThrow(`signal number out of 1..127: ${number}`);
    expect(parseStatusLine('status 255')).toEqual({ kind: 'exited', code: 255 });
    expect(parseStatusLine('status 0')).toEqual({ kind: 'exited', code: 0 });
    expect(parseStatusLine('status signal 1')).toEqual({ kind: 'signalled', number: 1 });
    expect(parseStatusLine('status signal 127')).toEqual({ kind: 'signalled', number: 127 });
    // Only a whole line is a status line.
    for (const bad of ['xstatus 3', ' status 3', 'data status 3']) expect(parseStatusLine(bad), bad).toBeNull();
    // The word a host sends to ask for it.
    expect(latin1(encode.option(STATUS_OPTION))).toBe('option status\n');
  });

  test.prop([token], { numRuns: runs })('a nonce word reads back as its token, in both hellos', (t) => {
    expect(parseNonceWord(nonceWord(t))).toBe(t);
    expect(latin1(encode.hello('4.8', t))).toBe(`stap 4.8 nonce=${t}\n`);
    const reply = latin1(encode.helloReply('4.8', 'x86_64', '6.1.0', t)).trimEnd();
    expect(classifyReply(reply)).toEqual({ kind: 'hello', version: '4.8', machine: 'x86_64', release: '6.1.0', nonce: t });
  });

  it('refuses tokens a word cannot carry, and a fifth word that is not a nonce is no hello', () => {
    for (const bad of ['', 'a b', 'a\nb', 'x'.repeat(65), 'é']) expect(() => nonceWord(bad), JSON.stringify(bad)).toThrow(RangeError);
    expect(() => nonceWord('a b')).toThrow('a nonce is 1-64 of [A-Za-z0-9_-]: "a b"');
    expect(parseNonceWord('nonce=')).toBeNull();
    expect(parseNonceWord('Nonce=abc')).toBeNull();
    expect(classifyReply('stapsh 4.8 x86_64 6.1.0 extra')).toEqual({ kind: 'other' });
    // Without a nonce, the hello is SystemTap's four words.
    expect(latin1(encode.hello('4.8'))).toBe('stap 4.8\n');
  });
});
