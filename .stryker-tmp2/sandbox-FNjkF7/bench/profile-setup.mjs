#!/usr/bin/env node
// @ts-nocheck
// node bench/profile-setup.mjs [N] [PROFDIR]: N (default 300) sequential
// section-4 sessions (hello, option data, file 1024, run -> OK, then EOF)
// against one `stapsh --listen` started with `node --cpu-prof`; the guest's
// profile lands in PROFDIR (default ./.tmp/profile-setup) when it exits on
// SIGTERM. Prints the p50 setup time and the p50 of each reply. Every wait is
// bounded; the guest and the temp dir are removed on every exit path.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const n = Number(process.argv[2] ?? 300);
const profDir = resolve(process.argv[3] ?? join(ROOT, '.tmp', 'profile-setup'));
const dir = mkdtempSync(join(tmpdir(), 'stapflow-profile-'));
let guest = null;
const cleanup = () => {
  if (guest && guest.exitCode === null && guest.signalCode === null) guest.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => process.exit(130));

const bin = join(dir, 'bin');
mkdirSync(bin);
writeFileSync(join(bin, 'staprun'), '#!/bin/sh\nexec sleep 0.05\n');
chmodSync(join(bin, 'staprun'), 0o755);
const sock = join(dir, 'sock');
mkdirSync(profDir, { recursive: true });
guest = spawn(
  process.execPath,
  ['--cpu-prof', '--cpu-prof-dir', profDir, join(ROOT, 'bin', 'stapsh.js'), '--protocol-version', '4.8', '--listen', `unix:${sock}`, '--bindir', bin],
  { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, TMPDIR: dir } },
);
for (const end = Date.now() + 10_000; !existsSync(sock); await new Promise((r) => setTimeout(r, 10))) {
  if (Date.now() > end) throw new Error('the guest did not create its socket within 10 s');
}

const payload = Buffer.alloc(1024, 0x41);
const commands = [Buffer.from('option data\n'), Buffer.concat([Buffer.from('file 1024 m.ko\n'), payload]), Buffer.from('run\n')];
function session() {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    let last = t0;
    const steps = [];
    let buf = '';
    const s = connect(sock);
    const timer = setTimeout(() => {
      s.destroy();
      rej(new Error('session did not finish within 10 s'));
    }, 10_000);
    s.on('connect', () => s.write('stap 4.8\n'));
    s.on('data', (c) => {
      buf += c.toString('latin1');
      for (let nl; (nl = buf.indexOf('\n')) >= 0; ) {
        buf = buf.slice(nl + 1);
        if (steps.length === 4) continue;
        const now = performance.now();
        steps.push(now - last);
        last = now;
        if (steps.length < 4) s.write(commands[steps.length - 1]);
        else s.end();
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      if (steps.length === 4) res({ ms: steps.reduce((a, b) => a + b, 0), steps });
      else rej(new Error(`session closed after ${steps.length} replies`));
    });
  });
}
const results = [];
for (let i = 0; i < n + 5; i++) {
  const r = await session();
  if (i >= 5) results.push(r);
}
const p50 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `${n} sessions: setup p50 ${p50(results.map((r) => r.ms)).toFixed(2)} ms; per reply p50 hello/option/file/run ${[0, 1, 2, 3].map((k) => p50(results.map((r) => r.steps[k])).toFixed(2)).join(' / ')} ms`,
);
const exited = new Promise((r) => guest.once('exit', r));
guest.kill('SIGTERM');
await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
console.log(`guest profile written to ${profDir}`);
