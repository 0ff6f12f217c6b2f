// @ts-nocheck
// A slow consumer of a session's output, with backpressure: `for await` over
// `session.output()` takes one chunk at a time, and while it is busy the host
// stops reading the guest's channel, so the guest holds its child back (as a
// pipe would) instead of anyone buffering without bound. `output$` is only a
// tap: it sees every chunk as it arrives and never slows anything down.
// `node examples/slow-consumer.mjs` (our stapsh over stdio, the staprun stand-in as its child)
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { spawnProcess, startSession } from 'stapflow';

const root = fileURLToPath(new URL('..', import.meta.url));
const bindir = mkdtempSync(join(tmpdir(), 'stapflow-example-'));
symlinkSync(join(root, 'bin', 'staprun-standin.js'), join(bindir, 'staprun'));

const transport = await spawnProcess([process.execPath, join(root, 'bin', 'stapsh.js'), '--bindir', bindir]);
const session = startSession(transport, {
  module: { name: 'slow.ko', bytes: new Uint8Array(64) },
  moduleArgs: ['ticks=40', 'interval=1'],
  remote: 'stapsh:',
  outputHighWaterMark: 64 * 1024, // undelivered output above which the guest is paused (default 1 MiB)
});
let tapped = 0;
session.output$.subscribe(({ bytes }) => (tapped += bytes.length)); // a tap: counts, never holds the flow
let consumed = 0;
for await (const { stream, bytes } of session.output()) {
  await sleep(5); // a slow sink: a database insert, a network call…
  consumed += bytes.length;
  (stream === 'stdout' ? process.stdout : process.stderr).write(bytes);
}
const result = await session.done;
console.error(`consumed ${consumed} bytes (the tap saw ${tapped}); ${result.ok ? 'done' : `failed: ${result.error}`}`);
rmSync(bindir, { recursive: true, force: true });
process.exitCode = result.ok ? 0 : 1;
