#!/usr/bin/env node
// @ts-nocheck
// npm run bench [-- --quick]: our guest and SystemTap's stapsh side by side,
// alternating runs, medians and ratios. Figures go to BENCHMARKS.md by hand
// from this output, with the command that produced them.
// Every process the bench starts is tracked and killed, and its temp dir
// removed, on every exit path (normal end, error, SIGINT/SIGTERM/SIGHUP);
// every wait is bounded.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const quick = process.argv.includes('--quick');
/** `--only=1,7`: run only those sections (for working on one; BENCHMARKS.md figures come from whole runs). */
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const want = (section) => only === undefined || only.includes(section);
const ROOT = resolve(import.meta.dirname, '..');
const OUR = join(ROOT, 'bin', 'stapsh.js');
const REAL = '/usr/lib/systemtap/stapsh';
const MiB = 1024 * 1024;
const size = (quick ? 64 : 256) * MiB;
const runs = quick ? 3 : 5;

const dir = mkdtempSync(join(tmpdir(), 'stapflow-bench-'));

// ---- process tracking and cleanup on every exit path ----------------------
/** Processes started by the bench and not yet exited; `group`: started detached, killed by process group. */
const live = new Map();
function track(p, group = false) {
  if (p.pid === undefined) return p;
  live.set(p, group);
  p.once('exit', () => live.delete(p));
  return p;
}
function killTracked(p, signal) {
  try {
    if (live.get(p)) process.kill(-p.pid, signal);
    else p.kill(signal);
  } catch {
    // already gone
  }
}
let cleanedUp = false;
function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const p of live.keys()) killTracked(p, 'SIGKILL');
  live.clear();
  rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    process.stderr.write(`bench: ${signal}, cleaning up\n`);
    cleanup();
    process.exit(130);
  });
}
/** Kill a tracked process if it has not exited within `ms`; returns a function that cancels the timer. */
function deadline(p, ms, onFire) {
  const t = setTimeout(() => {
    onFire?.();
    killTracked(p, 'SIGKILL');
  }, ms);
  return () => clearTimeout(t);
}
/** A promise bounded by `ms`: rejects with a clear message when it takes longer. */
function within(promise, ms, what) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, reject) => (t = setTimeout(() => reject(new Error(`bench: ${what} did not finish within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(t));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Stop a tracked process: `signal` first, SIGKILL (its group when detached) after `ms`; bounded. */
async function stopProcess(p, signal = 'SIGTERM', ms = 5000) {
  if (!live.has(p)) return;
  const group = live.get(p);
  const exited = new Promise((r) => p.once('exit', r));
  killTracked(p, signal);
  const t = setTimeout(() => killTracked(p, 'SIGKILL'), ms);
  await within(exited, ms + 2000, `stopping pid ${p.pid}`).finally(() => clearTimeout(t));
  if (group) {
    try {
      process.kill(-p.pid, 'SIGKILL'); // whatever of its group outlived it
    } catch {
      // none left
    }
  }
}
const bindir = join(dir, 'bin');
mkdirSync(bindir);
const child = join(bindir, 'staprun');
writeFileSync(child, `#!/bin/sh\nexec head -c ${size} /dev/zero\n`);
chmodSync(child, 0o755);
const haveReal = existsSync(REAL) && spawnSync('unshare', ['-m', 'true']).status === 0;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One data-mode streaming session: time from `run` to the guest's exit, bytes framed, peak RSS. */
function stream(which, extraArgs = []) {
  return new Promise((resolvePromise, reject) => {
    const argv =
      which === 'ours'
        ? [process.execPath, OUR, '--protocol-version', '4.8', '--bindir', bindir, ...extraArgs]
        : ['unshare', '-m', 'sh', '-c', 'mount --bind "$0" /usr/bin/staprun && exec "$@"', child, REAL];
    const timeArgv = ['/usr/bin/env', 'time', '-f', 'maxrss_kb=%M', ...argv];
    const useTime = existsSync('/usr/bin/time');
    const p = spawn(useTime ? '/usr/bin/time' : argv[0], useTime ? ['-f', 'maxrss_kb=%M cpu_s=%U %S', ...argv] : argv.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, TMPDIR: dir },
    });
    track(p);
    let timedOut = false;
    const cancel = deadline(p, 300_000, () => (timedOut = true));
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
      cancel();
      if (timedOut) return reject(new Error(`bench: ${which} streaming run did not end within 300 s`));
      const seconds = (performance.now() - started) / 1000;
      const rss = Number(/maxrss_kb=(\d+)/.exec(stderr)?.[1] ?? NaN);
      const cpu = /cpu_s=([\d.]+) ([\d.]+)/.exec(stderr);
      resolvePromise({ seconds, payload, code, rssMiB: rss / 1024, cpuSeconds: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN });
    });
  });
}

/** The ceiling: the child straight into a reader through one pipe. */
function rawPipe() {
  return new Promise((resolvePromise) => {
    const t0 = performance.now();
    const p = track(spawn(child, [], { stdio: ['ignore', 'pipe', 'inherit'] }));
    const cancel = deadline(p, 300_000);
    let n = 0;
    p.stdout.on('data', (c) => (n += c.length));
    p.once('close', () => {
      cancel();
      resolvePromise({ seconds: (performance.now() - t0) / 1000, payload: n });
    });
  });
}

console.log(`# stapflow bench${quick ? ' (quick)' : ''}: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`);
const rate = (r) => r.payload / MiB / r.seconds;
if (want('1')) {
console.log(`## 1. guest data-mode streaming: child writes ${size / MiB} MiB to stdout; time from run to guest exit; ${runs} alternating runs`);
const results = { ours: [], real: [], raw: [] };
for (let i = 0; i < runs; i++) {
  results.raw.push(await rawPipe());
  results.ours.push(await stream('ours'));
  if (haveReal) results.real.push(await stream('real'));
}
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
}

// ---- 2. host decode: data frames from a file through our decoder ----------
if (want('2')) {
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
if (want('3')) {
  const uploadSize = 32_000_000;
  const body = Buffer.alloc(uploadSize, 0x5a);
  const upload = (which) =>
    new Promise((res, rej) => {
      const argv =
        which === 'ours'
          ? [process.execPath, OUR, '--protocol-version', '4.8', '--bindir', bindir]
          : [REAL];
      const p = track(spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, TMPDIR: dir } }));
      const cancel = deadline(p, 120_000, () => rej(new Error(`bench: ${which} upload did not finish within 120 s`)));
      p.once('close', cancel);
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

// ---- helpers for sessions over unix sockets (sections 4 and 5b) -----------
const RETRYABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EAGAIN']);

/** Wait (bounded) until `path` exists. */
async function waitForFile(path, ms, what) {
  const end = performance.now() + ms;
  while (!existsSync(path)) {
    if (performance.now() > end) throw new Error(`bench: ${what}: ${path} did not appear within ${ms} ms`);
    await sleep(5);
  }
}

/**
 * One session over a unix socket, each command sent only after the previous
 * reply (SystemTap's guest handles one line per poll wake-up): `stap 4.8` →
 * hello, `option data` → OK, `file 1024 m.ko` + 1024 bytes → OK, `run` → OK.
 * `setupMs`: from the start of the connect that succeeded to the run's OK
 * (ECONNREFUSED/ENOENT/EAGAIN retried, bounded). Then `afterRun`:
 * 'end' half-closes at once (the guest hangs up its child and closes);
 * 'drain' reads data frames until the guest says `quit` and closes.
 * Never rejects: { ok, setupMs, steps, stdout, quit, error }.
 */
function unixSession(sock, { afterRun = 'end', timeoutMs = 15_000 } = {}) {
  const payload = Buffer.alloc(1024, 0x7f);
  const commands = [
    Buffer.from('option data\n'),
    Buffer.concat([Buffer.from('file 1024 m.ko\n'), payload]),
    Buffer.from('run\n'),
  ];
  const start = performance.now();
  return new Promise((resolvePromise) => {
    let s = null;
    let done = false;
    let t0 = 0;
    let step = 0; // replies received: 0 hello, 1 option, 2 file, 3 run
    const steps = [];
    let last = 0;
    let setupMs = null;
    let buf = Buffer.alloc(0);
    let frameLeft = 0;
    let frameStream = '';
    let stdout = '';
    let quit = false;
    let error = null;
    const timer = setTimeout(() => finish(`no end within ${timeoutMs} ms (after ${step} replies)`), timeoutMs);
    function finish(err) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err && error === null) error = err;
      s?.destroy();
      const ok = error === null && setupMs !== null && (afterRun !== 'drain' || (quit && stdout === 'hi\n'));
      resolvePromise({ ok, setupMs, steps, stdout, quit, error });
    }
    function onLine(line) {
      if (line.startsWith('stapsh:')) return; // debug lines
      if (step < 4) {
        const good = step === 0 ? /^stapsh \S+ \S+ \S+$/.test(line) : line === 'OK';
        if (!good) return finish(`unexpected reply ${JSON.stringify(line)} after ${step} replies`);
        const now = performance.now();
        steps.push(now - last);
        last = now;
        step++;
        if (step < 4) return void s.write(commands[step - 1]);
        setupMs = now - t0;
        if (afterRun === 'end') s.end();
        return;
      }
      const m = /^data (stdout|stderr) (\d+)$/.exec(line);
      if (m) {
        frameStream = m[1];
        frameLeft = Number(m[2]);
      } else if (line === 'quit') quit = true;
      else if (afterRun === 'drain') finish(`unexpected line ${JSON.stringify(line)} after run`);
    }
    function attempt() {
      t0 = performance.now();
      last = t0;
      s = connect(sock);
      let connected = false;
      s.once('connect', () => {
        connected = true;
        s.write('stap 4.8\n');
      });
      s.on('data', (chunk) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        while (buf.length && !done) {
          if (frameLeft > 0) {
            const n = Math.min(frameLeft, buf.length);
            if (frameStream === 'stdout') stdout += buf.toString('latin1', 0, n);
            frameLeft -= n;
            buf = buf.subarray(n);
            continue;
          }
          const nl = buf.indexOf(10);
          if (nl < 0) break;
          const line = buf.toString('latin1', 0, nl);
          buf = buf.subarray(nl + 1);
          onLine(line);
        }
      });
      s.on('error', (e) => {
        if (setupMs !== null && afterRun === 'end') return finish(null); // the session is set up; its teardown is not measured
        if (!connected && RETRYABLE.has(e.code) && performance.now() - start < timeoutMs - 1000) {
          s.destroy();
          setTimeout(() => !done && attempt(), 10);
          return;
        }
        finish(`${e.code ?? e.message} after ${step} replies`);
      });
      s.on('close', () => {
        if (!connected) return; // a retried connect
        if (setupMs === null) finish(`closed after ${step} replies`);
        else finish(null);
      });
    }
    attempt();
  });
}

/** p-th percentile (nearest rank) of a list of numbers. */
function percentile(xs, p) {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Start our guest on a unix socket (one process serving every session). */
async function startOurListener(sock, bin, { preload = null, env = {} } = {}) {
  const argv = [...(preload ? ['-r', preload] : []), OUR, '--protocol-version', '4.8', '--listen', `unix:${sock}`, '--bindir', bin];
  const p = track(spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, TMPDIR: dir, ...env } }), true);
  p.stderr.setEncoding('utf8').on('data', (s) => process.stderr.write(`[our guest] ${s}`));
  await waitForFile(sock, 10_000, 'our guest --listen');
  return p;
}

/**
 * Serve SystemTap's guest on a unix socket as its users do: socat forks and
 * execs one stapsh per connection. socat itself runs in one private mount
 * namespace (`unshare -m`) where the scripted child is bind-mounted over
 * /usr/bin/staprun, so each session pays exactly the deployed cost (fork +
 * exec of stapsh), not a namespace and a mount per connection.
 */
async function startRealListener(sock, stapRunScript) {
  const p = track(
    spawn(
      'unshare',
      ['-m', 'sh', '-c', 'mount --bind "$0" /usr/bin/staprun && exec socat "$1" "$2"', stapRunScript, `UNIX-LISTEN:${sock},fork`, `EXEC:${REAL}`],
      { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, TMPDIR: dir } },
    ),
    true,
  );
  // socat logs each stapsh that exits non-zero (129 when a session ends by EOF and its child is hung up): not news.
  p.stderr.setEncoding('utf8').on('data', (s) => {
    for (const l of s.split('\n')) if (l && !/E waitpid\(\): child \d+ exited with status/.test(l)) process.stderr.write(`[socat] ${l}\n`);
  });
  await waitForFile(sock, 10_000, 'socat UNIX-LISTEN');
  return p;
}

// ---- 4. session setup latency over a unix socket --------------------------
if (want('4')) {
  const sessionsEach = quick ? 40 : 200;
  const warmup = 5;
  const bin4 = join(dir, 'bin4');
  mkdirSync(bin4);
  // A child that exits at once makes SystemTap's guest race (it sometimes
  // says `quit` without the `OK` to `run`): both guests get one that sleeps 50 ms.
  const child4 = join(bin4, 'staprun');
  writeFileSync(child4, '#!/bin/sh\nexec sleep 0.05\n');
  chmodSync(child4, 0o755);
  const haveSocat = existsSync('/usr/bin/socat');
  console.log(
    `## 4. session setup over a unix socket: connect, hello, option data, file 1024, run -> OK; ${sessionsEach} alternating sessions each after ${warmup} warm-up (child: sleep 0.05)`,
  );
  const ourSock = join(dir, 'ours4.sock');
  const realSock = join(dir, 'real4.sock');
  const ourGuest = await startOurListener(ourSock, bin4);
  const realGuest = haveReal && haveSocat ? await startRealListener(realSock, child4) : null;
  const got = { ours: [], real: [] };
  const failures = { ours: [], real: [] };
  for (let i = 0; i < warmup + sessionsEach; i++) {
    for (const [which, sock] of [['ours', ourSock], ...(realGuest ? [['real', realSock]] : [])]) {
      const r = await unixSession(sock, { afterRun: 'end' });
      if (i < warmup) continue;
      if (r.ok) got[which].push(r);
      else failures[which].push(r.error);
    }
  }
  const line = (name, which) => {
    const ms = got[which].map((r) => r.setupMs);
    const stepP50 = [0, 1, 2, 3].map((k) => percentile(got[which].map((r) => r.steps[k]), 50).toFixed(2));
    const fails = failures[which].length ? `; failed: ${[...new Set(failures[which])].slice(0, 3).join('; ')}` : '';
    console.log(
      `${name.padEnd(22)} p50 ${percentile(ms, 50).toFixed(2).padStart(6)} ms  p99 ${percentile(ms, 99).toFixed(2).padStart(6)} ms  ok ${ms.length}/${sessionsEach}  (p50 per reply: hello ${stepP50[0]}, option ${stepP50[1]}, file ${stepP50[2]}, run ${stepP50[3]} ms)${fails}`,
    );
    return percentile(ms, 50);
  };
  const o = line('stapflow stapsh', 'ours');
  console.log(`${''.padEnd(22)} (one --listen process serving every session)`);
  if (realGuest) {
    const r = line('SystemTap stapsh 4.8', 'real');
    console.log(`${''.padEnd(22)} (socat UNIX-LISTEN,fork EXEC:stapsh: one process per session; socat inside one unshare -m with the child bind-mounted)`);
    console.log(`ratio p50 ours/real: ${(o / r).toFixed(2)}x   (goal <= 0.5x)`);
  } else console.log('SystemTap stapsh not runnable here (needs systemtap-runtime, socat and root for unshare -m): no ratio');
  await stopProcess(ourGuest);
  if (realGuest) await stopProcess(realGuest);

  // The machines alone: host and guest machines over an in-memory pair, one session after another.
  const { runMemorySession } = await import('../dist/memory/session.js');
  const nMem = quick ? 500 : 2000;
  const memChild = { start: [['stdout', 'hi\n']], exitCode: 0 };
  for (let i = 0; i < 50; i++) await within(runMemorySession({ child: memChild }), 10_000, 'warm-up in-memory session');
  let okMem = 0;
  const tm = performance.now();
  let firstFailure = null;
  for (let i = 0; i < nMem; i++) {
    const r = await within(runMemorySession({ child: memChild }), 10_000, 'in-memory session');
    if (r.host.ok) okMem++;
    else firstFailure ??= JSON.stringify(r.host).slice(0, 300);
  }
  const usPer = ((performance.now() - tm) * 1000) / nMem;
  console.log(
    `in-memory machines alone  mean ${usPer.toFixed(0).padStart(6)} µs per session  (${nMem} sequential runMemorySession, ok ${okMem}/${nMem}, child prints one line and exits)${firstFailure ? `; first failure: ${firstFailure}` : ''}`,
  );
  // Collect this part's garbage now, so that section 5's heap baseline is not inflated by it
  // (section 5 measures peak heap minus the heap before it starts).
  setFlagsFromString('--expose-gc');
  runInNewContext('gc')();
}

// ---- 5. scale: concurrent in-memory sessions (the machines alone) --------
if (want('5')) {
  const { runMemorySession } = await import('../dist/memory/session.js');
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
  const results = await within(Promise.all(sessions), 300_000, 'section 5 sessions');
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  clearInterval(lag);
  const ok = results.filter((r) => r.host.ok).length;
  console.log(`sessions ok ${ok}/${n}; ${(n / seconds).toFixed(0)} sessions/s including the 200 ms each runs; peak heap per live session ${((heapPeak - heap0) / n / 1024).toFixed(1)} KiB (goal <= 100 KB); max event-loop lag ${lagMax.toFixed(0)} ms`);
}


// ---- 5b. scale over a unix socket: concurrent sessions to one guest process ----
if (want('5b')) {
  const n = 100;
  const bin5 = join(dir, 'bin5');
  mkdirSync(bin5);
  writeFileSync(join(bin5, 'staprun'), '#!/bin/sh\necho hi; sleep 1\n');
  chmodSync(join(bin5, 'staprun'), 0o755);
  console.log(`## 5b. scale over a unix socket: ${n} concurrent sessions to one stapsh --listen process, all started at once (child: echo hi; sleep 1)`);
  const sock = join(dir, 'ours5.sock');
  const lagFile = join(dir, 'guest-lag.json');
  const guest = await startOurListener(sock, bin5, { preload: join(ROOT, 'bench', 'lag-probe.cjs'), env: { STAPFLOW_LAG_FILE: lagFile } });
  const rss = () => {
    try {
      return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${guest.pid}/status`, 'latin1'))?.[1] ?? NaN);
    } catch {
      return NaN;
    }
  };
  /** Ask the probe in the guest for its lag since the last ask (bounded wait). */
  const guestLag = async () => {
    rmSync(lagFile, { force: true });
    process.kill(guest.pid, 'SIGWINCH');
    await waitForFile(lagFile, 5000, 'lag probe in the guest');
    return JSON.parse(readFileSync(lagFile, 'utf8'));
  };
  // Warm-up: two sessions one after the other, so the baseline has the code loaded.
  for (let i = 0; i < 2; i++) await unixSession(sock, { afterRun: 'drain', timeoutMs: 15_000 });
  await sleep(200);
  const rssBase = rss();
  await guestLag(); // reset the guest's histogram
  let rssPeak = rssBase;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rss())), 20);
  const benchLag = monitorEventLoopDelay({ resolution: 10 });
  benchLag.enable();
  const t0 = performance.now();
  const results = await within(Promise.all(Array.from({ length: n }, () => unixSession(sock, { afterRun: 'drain', timeoutMs: 30_000 }))), 40_000, 'section 5b sessions');
  const seconds = (performance.now() - t0) / 1000;
  benchLag.disable();
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, rss());
  const lagIn = await guestLag();
  await stopProcess(guest);
  const ok = results.filter((r) => r.ok);
  const errors = [...new Set(results.filter((r) => !r.ok).map((r) => r.error ?? `stdout ${JSON.stringify(r.stdout)}, quit ${r.quit}`))];
  const setup = ok.map((r) => r.setupMs);
  console.log(
    `sessions ok ${ok.length}/${n}; ${(n / seconds).toFixed(1)} sessions/s (all ${n} from connect to close, each child runs 1 s: ceiling ~${n}/s); setup p50 ${percentile(setup, 50)?.toFixed(0)} ms, max ${Math.max(...setup).toFixed(0)} ms${errors.length ? `; failed: ${errors.slice(0, 3).join('; ')}` : ''}`,
  );
  console.log(
    `guest RSS: ${(rssBase / 1024).toFixed(1)} MiB idle, peak ${(rssPeak / 1024).toFixed(1)} MiB -> ${((rssPeak - rssBase) / n).toFixed(0)} KiB per live session (sampled /proc/PID/status VmRSS every 20 ms)`,
  );
  console.log(
    `event-loop lag inside the guest: max ${lagIn.maxMs.toFixed(1)} ms, p99 ${lagIn.p99Ms.toFixed(1)} ms, mean ${lagIn.meanMs.toFixed(1)} ms (beyond a 10 ms timer: perf_hooks histogram preloaded with -r bench/lag-probe.cjs); in the bench process driving them: max ${Math.max(0, benchLag.max / 1e6 - 10).toFixed(1)} ms`,
  );
}

// ---- 6. trace overhead: section-1 streaming with and without --trace ------
if (want('6')) {
  const traceRuns = quick ? 5 : 9;
  const traceFile = join(dir, 'trace.jsonl');
  console.log(`## 6. trace overhead: section-1 streaming (our guest, data mode, ${size / MiB} MiB) with --trace FILE vs without; ${traceRuns} alternating runs`);
  const plain = [];
  const traced = [];
  let traceBytes = 0;
  for (let i = 0; i < traceRuns; i++) {
    plain.push(await stream('ours'));
    traced.push(await stream('ours', ['--trace', traceFile]));
    traceBytes = ['', '.1', '.2', '.3'].reduce((n, s) => n + (existsSync(traceFile + s) ? statSync(traceFile + s).size : 0), 0);
    for (const s of ['', '.1', '.2', '.3']) rmSync(traceFile + s, { force: true });
  }
  const lostPlain = plain.map((r) => size - r.payload);
  const lostTraced = traced.map((r) => size - r.payload);
  const mPlain = median(plain.map(rate));
  const mTraced = median(traced.map(rate));
  const cPlain = median(plain.map((r) => r.cpuSeconds));
  const cTraced = median(traced.map((r) => r.cpuSeconds));
  console.log(`without trace          median ${mPlain.toFixed(0).padStart(6)} MiB/s  guest CPU ${cPlain.toFixed(2)} s  bytes lost per run: ${lostPlain.join(', ')}`);
  console.log(`with --trace FILE      median ${mTraced.toFixed(0).padStart(6)} MiB/s  guest CPU ${cTraced.toFixed(2)} s  bytes lost per run: ${lostTraced.join(', ')}  trace ${(traceBytes / 1024).toFixed(0)} KiB per run`);
  console.log(`trace overhead: ${((mPlain / mTraced - 1) * 100).toFixed(1)}% more time per byte (medians of MiB/s)   (goal <= 10%); guest CPU (user+sys) +${((cTraced / cPlain - 1) * 100).toFixed(1)}%`);
}

// ---- 7. the whole chain: child → guest → host CLI → reader -----------------
// Ours: our stapsh --listen unix:SOCK ← our stap-remote. SystemTap's: its stapsh
// (socat UNIX-LISTEN,fork EXEC:stapsh in a mount namespace where the child is
// bind-mounted over staprun and stapbpf) ← real stap 4.8 (BPF runtime, a fake
// kernel tree; its compile is not timed: the clock starts at the first output
// byte and stops at the host's exit). Then the host's peak RSS with a reader
// throttled to 10 MiB/s.
if (want('7')) {
  const chainSize = (quick ? 64 : 256) * MiB;
  const throttledSize = 64 * MiB;
  const chainRuns = quick ? 3 : 5;
  const bin7 = join(dir, 'bin7');
  mkdirSync(bin7);
  const child7 = join(bin7, 'staprun');
  writeFileSync(child7, `#!/bin/sh\nexec head -c "\${CHAIN_BYTES:-${chainSize}}" /dev/zero\n`);
  chmodSync(child7, 0o755);
  writeFileSync(join(bin7, 'stapbpf'), readFileSync(child7));
  chmodSync(join(bin7, 'stapbpf'), 0o755);
  const moduleFile = join(dir, 'chain.ko');
  writeFileSync(moduleFile, 'ELF');
  const haveStap = haveReal && existsSync('/usr/bin/stap') && existsSync('/usr/bin/socat');
  const release = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
  const tree = join(dir, 'kernel-tree');
  mkdirSync(join(tree, 'include', 'config'), { recursive: true });
  writeFileSync(join(tree, 'include', 'config', 'kernel.release'), `${release}\n`);
  writeFileSync(join(tree, '.config'), 'CONFIG_BPF=y\nCONFIG_BPF_SYSCALL=y\nCONFIG_BPF_JIT=y\nCONFIG_HAVE_EBPF_JIT=y\nCONFIG_BPF_EVENTS=y\n');
  writeFileSync(join(tree, 'Module.symvers'), '');
  const home7 = join(dir, 'home7');
  mkdirSync(home7);

  async function startRealChainListener(sock, bytes) {
    const p = track(
      spawn(
        'unshare',
        ['-m', 'sh', '-c', 'mount --bind "$0" /usr/bin/staprun && mount --bind "$0" /usr/bin/stapbpf && exec socat "$1" "$2"', child7, `UNIX-LISTEN:${sock},fork`, `EXEC:${REAL},stderr`],
        { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, TMPDIR: dir, CHAIN_BYTES: String(bytes) } },
      ),
      true,
    );
    p.stderr.setEncoding('utf8').on('data', (s) => {
      for (const l of s.split('\n')) if (l && !/E waitpid\(\): child \d+ exited with status/.test(l)) process.stderr.write(`[socat] ${l}\n`);
    });
    await waitForFile(sock, 10_000, 'socat UNIX-LISTEN');
    return p;
  }

  /** Run a host, read its stdout (throttled to `mibps` if given), sample its peak RSS; bounded. */
  function hostRun(argv, env, mibps = null) {
    return new Promise((resolveRun, reject) => {
      const p = track(spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true }), true);
      let timedOut = false;
      const cancel = deadline(p, 600_000, () => (timedOut = true));
      let bytes = 0;
      let first = 0;
      let peak = 0;
      let stderr = '';
      const sampler = setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
          if (m) peak = Math.max(peak, Number(m[1]) / 1024);
        } catch {
          // exited
        }
      }, 50);
      p.stderr.setEncoding('latin1').on('data', (x) => (stderr += x));
      const t0 = performance.now();
      p.stdout.on('data', (c) => {
        if (first === 0) first = performance.now();
        bytes += c.length;
        if (mibps !== null) {
          // Hold the reader until it is back on its rate.
          const due = first + ((bytes / MiB / mibps) * 1000);
          const wait = due - performance.now();
          if (wait > 1) {
            p.stdout.pause();
            setTimeout(() => p.stdout.resume(), wait);
          }
        }
      });
      p.once('error', reject);
      p.once('close', (code, signal) => {
        clearInterval(sampler);
        cancel();
        if (timedOut) return reject(new Error(`bench: ${argv.join(' ')} did not end within 600 s`));
        const end = performance.now();
        resolveRun({ bytes, seconds: (end - (first || t0)) / 1000, code, signal, peakMiB: peak, stderr });
      });
    });
  }

  const ourHost = (sock) => [process.execPath, join(ROOT, 'bin', 'stap-remote.js'), `--remote=unix:${sock}`, moduleFile];
  const realHost = (sock) => ['/usr/bin/stap', '--runtime=bpf', '-r', tree, `--remote=unix:${sock}`, '-e', 'probe begin { exit() }'];
  const hostEnv = { ...process.env, HOME: home7, TMPDIR: dir };

  console.log(`## 7. whole chain: child writes ${chainSize / MiB} MiB → guest → host CLI → a fast reader (time from the first output byte to the host's exit); ${chainRuns} alternating runs`);
  const ourSock = join(dir, 'ours7.sock');
  const realSock = join(dir, 'real7.sock');
  const ourGuest = await startOurListener(ourSock, bin7, { env: { CHAIN_BYTES: String(chainSize) } });
  const realGuest = haveStap ? await startRealChainListener(realSock, chainSize) : null;
  if (realGuest) await within(hostRun(realHost(realSock), hostEnv), 600_000, 'real stap warm-up (compile, cached after)');
  const got = { ours: [], real: [] };
  for (let i = 0; i < chainRuns; i++) {
    got.ours.push(await hostRun(ourHost(ourSock), hostEnv));
    if (realGuest) got.real.push(await hostRun(realHost(realSock), hostEnv));
  }
  const chainRow = (name, rs) => {
    if (rs.length === 0) return null;
    const mibs = median(rs.map((r) => r.bytes / MiB / r.seconds));
    console.log(
      `${name.padEnd(34)} median ${mibs.toFixed(0).padStart(5)} MiB/s  host peak RSS ${median(rs.map((r) => r.peakMiB)).toFixed(0).padStart(4)} MiB  bytes lost per run: ${rs.map((r) => chainSize - r.bytes).join(', ')}  exits: ${rs.map((r) => r.code ?? r.signal).join(', ')}`,
    );
    return mibs;
  };
  const o7 = chainRow('our stapsh → our stap-remote', got.ours);
  const r7 = chainRow('SystemTap stapsh → SystemTap stap', got.real);
  if (o7 !== null && r7 !== null) console.log(`ratio ours/SystemTap (throughput): ${(o7 / r7).toFixed(2)}x`);
  await stopProcess(ourGuest);
  if (realGuest) await stopProcess(realGuest);

  console.log(`## 7b. the host's peak RSS with a reader throttled to 10 MiB/s: child writes ${throttledSize / MiB} MiB (goal: flat, under 64 MiB)`);
  const ourGuestT = await startOurListener(join(dir, 'ours7b.sock'), bin7, { env: { CHAIN_BYTES: String(throttledSize) } });
  const o = await hostRun(ourHost(join(dir, 'ours7b.sock')), hostEnv, 10);
  console.log(`our stap-remote                    peak RSS ${o.peakMiB.toFixed(0).padStart(4)} MiB  read ${(o.bytes / MiB).toFixed(1)} MiB in ${o.seconds.toFixed(1)} s  bytes lost: ${throttledSize - o.bytes}`);
  await stopProcess(ourGuestT);
  if (haveStap) {
    const realGuestT = await startRealChainListener(join(dir, 'real7b.sock'), throttledSize);
    const r = await hostRun(realHost(join(dir, 'real7b.sock')), hostEnv, 10);
    console.log(`SystemTap stap                     peak RSS ${r.peakMiB.toFixed(0).padStart(4)} MiB  read ${(r.bytes / MiB).toFixed(1)} MiB in ${r.seconds.toFixed(1)} s  bytes lost: ${throttledSize - r.bytes}`);
    await stopProcess(realGuestT);
  }
}

cleanup();
