// @ts-nocheck
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { TransportError } from '../../transports/errors.js';
import { spawnProcess, type ProcessTransport } from '../../transports/processTransport.js';
import { existsSync, readFileSync } from 'node:fs';
import { eventually } from '../support/procs.js';
import { collect, fdCount, readBytes, removeTranspiled, settleFds, sleep, transpiledTransports, within } from './helpers.js';

const open: ProcessTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

/** Does process `pid` ignore SIGTERM (bit 15 of SigIgn in /proc/PID/status)? */
function ignoresSigterm(pid: number): boolean {
  try {
    const m = /^SigIgn:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m !== null && (BigInt(`0x${m[1]}`) & (1n << 14n)) !== 0n;
  } catch {
    return false;
  }
}

async function start(...args: Parameters<typeof spawnProcess>): Promise<ProcessTransport> {
  const p = await spawnProcess(...args);
  open.push(p);
  return p;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('process transport', () => {
  it('stdin → cat → stdout; EOF after closeWrite; exit code 0', async () => {
    const p = await start(['cat']);
    expect(p.name).toBe('process:cat');
    expect(p.capabilities).toEqual({ eofVisible: true, separateStderr: true, exitStatus: true });
    const out = collect(p.incoming$);
    await p.write(Buffer.from('line one\n'));
    await p.write(Buffer.from([0, 1, 2, 255]));
    await p.closeWrite();
    const r = await out;
    expect(r).toMatchObject({ end: 'complete', completions: 1 });
    expect(r.bytes).toEqual(Buffer.concat([Buffer.from('line one\n'), Buffer.from([0, 1, 2, 255])]));
    expect(await within(p.exit, 5000, 'exit')).toEqual({ code: 0, signal: null });
  });

  it('keeps stderr apart from stdout and reports the exit code', async () => {
    const p = await start(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    const [out, err] = await Promise.all([collect(p.incoming$), collect(p.stderr$)]);
    expect(out.bytes.toString()).toBe('out\n');
    expect(err.bytes.toString()).toBe('err\n');
    expect(err.end).toBe('complete');
    expect(await p.exit).toEqual({ code: 3, signal: null });
  });

  it('loses no stdout written before the first subscription', async () => {
    const p = await start(['sh', '-c', 'printf early']);
    await within(p.exit, 5000, 'exit');
    await sleep(20);
    const r = await collect(p.incoming$);
    expect(r.bytes.toString()).toBe('early');
    expect(r.end).toBe('complete');
  });

  it('reports the signal that killed the child', async () => {
    const p = await start(['sleep', '30']);
    expect(p.kill('SIGKILL')).toBe(true);
    expect(await within(p.exit, 5000, 'exit')).toEqual({ code: null, signal: 'SIGKILL' });
    expect(p.kill()).toBe(false);
  });

  it('passes argv verbatim (no shell), env and cwd', async () => {
    const p = await start(['sh', '-c', 'printf "%s|%s|%s" "$1" "$FOO" "$(pwd)"', 'sh', '$HOME; `x` "q"'], {
      env: { FOO: 'bar', PATH: process.env.PATH ?? '/usr/bin:/bin' },
      cwd: '/tmp',
    });
    const r = await collect(p.incoming$);
    expect(r.bytes.toString()).toBe('$HOME; `x` "q"|bar|/tmp');
  });

  it('rejects with ENOENT naming the program when it cannot start', async () => {
    const err = await spawnProcess(['/nonexistent/stapsh']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ code: 'ENOENT' });
    expect((err as Error).message).toContain('/nonexistent/stapsh');
  });

  it('close(): a child that exits on stdin EOF goes without signals', async () => {
    const p = await start(['cat'], { closeGraceMs: 2000, termGraceMs: 2000 });
    const r = collect(p.incoming$);
    await within(p.close(), 5000, 'close');
    // Exit 0, no signal: it went on EOF, before the grace could send SIGTERM.
    expect(await p.exit).toEqual({ code: 0, signal: null });
    expect((await r).completions).toBe(1);
  });

  it('close(): escalates to SIGTERM, then to SIGKILL', async () => {
    const term = await start(['sleep', '30'], { closeGraceMs: 100, termGraceMs: 2000 });
    await within(term.close(), 5000, 'close');
    expect(await term.exit).toEqual({ code: null, signal: 'SIGTERM' });

    const stubborn = await start(['sh', '-c', 'trap "" TERM; exec sleep 30'], { closeGraceMs: 100, termGraceMs: 100 });
    // sh ignores TERM before it execs sleep, which keeps the disposition: wait for that.
    await eventually(() => ignoresSigterm(stubborn.pid), 5_000, 'the child ignoring SIGTERM');
    await within(stubborn.close(), 5000, 'close');
    expect(await stubborn.exit).toEqual({ code: null, signal: 'SIGKILL' });
    await expect(stubborn.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('a child that closed its stdin: EPIPE on write, stdout still read to EOF', async () => {
    const p = await start(['sh', '-c', 'exec 0<&-; sleep 0.2; echo still here']);
    const out = collect(p.incoming$);
    // EPIPE needs the child's stdin closed: wait until it is (its fd 0 gone).
    await eventually(() => !existsSync(`/proc/${p.pid}/fd/0`), 5_000, 'the child closing its stdin');
    let err: unknown;
    for (let i = 0; i < 20 && err === undefined; i++) await p.write(Buffer.alloc(65536)).catch((e: unknown) => (err = e));
    expect(err).toMatchObject({ code: 'EPIPE' });
    const r = await out;
    expect(r.end).toBe('complete');
    expect(r.bytes.toString()).toBe('still here\n');
  });

  it('an unwatched stderr never blocks the child', async () => {
    const p = await start(['sh', '-c', 'head -c 1000000 /dev/zero >&2; echo done']);
    const r = await collect(p.incoming$, 10_000);
    expect(r.bytes.toString()).toBe('done\n');
    expect((await p.exit).code).toBe(0);
  });

  it('backpressure: needsDrain while the child does not read, drained() once it does', async () => {
    // The child waits, then reads everything.
    const p = await start(['sh', '-c', 'sleep 0.3; wc -c']);
    const chunk = Buffer.alloc(256 * 1024, 1);
    const writes: Promise<void>[] = [];
    let n = 0;
    while (!p.needsDrain && n < 400) {
      writes.push(p.write(chunk));
      n++;
    }
    expect(p.needsDrain).toBe(true);
    await within(p.drained(), 10_000, 'drained');
    await Promise.all(writes);
    await p.closeWrite();
    const r = await collect(p.incoming$);
    expect(Number(r.bytes.toString().trim())).toBe(n * chunk.length);
  });

  it('SIGKILLs still-running children when the parent exits', async () => {
    const dir = transpiledTransports();
    try {
      const script = `
        import { spawnProcess } from ${JSON.stringify(`${dir}/processTransport.js`)};
        const p = await spawnProcess(['sleep', '30']);
        process.stdout.write(String(p.pid) + '\\n');
        process.exit(0);
      `;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 }).toString();
      const pid = Number(out.trim());
      expect(pid).toBeGreaterThan(0);
      const deadline = Date.now() + 2000;
      while (alive(pid) && Date.now() < deadline) await sleep(20);
      expect(alive(pid)).toBe(false);
    } finally {
      removeTranspiled(dir);
    }
  });

  it('leaks no fds', async () => {
    const before = fdCount();
    for (let i = 0; i < 3; i++) {
      const p = await spawnProcess(['cat']);
      const got = readBytes(p.incoming$, 2);
      await p.write(Buffer.from('hi'));
      await got;
      await p.close();
      const q = await spawnProcess(['sleep', '30'], { closeGraceMs: 10 });
      await q.close();
    }
    await spawnProcess(['/nonexistent']).catch(() => undefined);
    expect(await settleFds(before)).toBe(before);
  });
});
