/**
 * The guest's `gap` over a real unix socket: bytes after a gap reach the peer
 * in a read of their own (SystemTap's stap sees only the first item of a
 * read), in order, and flush() waits for them.
 */
// @ts-nocheck

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ioFromTransports } from '../../guest/session.js';
import { utf8 } from '../../protocol/bytes.js';
import { connectUnix } from '../../transports/unixSocket.js';
import { within } from '../support/realPeers.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('guest output pacing (gap)', () => {
  it('writes what follows a gap in a read of its own, in order, and flush() waits for it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stapflow-gap-'));
    dirs.push(dir);
    const path = join(dir, 'gap.sock');
    const reads: string[] = [];
    let peer: Socket | undefined;
    const ended = new Promise<void>((resolve) => {
      const server = createServer((s) => {
        peer = s;
        s.on('data', (b: Buffer) => reads.push(b.toString('latin1')));
        s.on('end', () => {
          server.close();
          resolve();
        });
      });
      server.listen(path);
    });
    const transport = await connectUnix(path, { timeoutMs: 5_000 });
    const io = ioFromTransports(transport);
    io.write('stdout', utf8('data stdout 4\n'));
    io.write('stdout', utf8('bye\n'));
    // Two seconds: the peer reads the frame on this same event loop long before the timer is due.
    io.gap!(2_000);
    io.write('stdout', utf8('quit\n'));
    await within(io.flush(), 10_000, 'flush after the gap');
    await transport.close();
    await within(ended, 5_000, 'the peer seeing EOF');
    expect(reads.join('')).toBe('data stdout 4\nbye\nquit\n');
    expect(reads.at(-1)).toBe('quit\n');
    expect(reads.some((r) => r.includes('bye') && r.includes('quit'))).toBe(false);
    expect(peer).toBeDefined();
  });
});
