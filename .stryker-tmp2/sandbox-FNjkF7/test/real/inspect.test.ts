/** stap-remote --inspect sends the machines' inspection events to a WebSocket inspector. */
// @ts-nocheck

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { scriptedBindir } from '../support/realPeers.js';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-inspect-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('stap-remote --inspect', () => {
  it('streams inspection events of hostSession to a local WebSocket inspector', async () => {
    const bindir = scriptedBindir(dir, '#!/bin/sh\necho hi\nsleep 0.2\n');
    writeFileSync(join(dir, 'm.ko'), 'ELF');
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => server.once('listening', () => r()));
    const port = (server.address() as { port: number }).port;
    const messages: string[] = [];
    server.on('connection', (ws) => ws.on('message', (m) => messages.push(String(m))));
    const stapsh = `${process.execPath} ${join(ROOT, 'bin/stapsh.js')} --bindir ${bindir}`;
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin/stap-remote.js'), '--remote=stapsh:', '--stapsh', stapsh, `--inspect=ws://127.0.0.1:${port}`, join(dir, 'm.ko')],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dir } },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((r, j) => {
      const t = setTimeout(() => j(new Error('stap-remote did not exit within 20 s')), 20_000);
      child.once('close', (c) => {
        clearTimeout(t);
        r(c);
      });
    });
    server.close();
    expect(code).toBe(0);
    expect(out).toBe('hi\n');
    expect(messages.some((m) => m.includes('hostSession'))).toBe(true);
    expect(messages.some((m) => m.includes('streaming'))).toBe(true);
  });
});
