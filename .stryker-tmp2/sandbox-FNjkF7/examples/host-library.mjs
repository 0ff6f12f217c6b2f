// @ts-nocheck
// Run a module on a guest from Node: our stapsh spawned over stdio, with the
// staprun stand-in as its child (no root, no kernel). `node examples/host-library.mjs`
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { spawnProcess, startSession } from 'stapflow';

const root = fileURLToPath(new URL('..', import.meta.url));
const bindir = mkdtempSync(join(tmpdir(), 'stapflow-example-'));
symlinkSync(join(root, 'bin', 'staprun-standin.js'), join(bindir, 'staprun'));

const transport = await spawnProcess([process.execPath, join(root, 'bin', 'stapsh.js'), '--bindir', bindir]);
const session = startSession(transport, {
  module: { name: 'example.ko', bytes: new Uint8Array(1024) },
  moduleArgs: ['ticks=3', 'interval=50', 'status=5'],
  remote: 'stapsh:',
  onUploadProgress: (sent, total, name) => console.error(`upload ${name}: ${sent}/${total}`),
});
// Like a ChildProcess's stdio: read at the pace our stdout takes it (the guest is held back, not buffered).
const printed = Promise.all([
  pipeline(session.stdout, process.stdout, { end: false }),
  pipeline(session.stderr, process.stderr, { end: false }),
]);
const hello = await session.hello;
console.error(`guest: stapsh ${hello.version} on ${hello.machine} (${hello.kernelRelease})`);
const result = await session.done;
await printed;
console.error(result.ok ? `done; child exit ${JSON.stringify(result.exit)}` : `failed: ${result.error}`);
rmSync(bindir, { recursive: true, force: true });
process.exitCode = result.ok ? (result.exit?.code ?? 0) : 1;
