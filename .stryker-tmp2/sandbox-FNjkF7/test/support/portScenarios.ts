/**
 * One list of virtio-serial scenarios, run against the stand-in and the real
 * port in the QEMU VM (portTargets.ts), each required to reach the same
 * outcome on both: what the stand-in claims about a port is checked against
 * a port. Each scenario returns a plain outcome, compared with `expected`.
 */
// @ts-nocheck


import { createHash } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { startSession, type SessionResult } from '../../host/session.js';
import { connectUnix } from '../../transports/unixSocket.js';
import { concatBytes } from '../../protocol/bytes.js';
import type { PortTarget } from './portTargets.js';
import { fakeKernelTree, runRealStap, spawnGroup, trackedTempDir, within } from './realPeers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MODULE = { name: 'stap_1234.ko', bytes: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0x0a, 0x03, 0x11, 0x13, 0x0d, 0x04]) };

export interface Scenario {
  readonly name: string;
  /** Seconds it may take on the stand-in; the VM scales it by its slowness. */
  readonly seconds: number;
  readonly needsRealStap?: boolean;
  readonly expected: unknown;
  /** Other outcomes measured where SystemTap's own side is nondeterministic (ours still asserted exactly). */
  readonly alsoMeasured?: readonly unknown[];
  run(t: PortTarget): Promise<unknown>;
}

interface HostOutcome {
  readonly ok: boolean;
  readonly error?: string;
  readonly ended?: string;
  readonly exit: SessionResult['exit'];
  readonly extensions?: unknown;
  /** The child's first line with the bindir and socket made neutral. */
  readonly args: string;
  readonly stdout: string;
  readonly stderr: string;
}

function neutral(t: PortTarget, text: string): string {
  return text.replaceAll(t.socket, 'SOCKET').replace(/child args: \S*\/(staprun|stapbpf)/, 'child args: $1');
}

/** One session of our host library over the port. */
async function hostRun(
  t: PortTarget,
  moduleArgs: readonly string[],
  raw = false,
  connected?: Awaited<ReturnType<typeof connectUnix>>,
): Promise<HostOutcome & { bytes: Uint8Array }> {
  const transport = connected ?? (await connectUnix(t.socket, { timeoutMs: 10_000 }));
  consumed(t);
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const session = startSession(transport, {
    module: MODULE,
    moduleArgs,
    remote: `unix:${t.socket}`,
    replyTimeoutMs: 30_000 * t.slowness,
  });
  session.output$.subscribe((c) => (c.stream === 'stdout' ? out : err).push(c.bytes));
  const result = await within(session.done, 60_000 * t.slowness, `${t.name}: session end`);
  const bytes = concatBytes(out);
  const text = Buffer.from(raw ? bytes.subarray(0, bytes.indexOf(0x0a) + 1) : bytes).toString('latin1');
  const nl = text.indexOf('\n');
  return {
    ok: result.ok,
    ...(result.ok ? { ended: result.ended, extensions: result.extensions } : { error: result.error }),
    exit: result.exit,
    args: neutral(t, nl < 0 ? text : text.slice(0, nl)),
    stdout: raw ? '' : nl < 0 ? '' : text.slice(nl + 1),
    stderr: Buffer.from(concatBytes(err)).toString('latin1'),
    bytes,
  };
}

const STAP_STALLED = 'stalled 20 s after the end probe, our quit unread in its buffer (killed)';

const ticks = (n: number) => Array.from({ length: n }, (_, i) => `tick ${i}\n`).join('');

/** A complete session's outcome with `n` ticks and status `status`. */
function complete(n: number, status = 0): HostOutcome {
  return {
    ok: true,
    ended: 'quit',
    exit: { code: status, signal: null },
    extensions: { status: true, nonce: true },
    args: `child args: staprun -R -r 0:unix:SOCKET ./stap_1234.ko ticks=${n} status=${status}`,
    stdout: ticks(n),
    stderr: 'to stderr\n',
  };
}

const session = async (t: PortTarget, n: number, status = 0): Promise<HostOutcome> => {
  await listeningGuest(t);
  const { bytes: _bytes, ...o } = await hostRun(t, [`ticks=${n}`, `status=${status}`]);
  return o;
};

/** Wait (bounded) until `check` resolves true, polling the guest; false when the bound passed (the outcome shows it). */
async function eventually(t: PortTarget, check: () => Promise<boolean>, seconds = 20): Promise<boolean> {
  const end = Date.now() + seconds * 1000 * t.slowness;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100 * t.slowness));
  }
  return false;
}

/** As {@link eventually}, but a precondition: throws naming `what`. */
async function until(t: PortTarget, what: string, check: () => Promise<boolean>, seconds = 20): Promise<true> {
  if (await eventually(t, check, seconds)) return true;
  throw new Error(`${t.name}: ${what} not within ${seconds * t.slowness} s\n${await t.diagnostics()}`);
}

const workspaces = async (t: PortTarget) => (await t.sh('ls "$TMPDIR"')).split('\n').filter((n) => n.startsWith('stapsh.'));
/** Children recorded in the pid dir that still run (zombies count as gone). */
const liveChildren = async (t: PortTarget) =>
  (
    await t.sh(
      'for p in $(ls "$STAPFLOW_CHILD_PIDDIR"); do [ -r /proc/$p/stat ] && [ "$(cut -d" " -f3 /proc/$p/stat)" != Z ] && echo $p; done; true',
    )
  )
    .split('\n')
    .filter(Boolean);
const clearChildren = (t: PortTarget) => t.sh('rm -f "$STAPFLOW_CHILD_PIDDIR"/*');
const guestPid = async (t: PortTarget) => (await t.sh('cat "$STAPSH_PIDFILE" 2>/dev/null || true')).trim();
/** Guest exits each target owes: one per session, dead client, killed host or killed guest so far. */
const owed = new WeakMap<PortTarget, number>();
/** Something made (or will make) the current guest exit: the next listening guest must be a later one. */
const consumed = (t: PortTarget) => owed.set(t, (owed.get(t) ?? 0) + 1);

/**
 * A fresh guest has the port open and waits for a host: every guest that
 * served something before has exited (the loop counts exits in
 * STAPSH_PIDFILE.exits), its stapsh runs and its temp dir exists (made after
 * the port is open). A host that connects while the last session's guest is
 * still exiting loses what it sends (a real port's unread bytes are discarded
 * when the guest closes it; see the README's known limits), and bytes sent
 * before any guest has the port open leave with a host that leaves.
 */
async function listeningGuest(t: PortTarget): Promise<string> {
  let pid = '';
  const exits = owed.get(t) ?? 0;
  await until(t, 'a listening guest', async () => {
    pid = (
      await t.sh(
        `[ "$(cat "$STAPSH_PIDFILE.exits" 2>/dev/null | wc -l)" -ge ${exits} ] && p=$(cat "$STAPSH_PIDFILE" 2>/dev/null) && kill -0 "$p" 2>/dev/null && ls "$TMPDIR" | grep -q "^stapsh\\." && echo "$p"; true`,
      )
    ).trim();
    return pid !== '';
  });
  return pid;
}

export const PORT_SCENARIOS: readonly Scenario[] = [
  {
    name: 'sessions back to back (the guest restarts between them), no temp dir left',
    seconds: 30,
    expected: { sessions: [complete(3), complete(2)], workspacesLeft: [] },
    async run(t) {
      // Each session's temp dir is its guest's, made when it opened the port: gone once that guest ended.
      const used: string[] = [];
      const sessions: HostOutcome[] = [];
      for (const n of [3, 2]) {
        await listeningGuest(t);
        used.push(...(await workspaces(t)));
        const { bytes: _bytes, ...o } = await hostRun(t, [`ticks=${n}`, 'status=0']);
        sessions.push(o);
      }
      await eventually(t, async () => !(await workspaces(t)).some((w) => used.includes(w)));
      return { sessions, workspacesLeft: (await workspaces(t)).filter((w) => used.includes(w)) };
    },
  },
  {
    name: "the child's exit status crosses the port (option status)",
    seconds: 20,
    expected: complete(2, 5),
    run: (t) => session(t, 2, 5),
  },
  {
    name: 'stale bytes from dead clients (junk; a hello and options, replies never read): the next session completes',
    seconds: 40,
    expected: { next: complete(2) },
    async run(t) {
      for (const junk of ['garbage\nquit\nfile 3 x\nabc', 'stap 4.8 nonce=DeadClient\noption data\nfile 5 stap_9.ko\n']) {
        const before = await listeningGuest(t);
        const dead = await connectUnix(t.socket, { timeoutMs: 10_000 });
        consumed(t);
        await dead.write(Buffer.from(junk));
        await dead.close();
        // The guest read them, then saw its host leave: that session ended and the guest restarted.
        await until(t, 'the guest restarting after the dead client', async () => {
          const now = await guestPid(t);
          return now !== '' && now !== before;
        });
      }
      return { next: await session(t, 2) };
    },
  },
  {
    name: 'a host SIGKILLed mid-stream: the child is hung up, the temp dir removed, and a new session right after completes',
    seconds: 60,
    expected: { childrenLeft: [], workspacesLeft: [], next: complete(2) },
    async run(t) {
      await clearChildren(t);
      await listeningGuest(t);
      const dir = trackedTempDir('stapflow-kill-');
      const mod = join(dir, MODULE.name);
      await import('node:fs').then((fs) => fs.writeFileSync(mod, MODULE.bytes));
      consumed(t);
      const host = spawnGroup([process.execPath, join(ROOT, 'bin', 'stap-remote.js'), `--remote=unix:${t.socket}`, `--timeout=${30 * t.slowness}`, mod]);
      await host.waitFor('tick 2', 40_000 * t.slowness, 'stdout');
      const used = await workspaces(t);
      process.kill(-host.pid, 'SIGKILL');
      await host.wait(10_000);
      // Right after: not waiting for a fresh guest (the killed session's may not have seen its host go yet).
      const { bytes: _bytes, ...next } = await hostRun(t, ['ticks=2', 'status=0']);
      await eventually(t, async () => (await liveChildren(t)).length === 0);
      await eventually(t, async () => !(await workspaces(t)).some((w) => used.includes(w)));
      return { childrenLeft: await liveChildren(t), workspacesLeft: (await workspaces(t)).filter((w) => used.includes(w)), next };
    },
  },
  {
    // The port shows a host's leaving only to a read made before the next host connects: a guest slow to
    // read (stopped here; busy or descheduled in life) never sees it, and reads the new host's hello as
    // its own session's input while the module runs.
    name: 'a host SIGKILLed while the guest is stopped (no hangup to see), a new host at once: the child is hung up and the new session completes',
    seconds: 60,
    expected: { childrenLeft: [], workspacesLeft: [], next: complete(2) },
    async run(t) {
      await clearChildren(t);
      const pid = await listeningGuest(t);
      const dir = trackedTempDir('stapflow-kill-');
      const mod = join(dir, MODULE.name);
      await import('node:fs').then((fs) => fs.writeFileSync(mod, MODULE.bytes));
      consumed(t);
      const host = spawnGroup([process.execPath, join(ROOT, 'bin', 'stap-remote.js'), `--remote=unix:${t.socket}`, `--timeout=${30 * t.slowness}`, mod]);
      await host.waitFor('tick 2', 40_000 * t.slowness, 'stdout');
      const used = await workspaces(t);
      await t.sh(`kill -STOP ${pid}`);
      let next: HostOutcome;
      try {
        process.kill(-host.pid, 'SIGKILL');
        await host.wait(10_000);
        const transport = await connectUnix(t.socket, { timeoutMs: 10_000 });
        // The new host is connected before the guest reads again: the hangup is behind it.
        await t.sh(`kill -CONT ${pid}`);
        const { bytes: _bytes, ...o } = await hostRun(t, ['ticks=2', 'status=0'], false, transport);
        next = o;
      } finally {
        await t.sh(`kill -CONT ${pid} 2>/dev/null; true`);
      }
      await eventually(t, async () => (await liveChildren(t)).length === 0);
      await eventually(t, async () => !(await workspaces(t)).some((w) => used.includes(w)));
      return { childrenLeft: await liveChildren(t), workspacesLeft: (await workspaces(t)).filter((w) => used.includes(w)), next };
    },
  },
  {
    name: 'a guest restart (stapsh SIGKILLed while listening): the next guest serves the next session',
    seconds: 30,
    expected: { restarted: true, next: complete(1) },
    async run(t) {
      const before = await listeningGuest(t);
      consumed(t);
      await t.sh(`kill -9 ${before}`);
      const restarted = await until(t, 'the guest restarted', async () => {
        const now = await guestPid(t);
        return now !== '' && now !== before;
      });
      return { restarted, next: await session(t, 1) };
    },
  },
  {
    name: '64 MiB of child output, byte-exact',
    seconds: 60,
    expected: { ok: true, exit: { code: 0, signal: null }, args: 'child args: staprun -R -r 0:unix:SOCKET ./stap_1234.ko cat=BLOB', bytes: 64 * 1024 * 1024, same: true },
    async run(t) {
      const size = 64 * 1024 * 1024;
      const tmp = (await t.sh('echo "$TMPDIR"')).trim();
      const blob = `${tmp}/blob`;
      await listeningGuest(t);
      const sum = (await t.sh(`head -c ${size} /dev/urandom > ${blob} && sha256sum ${blob}`, 60_000 * t.slowness)).split(' ')[0];
      try {
        const o = await hostRun(t, [`cat=${blob}`], true);
        const body = o.bytes.subarray(o.bytes.indexOf(0x0a) + 1);
        return {
          ok: o.ok,
          exit: o.exit,
          args: o.args.replace(blob, 'BLOB'),
          bytes: body.length,
          same: createHash('sha256').update(body).digest('hex') === sum,
        };
      } finally {
        await t.sh(`rm -f ${blob}`);
      }
    },
  },
  {
    name: 'real stap 4.8 over the port (its kernel tree carries the guest release), Ctrl-C ends the module',
    seconds: 90,
    needsRealStap: true,
    expected: { stap: 'exit 0', args: 'child args: stapbpf ./stap_N.bo', ticked: true, endProbe: true, childrenLeft: [], workspacesLeft: [] },
    // SystemTap's stap handles one item per poll wake-up: a `quit` that reaches it in the same read as
    // the end probe's frame stays in its buffer and it waits forever (2 of 6 runs on the stand-in before
    // the guest left a gap before `quit`; none of 16 since). A loaded machine can still join them: then
    // our side must have ended exactly the same way.
    alsoMeasured: [{ stap: STAP_STALLED, args: 'child args: stapbpf ./stap_N.bo', ticked: true, endProbe: true, childrenLeft: [], workspacesLeft: [] }],
    async run(t) {
      await clearChildren(t);
      await listeningGuest(t);
      consumed(t);
      const stap = runRealStap({
        remote: `unix:${t.socket}`,
        kernelTree: fakeKernelTree(undefined, t.kernelRelease),
        timeoutMs: 120_000 * t.slowness,
      });
      await stap.waitFor('tick 1', 60_000 * t.slowness, 'stdout');
      const used = await workspaces(t);
      stap.interrupt();
      await stap.waitFor('end probe: bye\n', 30_000 * t.slowness, 'stdout');
      // Our side first: the child gone and its temp dir removed, whatever stap does next.
      await eventually(t, async () => (await liveChildren(t)).length === 0);
      await eventually(t, async () => !(await workspaces(t)).some((w) => used.includes(w)));
      const childrenLeft = await liveChildren(t);
      const workspacesLeft = (await workspaces(t)).filter((w) => used.includes(w));
      const exit = await stap.wait(20_000 * t.slowness).then(
        (e) => `exit ${e.code ?? e.signal}`,
        async () => {
          await stap.close();
          return STAP_STALLED;
        },
      );
      const stdout = stap.stdout();
      const first = stdout.slice(0, stdout.indexOf('\n'));
      return {
        stap: exit,
        args: neutral(t, first).replace(/stap_\w+\.bo/, 'stap_N.bo').replace(/^child args: (\S+) \.\//, (_, p: string) => `child args: ${basename(p)} ./`),
        ticked: /tick 0\ntick 1\n/.test(stdout),
        endProbe: stdout.endsWith('end probe: bye\n'),
        childrenLeft,
        workspacesLeft,
      };
    },
  },
];
