/**
 * Our host library against real guests: ours (`stapsh --listen`) and
 * SystemTap's stapsh 4.8 behind `socat UNIX-LISTEN,fork EXEC:…,stderr`, with
 * a scripted child; plus the failures a host must report clearly (a silent
 * guest, a malformed frame) instead of hanging or crashing.
 */
// @ts-nocheck


import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../protocol/bytes.js';
import { startSession, type OutputChunk } from '../../host/session.js';
import { connectUnix } from '../../transports/unixSocket.js';
import { connectWhenListening, killAll, spawnTracked, waitForListening } from '../support/procs.js';
import { describeReal, itReal, REAL_STAPSH, scriptedBindir } from '../support/realPeers.js';

const OUR_STAPSH = resolve(import.meta.dirname, '../../bin/stapsh.js');
let dir: string;
let allBytes: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-host-'));
  allBytes = join(dir, 'all.bin');
  writeFileSync(allBytes, Buffer.from([...Array(256).keys(), 0x0a, ...Buffer.from('data stdout 5\nquit\n\r')]));
});
afterEach(() => killAll());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CHILD = (file: string) => `#!/bin/sh
echo "args: $*"
echo "to stderr" >&2
cat ${file}
sleep 0.3
exit 3
`;

const MODULE = { name: 'stap_1234.ko', bytes: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]) };

function collect(chunks: OutputChunk[], stream: 'stdout' | 'stderr'): Buffer {
  return Buffer.from(concatBytes(chunks.filter((c) => c.stream === stream).map((c) => c.bytes)));
}

async function runAgainst(sock: string) {
  const transport = await connectWhenListening(sock);
  const session = startSession(transport, { module: MODULE, remote: `unix:${sock}`, replyTimeoutMs: 10_000 });
  const chunks: OutputChunk[] = [];
  session.output$.subscribe((c) => chunks.push(c));
  const result = await session.done;
  return { result, stdout: collect(chunks, 'stdout'), stderr: collect(chunks, 'stderr') };
}

function expectSession(r: Awaited<ReturnType<typeof runAgainst>>, sock: string) {
  expect(r.result.ok).toBe(true);
  const expectedArgs = `args: -R -r 0:unix:${sock} ./stap_1234.ko\n`;
  expect(r.stdout.subarray(0, expectedArgs.length).toString('latin1')).toBe(expectedArgs);
  // Binary output arrives byte-exact, including lines that look like frames.
  expect(r.stdout.subarray(expectedArgs.length).equals(readFileSync(allBytes))).toBe(true);
  expect(r.stderr.toString('latin1')).toBe('to stderr\n');
}

describe('our host drives our guest', () => {
  it('a whole data-mode session over --listen unix:', async () => {
    const bindir = scriptedBindir(join(dir, 'ours'), CHILD(allBytes));
    const sock = join(dir, 'ours.sock');
    spawnTracked([process.execPath, OUR_STAPSH, '--listen', `unix:${sock}`, '--bindir', bindir, '--protocol-version', '4.8'], {
      env: { ...process.env, TMPDIR: dir },
    });
    await waitForListening(sock);
    const r = await runAgainst(sock);
    expectSession(r, sock);
    expect(r.result.ok && r.result.hello.version).toBe('4.8');
    expect(r.result.ok && r.result.ended).toBe('quit');
    // stapflow's extensions, both ways: the nonce echoed, the child's status (3) reported over the socket.
    expect(r.result.ok && r.result.extensions).toEqual({ status: true, nonce: true });
    expect(r.result.exit).toEqual({ code: 3, signal: null });
  });
});

describeReal('our host drives SystemTap stapsh 4.8', () => {
  itReal('through socat UNIX-LISTEN,fork EXEC:stapsh,stderr: frames, the -r argv, binary output', async () => {
    const child = join(dir, 'real-child.sh');
    writeFileSync(child, CHILD(allBytes));
    chmodSync(child, 0o755);
    const wrapper = join(dir, 'real-guest.sh');
    writeFileSync(
      wrapper,
      `#!/bin/sh\nexec unshare -m sh -c 'mount --bind "$0" /usr/bin/staprun && exec ${REAL_STAPSH}' ${child}\n`,
    );
    chmodSync(wrapper, 0o755);
    const sock = join(dir, 'real.sock');
    spawnTracked(['socat', `UNIX-LISTEN:${sock},fork`, `EXEC:${wrapper},stderr`]);
    await waitForListening(sock);
    const r = await runAgainst(sock);
    expectSession(r, sock);
    expect(r.result.ok && r.result.hello.version).toBe('4.8');
    // SystemTap's guest ignores the nonce and refuses `option status`: the host falls back silently,
    // and the socket carries no exit status.
    expect(r.result.ok && r.result.extensions).toEqual({ status: false, nonce: false });
    expect(r.result.exit).toBeNull();
  });
});

describe('host failures are clear and bounded', () => {
  async function fakeGuest(name: string, onData: (write: (s: string) => void, line: string) => void): Promise<{ sock: string; server: Server }> {
    const sock = join(dir, `${name}.sock`);
    const server = createServer((s) => {
      s.setEncoding('latin1');
      let buf = '';
      s.on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          onData((x) => s.write(x), line);
        }
      });
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(sock, r));
    return { sock, server };
  }

  it('a guest that never answers: an error naming the remote after the reply timeout', async () => {
    const { sock, server } = await fakeGuest('silent', () => undefined);
    const transport = await connectUnix(sock);
    const t0 = Date.now();
    const result = await startSession(transport, { module: MODULE, remote: `unix:${sock}`, replyTimeoutMs: 300 }).done;
    server.close();
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toBe(
      `no reply to the hello within 300 ms on remote 'unix:${sock}' (this host speaks 4.8; stapsh answers from release 1.5 on, the draft protocol before it never replies)`,
    );
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('stale lines before the hello are skipped; a bare data line after run is a clear error', async () => {
    const { sock, server } = await fakeGuest('bare', (write, line) => {
      // Stale lines, and a partial stale line glued in front of the hello.
      if (line.startsWith('stap ')) write('garbage from an old session\ndata stdout 3\ntick 4stapsh 4.8 x86_64 6.1\n');
      // The module's payload has no newline, so it prefixes the run line here.
      else if (line.includes('run ')) write('OK\ndata\n');
      else if (line.startsWith('option') || line.startsWith('file')) write('OK\n');
    });
    const transport = await connectUnix(sock);
    const result = await startSession(transport, { module: MODULE, remote: `unix:${sock}`, replyTimeoutMs: 2_000 }).done;
    server.close();
    expect(!result.ok && result.error).toBe(`malformed data header: "data" on remote 'unix:${sock}'`);
  });

  it('a guest before 2.4 cannot do data mode: the stap wording', async () => {
    const { sock, server } = await fakeGuest('old', (write, line) => {
      if (line.startsWith('stap ')) write('stapsh 1.7 x86_64 6.1\n');
    });
    const transport = await connectUnix(sock);
    const result = await startSession(transport, { module: MODULE, remote: `unix:${sock}` }).done;
    server.close();
    expect(!result.ok && result.error).toBe(`stapsh 1.7 does not support options (data mode needs stapsh 2.4 or later; this host speaks 4.8) on remote 'unix:${sock}'`);
  });
});
