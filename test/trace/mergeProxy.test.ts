/**
 * A real session through `stapsh-proxy` with all three tracing (our host
 * `stap-remote --trace`, the proxy `--trace`, our guest `stapsh --trace`
 * with the staprun stand-in): merged into one timeline, every frame once per
 * recording side and in the same order on each, the clocks aligned within
 * the stated error, the child's lane from the guest's trace. Needs `npm run build`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTrace, type TraceEvent, type TraceFrameEvent } from '../../trace/format.js';
import { mergeTraces } from '../../trace/merge.js';
import { renderText } from '../../trace/render.js';
import { killAll, removeTrackedTempDir, spawnTracked, trackedTempDir, waitForListening } from '../support/procs.js';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: string;
const files = { host: '', proxy: '', guest: '' };
let runStatus: number | null = null;
let runErr = '';

beforeAll(async () => {
  dir = trackedTempDir('stapflow-merge-');
  const bindir = join(dir, 'bin');
  mkdirSync(bindir);
  symlinkSync(join(ROOT, 'bin', 'staprun-standin.js'), join(bindir, 'staprun'));
  writeFileSync(join(dir, 'm.ko'), new Uint8Array(300).map((_, i) => i & 0xff));
  for (const k of Object.keys(files) as (keyof typeof files)[]) files[k] = join(dir, `${k}.jsonl`);
  const guestSock = join(dir, 'guest.sock');
  const proxySock = join(dir, 'proxy.sock');
  const guest = spawnTracked([process.execPath, join(ROOT, 'bin/stapsh.js'), '--listen', `unix:${guestSock}`, '--bindir', bindir, '--trace', files.guest], {
    env: { ...process.env, TMPDIR: dir },
  });
  await waitForListening(guestSock, 15_000);
  const proxy = spawnTracked([process.execPath, join(ROOT, 'bin/stapsh-proxy.js'), '--listen', `unix:${proxySock}`, '--connect', `unix:${guestSock}`, '--trace', files.proxy]);
  await waitForListening(proxySock, 15_000);
  // The module ends by itself after 3 ticks; `ticks=3` goes over the wire quoted-printable (`ticks=3D3`).
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/stap-remote.js'), `--remote=unix:${proxySock}`, '--trace', files.host, join(dir, 'm.ko'), 'ticks=3', 'interval=20', 'stderr=to err'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  runStatus = r.status;
  runErr = r.stderr;
  // Both flush their traces on SIGTERM.
  proxy.kill('SIGTERM');
  guest.kill('SIGTERM');
  await proxy.wait(15_000);
  await guest.wait(15_000);
}, 120_000);

afterAll(() => {
  killAll();
  removeTrackedTempDir(dir);
});

const framesOf = (events: readonly TraceEvent[], actor: string, dir: string) =>
  events.filter((e): e is TraceFrameEvent => e.kind === 'frame' && e.actor === actor && e.direction === dir && e.frame !== 'stderr');

describe('a session through stapsh-proxy traced by host, proxy and guest', () => {
  it('ran', () => {
    // The stand-in's `stderr=` line, relayed by our host.
    expect(runErr).toBe('to err\n');
    expect(runStatus).toBe(0);
  });

  it('merges into one session: every frame once per recording side, in order, the lanes aligned within the stated error', () => {
    const inputs = (['host', 'proxy', 'guest'] as const).map((k) => {
      const p = parseTrace(readFileSync(files[k], 'utf8'));
      expect(p.errors, k).toEqual([]);
      return { name: `${k}.jsonl`, header: p.header, events: p.events };
    });
    const merged = mergeTraces(inputs);
    // One merged session, matched by the hello nonce, three sides.
    expect(new Set(merged.events.map((e) => e.session)).size).toBe(1);
    expect(merged.members.map((m) => [m.actor, m.by])).toEqual([
      ['host', 'nonce'],
      ['proxy', 'nonce'],
      ['guest', 'nonce'],
    ]);
    // Every event of every input is there exactly once.
    expect(merged.events).toHaveLength(inputs.reduce((n, i) => n + i.events.length, 0));

    for (const direction of ['host->guest', 'guest->host'] as const) {
      const sides = (['host', 'proxy', 'guest'] as const).map((a) => framesOf(merged.events, a, direction));
      // Same frames on each side, in the same order: the lines the same, data bursts covering the same numbers.
      const lines = sides.map((fs) => fs.filter((f) => f.frame !== 'data').map((f) => `${f.seq} ${f.frame} ${f.summary}`));
      expect(lines[1]).toEqual(lines[0]);
      expect(lines[2]).toEqual(lines[0]);
      const counts = sides.map((fs) => fs.reduce((n, f) => n + (f.frame === 'data' ? (f.frames ?? 1) : 1), 0));
      expect(counts[1]).toBe(counts[0]);
      expect(counts[2]).toBe(counts[0]);
      const payload = sides.map((fs) => fs.reduce((n, f) => n + (f.frame === 'data' ? (f.size ?? 0) : 0), 0));
      expect(payload[1]).toBe(payload[0]);
      expect(payload[2]).toBe(payload[0]);
      for (const fs of sides) {
        // Numbers run 0, 1, 2… without a gap or a repeat on every side.
        let next = 0;
        for (const f of fs) {
          expect(f.seq).toBe(next);
          next += f.frame === 'data' ? (f.frames ?? 1) : 1;
        }
      }
    }
    // The module ends by itself: no quit from the host.
    expect(framesOf(merged.events, 'host', 'host->guest').map((f) => f.command ?? f.frame)).toEqual(['stap', 'option', 'option', 'file', 'payload', 'run']);

    // Aligned: each frame is seen by its receiver no earlier than its sender saw it, within the stated error.
    const proxy = merged.members.find((m) => m.actor === 'proxy')!;
    const guest = merged.members.find((m) => m.actor === 'guest')!;
    expect(proxy.error).not.toBeNull();
    expect(guest.error).not.toBeNull();
    expect(proxy.inconsistent).toBeUndefined();
    expect(guest.inconsistent).toBeUndefined();
    const err = { proxy: proxy.error!, guest: guest.error! };
    const at = (actor: string, direction: string, seq: number) =>
      merged.events.find((e): e is TraceFrameEvent => e.kind === 'frame' && e.actor === actor && e.direction === direction && e.seq === seq);
    for (const f of framesOf(merged.events, 'proxy', 'host->guest')) {
      const h = at('host', 'host->guest', f.seq!);
      const g = at('guest', 'host->guest', f.seq!);
      if (h) expect(f.t, `host→proxy ${f.summary}`).toBeGreaterThanOrEqual(h.t - err.proxy - 2e-6);
      if (g) expect(g.t, `proxy→guest ${f.summary}`).toBeGreaterThanOrEqual(f.t - err.guest - 2e-6);
    }
    for (const f of framesOf(merged.events, 'proxy', 'guest->host')) {
      const h = at('host', 'guest->host', f.seq!);
      const g = at('guest', 'guest->host', f.seq!);
      if (h) expect(h.t, `proxy→host ${f.summary}`).toBeGreaterThanOrEqual(f.t - err.proxy - 2e-6);
      if (g) expect(f.t, `guest→proxy ${f.summary}`).toBeGreaterThanOrEqual(g.t - err.guest - 2e-6);
    }

    // The child's lane, from the guest's trace: spawned, then exited with 0 after its 3 ticks.
    const child = merged.events.filter((e) => e.kind === 'child');
    expect(child.map((e) => (e.kind === 'child' ? e.what : ''))).toEqual(expect.arrayContaining(['spawned', 'exited']));
    expect(child.every((e) => e.origin === 'guest:guest.jsonl')).toBe(true);
    // All three machines' state changes are on the timeline.
    expect(new Set(merged.events.flatMap((e) => (e.kind === 'state' ? [e.machine] : [])))).toEqual(expect.objectContaining(new Set(['hostSession', 'guestStapsh'])));
    expect(merged.events.some((e) => e.kind === 'state' && e.machine === 'hostSession')).toBe(true);
    expect(merged.events.some((e) => e.kind === 'state' && e.machine === 'guestStapsh')).toBe(true);
  });

  it('stapsh-trace merge writes it, states the alignment, and render FILE… shows one timeline with pairs and decoded arguments', () => {
    const out = join(dir, 'merged.jsonl');
    const m = spawnSync(process.execPath, [join(ROOT, 'bin/stapsh-trace.js'), 'merge', files.host, files.proxy, files.guest, '-o', out], { encoding: 'utf8' });
    expect(m.status, m.stderr).toBe(0);
    expect(m.stderr).toMatch(/stapsh-trace: proxy proxy\.jsonl#\S+ → \S+: offset [+-]\d+\.\d+ ms ± \d+\.\d+ ms, from \d+ frames seen by both it and host\.jsonl#/);
    expect(m.stderr).toMatch(/stapsh-trace: guest guest\.jsonl#\S+ → \S+: offset [+-]\d+\.\d+ ms ± \d+\.\d+ ms/);
    const parsed = parseTrace(readFileSync(out, 'utf8'));
    expect(parsed.errors).toEqual([]);
    expect(parsed.header?.merged).toHaveLength(3);
    const text = spawnSync(process.execPath, [join(ROOT, 'bin/stapsh-trace.js'), 'render', files.host, files.proxy, files.guest], { encoding: 'utf8' });
    expect(text.status, text.stderr).toBe(0);
    // The merged file renders as the merge it holds (times kept to the microsecond).
    const again = spawnSync(process.execPath, [join(ROOT, 'bin/stapsh-trace.js'), 'render', out], { encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout.split('\n').length).toBe(text.stdout.split('\n').length);
    expect(renderText(parsed.events, parsed.header)).toBe(again.stdout);
    expect(text.stdout).toMatch(/host {2}host → guest {2}run -R \.\/m\.ko ticks=3 interval=20 "stderr=to err" -r 0:unix:\S+ {2}\[raw: run -R \.\/m\.ko ticks=3D3 interval=3D20 stderr=3Dto=20err -r 0:unix:\S+\] {2}\(\d+ B\) {2}\[run → OK \d+\.\d+ ms\]/);
    expect(text.stdout).toMatch(/proxy host → guest {2}run .*\[run → OK \d+\.\d+ ms\]/);
    expect(text.stdout).toMatch(/\[child\] spawned pid \d+/);
    expect(text.stdout).toMatch(/^phases of session \S+ \(host's clock\)$/m);
  });
});
