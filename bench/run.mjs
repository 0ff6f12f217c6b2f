#!/usr/bin/env node
// npm run bench [-- --quick]: our guest and SystemTap's stapsh side by side,
// alternating runs, medians and ratios. Figures go to BENCHMARKS.md by hand
// from this output, with the command that produced them.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

const quick = process.argv.includes('--quick');
const ROOT = resolve(import.meta.dirname, '..');
const OUR = join(ROOT, 'bin', 'stapsh.js');
const REAL = '/usr/lib/systemtap/stapsh';
const MiB = 1024 * 1024;
const size = (quick ? 64 : 256) * MiB;
const runs = quick ? 3 : 5;

const dir = mkdtempSync(join(tmpdir(), 'stapflow-bench-'));
const bindir = join(dir, 'bin');
mkdirSync(bindir);
const child = join(bindir, 'staprun');
writeFileSync(child, `#!/bin/sh\nexec head -c ${size} /dev/zero\n`);
chmodSync(child, 0o755);
const haveReal = existsSync(REAL) && spawnSync('unshare', ['-m', 'true']).status === 0;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One data-mode streaming session: time from `run` to the guest's exit, bytes framed, peak RSS. */
function stream(which) {
  return new Promise((resolvePromise, reject) => {
    const argv =
      which === 'ours'
        ? [process.execPath, OUR, '--protocol-version', '4.8', '--bindir', bindir]
        : ['unshare', '-m', 'sh', '-c', 'mount --bind "$0" /usr/bin/staprun && exec "$@"', child, REAL];
    const timeArgv = ['/usr/bin/env', 'time', '-f', 'maxrss_kb=%M', ...argv];
    const useTime = existsSync('/usr/bin/time');
    const p = spawn(useTime ? '/usr/bin/time' : argv[0], useTime ? ['-f', 'maxrss_kb=%M', ...argv] : argv.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, TMPDIR: dir },
    });
    void timeArgv;
    let payload = 0;
    let header = '';
    let left = 0;
    let started = 0;
    let stderr = '';
    p.stderr.setEncoding('latin1').on('data', (s) => (stderr += s));
    // A tiny data-frame reader: count payload bytes, skip headers.
    p.stdout.on('data', (chunk) => {
      let i = 0;
      while (i < chunk.length) {
        if (left > 0) {
          const n = Math.min(left, chunk.length - i);
          payload += n;
          left -= n;
          i += n;
          continue;
        }
        const nl = chunk.indexOf(10, i);
        if (nl < 0) {
          header += chunk.toString('latin1', i);
          break;
        }
        header += chunk.toString('latin1', i, nl);
        i = nl + 1;
        const m = /^data (stdout|stderr) (\d+)$/.exec(header);
        if (m) left = Number(m[2]);
        header = '';
      }
    });
    p.stdin.write('stap 4.8\noption data\n');
    setTimeout(() => {
      started = performance.now();
      p.stdin.write('run\n');
    }, 300);
    p.once('error', reject);
    p.once('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      const rss = Number(/maxrss_kb=(\d+)/.exec(stderr)?.[1] ?? NaN);
      resolvePromise({ seconds, payload, code, rssMiB: rss / 1024 });
    });
  });
}

/** The ceiling: the child straight into a reader through one pipe. */
function rawPipe() {
  return new Promise((resolvePromise) => {
    const t0 = performance.now();
    const p = spawn(child, [], { stdio: ['ignore', 'pipe', 'inherit'] });
    let n = 0;
    p.stdout.on('data', (c) => (n += c.length));
    p.once('close', () => resolvePromise({ seconds: (performance.now() - t0) / 1000, payload: n }));
  });
}

console.log(`# stapflow bench${quick ? ' (quick)' : ''}: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`);
console.log(`## 1. guest data-mode streaming: child writes ${size / MiB} MiB to stdout; time from run to guest exit; ${runs} alternating runs`);
const results = { ours: [], real: [], raw: [] };
for (let i = 0; i < runs; i++) {
  results.raw.push(await rawPipe());
  results.ours.push(await stream('ours'));
  if (haveReal) results.real.push(await stream('real'));
}
const rate = (r) => r.payload / MiB / r.seconds;
const row = (name, rs) => {
  if (rs.length === 0) return null;
  const mibs = median(rs.map(rate));
  const rss = median(rs.map((r) => r.rssMiB ?? NaN));
  const lost = rs.map((r) => size - r.payload);
  console.log(
    `${name.padEnd(22)} median ${mibs.toFixed(0).padStart(6)} MiB/s  peak RSS ${Number.isNaN(rss) ? '   n/a' : rss.toFixed(0).padStart(4) + ' MiB'}  bytes lost per run: ${lost.join(', ')}`,
  );
  return mibs;
};
const raw = row('raw pipe (ceiling)', results.raw);
const ours = row('stapflow stapsh', results.ours);
const real = row('SystemTap stapsh 4.8', results.real);
if (real) console.log(`ratio ours/real: ${(ours / real).toFixed(2)}x   (goal >= 1.5x)`);
console.log(`ours/raw pipe: ${((ours / raw) * 100).toFixed(0)}%   (goal >= 60%)`);
if (!haveReal) console.log('SystemTap stapsh not runnable here (needs systemtap-runtime and root for unshare -m): no ratio');

// ---- 2. host decode: data frames from a file through our decoder ----------
{
  const { ReplyDecoder } = await import('../dist/protocol/replyDecoder.js');
  const { createReadStream, openSync, writeSync, closeSync } = await import('node:fs');
  const framesFile = join(dir, 'frames.bin');
  const payload = Buffer.alloc(4096, 0x61);
  const frame = Buffer.concat([Buffer.from('data stdout 4096\n'), payload]);
  const block = Buffer.concat(Array.from({ length: 256 }, () => frame));
  const fd = openSync(framesFile, 'w');
  for (let n = 0; n < size; n += 256 * 4096) writeSync(fd, block);
  closeSync(fd);
  console.log(`## 2. host decode: ${size / MiB} MiB of 4 KiB data frames from a file through ReplyDecoder to a sink; ${runs} runs`);
  const rates = [];
  for (let i = 0; i < runs; i++) {
    const d = new ReplyDecoder({ mode: 'framed' });
    let got = 0;
    const sink = (e) => {
      if (e.type === 'data') got += e.bytes.length;
    };
    const t0 = performance.now();
    await new Promise((res, rej) => {
      createReadStream(framesFile, { highWaterMark: 1024 * 1024 })
        .on('data', (c) => d.push(c, sink))
        .on('end', res)
        .on('error', rej);
    });
    rates.push(got / MiB / ((performance.now() - t0) / 1000));
  }
  console.log(`stapflow host decode     median ${median(rates).toFixed(0).padStart(6)} MiB/s   (goal >= 1024 MiB/s; SystemTap's host: ~760 MiB/s for orientation)`);
}

// ---- 3. upload: a 32 MB module through `file` to each guest ---------------
{
  const uploadSize = 32_000_000;
  const body = Buffer.alloc(uploadSize, 0x5a);
  const upload = (which) =>
    new Promise((res, rej) => {
      const argv =
        which === 'ours'
          ? [process.execPath, OUR, '--protocol-version', '4.8', '--bindir', bindir]
          : [REAL];
      const p = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, TMPDIR: dir } });
      let out = '';
      let t0 = 0;
      p.stdout.setEncoding('latin1').on('data', (s) => {
        out += s;
        if (out.includes('\n') && t0 === 0) {
          t0 = performance.now();
          p.stdin.write(`file ${uploadSize} big.ko\n`);
          p.stdin.write(body);
        } else if (t0 !== 0 && /OK\n$/.test(out)) {
          const seconds = (performance.now() - t0) / 1000;
          p.stdin.end();
          res(uploadSize / MiB / seconds);
        }
      });
      p.once('error', rej);
      p.stdin.write('stap 4.8\n');
    });
  console.log(`## 3. upload: a 32 MB module through file, from header to OK; ${runs} alternating runs`);
  const up = { ours: [], real: [] };
  for (let i = 0; i < runs; i++) {
    up.ours.push(await upload('ours'));
    if (existsSync(REAL)) up.real.push(await upload('real'));
  }
  const o = median(up.ours);
  console.log(`stapflow stapsh          median ${o.toFixed(0).padStart(6)} MiB/s`);
  if (up.real.length) {
    const r = median(up.real);
    console.log(`SystemTap stapsh 4.8     median ${r.toFixed(0).padStart(6)} MiB/s   ratio ours/real ${(o / r).toFixed(2)}x`);
  }
}


// ---- 5. scale: concurrent in-memory sessions (the machines alone) --------
{
  const { runMemorySession } = await import('../dist/agents/memory/session.js');
  const n = quick ? 200 : 1000;
  console.log(`## 5. scale: ${n} concurrent in-memory sessions in one process (host + guest machines, scripted child)`);
  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  let lagMax = 0;
  let last = performance.now();
  const lag = setInterval(() => {
    const now = performance.now();
    lagMax = Math.max(lagMax, now - last - 10);
    last = now;
  }, 10);
  // Hold every session open at its peak: children that run until interrupted.
  const t0 = performance.now();
  let heapPeak = heap0;
  const sessions = Array.from({ length: n }, () =>
    runMemorySession({ child: { start: [['stdout', 'tick\n']], onHup: [['stdout', 'end\n']] }, interruptAfterMs: 200, replyTimeoutMs: 30_000 }),
  );
  const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 20);
  const results = await Promise.all(sessions);
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  clearInterval(lag);
  const ok = results.filter((r) => r.host.ok).length;
  console.log(`sessions ok ${ok}/${n}; ${(n / seconds).toFixed(0)} sessions/s including the 200 ms each runs; peak heap per live session ${((heapPeak - heap0) / n / 1024).toFixed(1)} KiB (goal <= 100 KB); max event-loop lag ${lagMax.toFixed(0)} ms`);
}

rmSync(dir, { recursive: true, force: true });
