/** Errors in words (cli/common/words.ts) from real system errors, and the one-line usage message (cli/common/cli.ts). */
// @ts-nocheck


import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cannot, describeError } from '../../cli/common/words.js';
import { usageLine } from '../../cli/common/cli.js';
import { connectUnix } from '../../transports/unixSocket.js';

const dir = mkdtempSync(join(tmpdir(), 'stapflow-words-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

describe('errors in words', () => {
  it('a directory read as a file: "is a directory", not EISDIR', () => {
    const error = thrown(() => readFileSync(dir));
    expect(String(error)).toContain('EISDIR'); // what Node says
    expect(cannot('read module', dir, error)).toBe(`cannot read module ${dir}: is a directory`);
    expect(describeError(error)).toBe('is a directory'); // Node's EISDIR on read names no path
  });

  it('a missing file: names the path once', () => {
    const missing = join(dir, 'nope');
    const error = thrown(() => readFileSync(missing));
    expect(describeError(error)).toBe(`${missing}: no such file or directory`);
    expect(cannot('read', missing, error)).toBe(`cannot read ${missing}: no such file or directory`);
    expect(cannot('read trace', 'the trace', error)).toBe(`cannot read trace the trace (${missing}): no such file or directory`);
  });

  it("a transport's error keeps its context, the errno text in words", async () => {
    const sock = join(dir, 'nobody.sock');
    const error = await connectUnix(sock, { timeoutMs: 5_000 }).then(
      () => null,
      (e: unknown) => e,
    );
    const text = describeError(error);
    expect(text).toContain(sock);
    expect(text).toContain('no such file or directory');
    expect(text).not.toMatch(/\bENOENT\b/);
  });

  it('anything else is its message', () => {
    expect(describeError(new Error('plain'))).toBe('plain');
    expect(describeError('text')).toBe('text');
  });
});

describe('usage line', () => {
  it("folds commander's message and suggestion into one line ending with see --help", () => {
    expect(usageLine('stap-remote', "error: unknown option '--remot'\n(Did you mean --remote?)\n")).toBe(
      "stap-remote: unknown option '--remot' (Did you mean --remote?); see 'stap-remote --help'\n",
    );
    expect(usageLine('stapsh-trace render', "error: missing required argument 'FILE'\n")).toBe(
      "stapsh-trace render: missing required argument 'FILE'; see 'stapsh-trace render --help'\n",
    );
  });
});
