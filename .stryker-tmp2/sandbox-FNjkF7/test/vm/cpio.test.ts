/**
 * The initramfs writer (vm/cpio.ts) against a real cpio reader: busybox's,
 * which reads the same newc format the kernel unpacks.
 */
// @ts-nocheck


import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { newcArchive, type CpioEntry } from '../../vm/cpio.js';
import { describeNeeding, program } from '../support/needs.js';

const NEED_BUSYBOX = program('busybox', '/bin/busybox', 'busybox-static');

function extract(archive: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'stapflow-cpio-'));
  const r = spawnSync('/bin/busybox', ['cpio', '-i', '-d', '-m', '-H', 'newc'], { cwd: dir, input: archive });
  if (r.status !== 0) throw new Error(`busybox cpio failed: ${r.stderr.toString()}`);
  return dir;
}

describe('newc archive (pure)', () => {
  it('pads every header+name and body to 4 bytes and ends with TRAILER!!!', () => {
    const a = newcArchive([{ kind: 'file', path: 'a', data: new Uint8Array([1, 2, 3]) }]);
    expect(a.length % 4).toBe(0);
    const text = Buffer.from(a).toString('latin1');
    expect(text.startsWith('070701')).toBe(true);
    expect(text).toContain('TRAILER!!!\0');
  });
  it('refuses paths that leave the archive root', () => {
    expect(() => newcArchive([{ kind: 'dir', path: 'a/../../etc' }])).toThrow(/bad path/);
    expect(() => newcArchive([{ kind: 'dir', path: '/' }])).toThrow(/bad path/);
  });
});

describeNeeding([NEED_BUSYBOX], 'cpio tests', 'newc archive read back by busybox cpio', () => {
  it('dirs, files with modes, symlinks', () => {
    const entries: CpioEntry[] = [
      { kind: 'dir', path: 'bin' },
      { kind: 'file', path: 'bin/tool', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
      { kind: 'symlink', path: 'bin/alias', target: 'tool' },
      { kind: 'file', path: 'empty', data: new Uint8Array(0), mode: 0o600 },
    ];
    const dir = extract(newcArchive(entries));
    try {
      expect(readFileSync(join(dir, 'bin/tool'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
      expect(statSync(join(dir, 'bin/tool')).mode & 0o777).toBe(0o755);
      expect(readlinkSync(join(dir, 'bin/alias'))).toBe('tool');
      expect(lstatSync(join(dir, 'empty')).size).toBe(0);
      expect(statSync(join(dir, 'empty')).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.prop([fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z0-9_.-]{1,40}$/), fc.uint8Array({ maxLength: 300 })), { selector: ([n]) => n, maxLength: 8 })], {
    numRuns: 20,
  })('any names and contents come back byte for byte', (files) => {
    const real = files.filter(([n]) => n !== '.' && n !== '..');
    const dir = extract(newcArchive([{ kind: 'dir', path: 'd' }, ...real.map(([n, data]): CpioEntry => ({ kind: 'file', path: `d/${n}`, data }))]));
    try {
      for (const [n, data] of real) expect(new Uint8Array(readFileSync(join(dir, 'd', n)))).toEqual(data);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
