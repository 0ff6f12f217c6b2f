// @ts-nocheck
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Observable } from 'rxjs';
import ts from 'typescript';

/** How an `incoming$` ended, with everything it delivered. */
export interface Collected {
  readonly bytes: Buffer;
  readonly chunks: number;
  readonly end: 'complete' | 'error' | 'timeout';
  readonly error?: unknown;
  readonly completions: number;
}

/** Subscribe and gather until the stream ends or `timeoutMs` passes. */
export function collect(source: Observable<Uint8Array>, timeoutMs = 5000): Promise<Collected> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let completions = 0;
    let settled = false;
    const finish = (end: Collected['end'], error?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Let a second (wrong) completion show up before we report.
      setTimeout(() => {
        sub.unsubscribe();
        resolve({ bytes: Buffer.concat(parts), chunks: parts.length, end, completions, ...(error === undefined ? {} : { error }) });
      }, 10);
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    const sub = source.subscribe({
      next: (c) => parts.push(Buffer.from(c)),
      error: (e: unknown) => {
        completions++;
        finish('error', e);
      },
      complete: () => {
        completions++;
        finish('complete');
      },
    });
  });
}

/** Wait for `n` bytes on `source` (subscribing), bounded. */
export function readBytes(source: Observable<Uint8Array>, n: number, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new Error(`timed out after ${timeoutMs} ms with ${got}/${n} bytes`));
    }, timeoutMs);
    const sub = source.subscribe({
      next: (c) => {
        parts.push(Buffer.from(c));
        got += c.length;
        if (got >= n) {
          clearTimeout(timer);
          queueMicrotask(() => sub.unsubscribe());
          resolve(Buffer.concat(parts));
        }
      },
      error: (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
      complete: () => {
        clearTimeout(timer);
        reject(new Error(`EOF after ${got}/${n} bytes`));
      },
    });
  });
}

export { within } from '../support/procs.js';

/** Does `promise` settle within `ms`? */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return r;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Open fds of this process. */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Wait (bounded) until the fd count is back to `before`; returns the last count. */
export async function settleFds(before: number, ms = 2000): Promise<number> {
  const end = Date.now() + ms;
  let now = fdCount();
  while (now > before && Date.now() < end) {
    await sleep(20);
    now = fdCount();
  }
  return now;
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `stapflow-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Transpile `transports/*.ts` to JS under `.tmp/` so a child `node` (which
 * cannot load TypeScript on Node 20) can import them; rxjs resolves from the
 * project's node_modules. Returns the directory holding the .js files.
 */
export function transpiledTransports(): string {
  const out = join(root, '.tmp', `transports-${process.pid}`, 'transports');
  mkdirSync(out, { recursive: true });
  const src = join(root, 'transports');
  for (const f of readdirSync(src)) {
    if (!f.endsWith('.ts')) continue;
    const js = ts.transpileModule(readFileSync(join(src, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    writeFileSync(join(out, f.replace(/\.ts$/, '.js')), js);
  }
  return out;
}

export function removeTranspiled(dir: string): void {
  rmSync(dirname(dir), { recursive: true, force: true });
}
