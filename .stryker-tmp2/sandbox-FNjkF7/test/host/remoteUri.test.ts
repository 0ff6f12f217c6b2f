/**
 * `--remote` parsing as stap 4.8 does it (every measured message, the
 * accepted forms, never throwing), the command-word splitter, what
 * `connectRemote` spawns, and — against real stap — that stap prints the
 * very messages we produce.
 */
// @ts-nocheck


import { fc, test as fcTest } from '@fast-check/vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRemote, splitUri, type RemoteSpec } from '../../protocol/remoteUri.js';
import {
  connectRemote,
  defaultStapshArgv,
  RemoteConnectError,
  splitCommandWords,
  stapshArgv,
  stapvirtArgv,
} from '../../host/connect.js';
import { describeReal, itReal, runRealStap } from '../support/realPeers.js';

const LONG_UNIX = `unix:/${'a'.repeat(107)}`;
const OK_UNIX_106 = `/${'a'.repeat(106)}`;

/** Every message measured with real stap 4.8 (see the table in protocol/remoteUri.ts). */
const MEASURED: ReadonlyArray<readonly [string, string]> = [
  [':22', "string doesn't appear to be a URI: :22 on remote ':22'"],
  [':x', "string doesn't appear to be a URI: :x on remote ':x'"],
  ['foo:bar', "unrecognized URI scheme 'foo' in remote: foo:bar on remote 'foo:bar'"],
  ['host:abc', "unrecognized URI scheme 'host' in remote: host:abc on remote 'host:abc'"],
  ['UNIX:/x', "unrecognized URI scheme 'UNIX' in remote: UNIX:/x on remote 'UNIX:/x'"],
  ['k8s-pod:x', "unrecognized URI scheme 'k8s-pod' in remote: k8s-pod:x on remote 'k8s-pod:x'"],
  ['h:', "unrecognized URI scheme 'h' in remote: h: on remote 'h:'"],
  ['h:/', "unrecognized URI scheme 'h' in remote: h:/ on remote 'h:/'"],
  ['x:22?q', "unrecognized URI scheme 'x' in remote: x:22?q on remote 'x:22?q'"],
  ['x:22#', "unrecognized URI scheme 'x' in remote: x:22# on remote 'x:22#'"],
  ['x:22:33', "unrecognized URI scheme 'x' in remote: x:22:33 on remote 'x:22:33'"],
  ['unix:', "unix target requires a /path on remote 'unix:'"],
  ['unix:?q', "unix target requires a /path on remote 'unix:?q'"],
  ['unix://h', "unix target requires a /path on remote 'unix://h'"],
  ['unix://h?q', "unix target requires a /path on remote 'unix://h?q'"],
  [LONG_UNIX, `unix target /path is too long on remote '${LONG_UNIX}'`],
  ['unix:///abs', "unix target doesn't support a hostname on remote 'unix:///abs'"],
  ['unix://host/path', "unix target doesn't support a hostname on remote 'unix://host/path'"],
  ['unix:/p?q', "unix target URI doesn't support a ?query on remote 'unix:/p?q'"],
  ['unix:/p#f', "unix target URI doesn't support a #fragment on remote 'unix:/p#f'"],
  ['libvirt:', "libvirt target URI requires a domain name on remote 'libvirt:'"],
  ['libvirt:?q', "libvirt target URI requires a domain name on remote 'libvirt:?q'"],
  ['libvirt:dom#f', "libvirt target URI doesn't support a #fragment on remote 'libvirt:dom#f'"],
  ['libvirt://d#f', "libvirt target URI doesn't support a #fragment on remote 'libvirt://d#f'"],
  ['libvirt:#f', "libvirt target URI doesn't support a #fragment on remote 'libvirt:#f'"],
  ['ssh://', "ssh target requires a hostname on remote 'ssh://'"],
  ['ssh:', "ssh target requires a hostname on remote 'ssh:'"],
  ['ssh:/path', "ssh target requires a hostname on remote 'ssh:/path'"],
  ['ssh://host/path', "ssh target URI doesn't support a /path on remote 'ssh://host/path'"],
  ['ssh://h?x', "ssh target URI doesn't support a ?query on remote 'ssh://h?x'"],
  ['ssh://h#x', "ssh target URI doesn't support a #fragment on remote 'ssh://h#x'"],
  ['h:0', "Bad port '0'\nerror establishing ssh connection on remote 'h:0'"],
  ['h:65536', "Bad port '65536'\nerror establishing ssh connection on remote 'h:65536'"],
  ['ssh://h:abc', "Bad port 'abc'\nerror establishing ssh connection on remote 'ssh://h:abc'"],
  ['ssh://u:p@h', "Bad port 'p@h'\nerror establishing ssh connection on remote 'ssh://u:p@h'"],
  ['ssh://[::1]:22', "Bad port ':1]:22'\nerror establishing ssh connection on remote 'ssh://[::1]:22'"],
  ['a b', "hostname contains invalid characters\nerror establishing ssh connection on remote 'a b'"],
  ['a;b', "hostname contains invalid characters\nerror establishing ssh connection on remote 'a;b'"],
  ['-x', "hostname contains invalid characters\nerror establishing ssh connection on remote '-x'"],
  ['', "error establishing ssh connection on remote ''"],
  ['u@', "error establishing ssh connection on remote 'u@'"],
  ['@h', "error establishing ssh connection on remote '@h'"],
  ['-u@h', "error establishing ssh connection on remote '-u@h'"],
  ['u@-h', "hostname contains invalid characters\nerror establishing ssh connection on remote 'u@-h'"],
  ['ssh://-x', "hostname contains invalid characters\nerror establishing ssh connection on remote 'ssh://-x'"],
];

const ACCEPTED: ReadonlyArray<readonly [string, RemoteSpec]> = [
  ['direct:', { kind: 'direct' }],
  ['direct:x', { kind: 'direct' }],
  ['direct://h', { kind: 'direct' }],
  ['stapsh:', { kind: 'stapsh' }],
  ['stapsh:x', { kind: 'stapsh' }],
  ['unix:/run/stapsh.sock', { kind: 'unix', path: '/run/stapsh.sock' }],
  ['unix:rel', { kind: 'unix', path: 'rel' }],
  ['unix:/a%20b', { kind: 'unix', path: '/a%20b' }],
  [`unix:${OK_UNIX_106}`, { kind: 'unix', path: OK_UNIX_106 }],
  ['libvirt://', { kind: 'libvirt', domain: '', libvirtUri: null }],
  ['libvirt:dom', { kind: 'libvirt', domain: 'dom', libvirtUri: null }],
  ['libvirt:dom/', { kind: 'libvirt', domain: 'dom', libvirtUri: null }],
  ['libvirt:dom/uri', { kind: 'libvirt', domain: 'dom', libvirtUri: 'uri' }],
  ['libvirt:dom/qemu:///system?x', { kind: 'libvirt', domain: 'dom', libvirtUri: 'qemu:///system' }],
  ['libvirt://dom', { kind: 'libvirt', domain: 'dom', libvirtUri: null }],
  ['libvirt://dom?q', { kind: 'libvirt', domain: 'dom', libvirtUri: null }],
  ['libvirt://dom/qemu:///system', { kind: 'libvirt', domain: 'dom', libvirtUri: 'qemu:///system' }],
  ['libvirt://dom/qemu+ssh://h/system?keyfile=k', { kind: 'libvirt', domain: 'dom', libvirtUri: 'qemu+ssh://h/system?keyfile=k' }],
  ['ssh://h', { kind: 'ssh', host: 'h', port: null, user: null }],
  ['ssh://h/', { kind: 'ssh', host: 'h', port: null, user: null }],
  ['ssh://h:', { kind: 'ssh', host: 'h', port: null, user: null }],
  ['ssh://h:22/', { kind: 'ssh', host: 'h', port: 22, user: null }],
  ['ssh://u@h:2222', { kind: 'ssh', host: 'h', port: 2222, user: 'u' }],
  ['ssh://a%20b', { kind: 'ssh', host: 'a%20b', port: null, user: null }],
  ['host', { kind: 'ssh', host: 'host', port: null, user: null }],
  ['host:22', { kind: 'ssh', host: 'host', port: 22, user: null }],
  ['h:022', { kind: 'ssh', host: 'h', port: 22, user: null }],
  ['root@box', { kind: 'ssh', host: 'box', port: null, user: 'root' }],
  ['u@h@g', { kind: 'ssh', host: 'g', port: null, user: 'u@h' }],
  ['ssh:22', { kind: 'ssh', host: 'ssh', port: 22, user: null }],
  ['stapsh:22', { kind: 'ssh', host: 'stapsh', port: 22, user: null }],
  ['unix:22', { kind: 'ssh', host: 'unix', port: 22, user: null }],
  ['direct:22', { kind: 'ssh', host: 'direct', port: 22, user: null }],
];

describe('parseRemote: stap 4.8 error messages (measured)', () => {
  it.each(MEASURED)('%j', (uri, message) => {
    expect(parseRemote(uri)).toEqual({ ok: false, message });
  });
});

describe('parseRemote: accepted forms', () => {
  it.each(ACCEPTED)('%j', (uri, spec) => {
    expect(parseRemote(uri)).toEqual({ ok: true, spec });
  });

  it('splits like the uri_decoder: authority, path, query, fragment, nothing decoded', () => {
    expect(splitUri('s://a/p?q#f')).toEqual({ scheme: 's', authority: 'a', path: '/p', query: 'q', fragment: 'f' });
    expect(splitUri('s:p#f?x')).toEqual({ scheme: 's', authority: null, path: 'p', query: null, fragment: 'f?x' });
    expect(splitUri('s:?#')).toEqual({ scheme: 's', authority: null, path: '', query: '', fragment: '' });
    expect(splitUri('a\nb:x\ny')).toEqual({ scheme: 'a\nb', authority: null, path: 'x\ny', query: null, fragment: null });
    expect(splitUri(':x')).toBeNull();
  });
});

describe('parseRemote: properties', () => {
  fcTest.prop([fc.string({ unit: 'binary' })])('never throws; every failure ends with the remote suffix', (uri) => {
    const r = parseRemote(uri);
    if (!r.ok) expect(r.message.endsWith(` on remote '${uri}'`)).toBe(true);
  });

  const uriish = fc
    .array(fc.constantFrom('unix', 'ssh', 'libvirt', 'stapsh', 'direct', ':', '/', '//', '?', '#', '@', 'h', '22', 'a b', '-', ''), {
      maxLength: 8,
    })
    .map((parts) => parts.join(''));
  fcTest.prop([uriish])('never throws on URI-shaped input; ssh ports are 1..65535 and hosts non-empty', (uri) => {
    const r = parseRemote(uri);
    if (r.ok && r.spec.kind === 'ssh') {
      expect(r.spec.host).not.toBe('');
      if (r.spec.port !== null) expect(r.spec.port >= 1 && r.spec.port <= 65535).toBe(true);
    }
    if (!r.ok) expect(r.message.endsWith(` on remote '${uri}'`)).toBe(true);
  });

  fcTest.prop([fc.stringMatching(/^[a-z][a-z0-9.-]{0,20}$/), fc.integer({ min: 1, max: 65535 })])(
    'host:port with a numeric port is always ssh',
    (host, port) => {
      expect(parseRemote(`${host}:${port}`)).toEqual({ ok: true, spec: { kind: 'ssh', host, port, user: null } });
    },
  );
});

describe('splitCommandWords', () => {
  it.each([
    ['/usr/lib/systemtap/stapsh -v', ['/usr/lib/systemtap/stapsh', '-v']],
    ['  a   b\tc\n', ['a', 'b', 'c']],
    ['', []],
    ['   ', []],
    ["'a b' c", ['a b', 'c']],
    ["''", ['']],
    ['""', ['']],
    ['a""b', ['ab']],
    [`"a \\" \\$ \\\\ \\x"`, ['a " $ \\ \\x']],
    ["'a\\b'", ['a\\b']],
    ['a\\ b', ['a b']],
    ['a\\\nb', ['ab']],
    [`x'y'"z"`, ['xyz']],
    [`sh -c 'mount --bind "$0" /usr/bin/staprun && exec stapsh' /tmp/c.sh`, ['sh', '-c', 'mount --bind "$0" /usr/bin/staprun && exec stapsh', '/tmp/c.sh']],
    ['$HOME ~ *', ['$HOME', '~', '*']],
  ])('%j', (line, words) => {
    expect(splitCommandWords(line)).toEqual(words);
  });

  it.each(["'abc", '"abc', 'abc\\', '"a\\"'])('refuses %j', (line) => {
    expect(() => splitCommandWords(line)).toThrow(/unterminated|trailing backslash/);
  });

  fcTest.prop([fc.array(fc.string({ unit: 'grapheme-ascii' }), { maxLength: 6 })])('single-quoting each word round-trips', (words) => {
    const line = words.map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(' ');
    expect(splitCommandWords(line)).toEqual(words);
  });
});

describe('connectRemote: what it spawns, and its errors', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stapflow-connect-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stapsh: our own guest by default, -v per extra verbosity (at most two)', () => {
    const [node, script] = defaultStapshArgv();
    expect(node).toBe(process.execPath);
    expect(script).toMatch(/\/bin\/stapsh\.js$/);
    expect(stapshArgv({ stapshCommand: "/x/stap sh -q 'a b'", verbose: 5 })).toEqual(['/x/stap', 'sh', '-q', 'a b', '-v', '-v']);
    expect(stapshArgv({ verbose: 1 }).slice(-1)).toEqual(['-v']);
  });

  it('libvirt: stapvirt [-v]… [-c URI] connect DOMAIN, as stap builds it', () => {
    expect(stapvirtArgv('dom', null)).toEqual(['/usr/bin/stapvirt', 'connect', 'dom']);
    expect(stapvirtArgv('dom', 'qemu:///system', { verbose: 2, stapvirtCommand: 'sv' })).toEqual([
      'sv',
      '-v',
      '-v',
      '-c',
      'qemu:///system',
      'connect',
      'dom',
    ]);
  });

  it('libvirt: the spawned stapvirt gets the domain and URI; its stdout is the channel', async () => {
    const fake = join(dir, 'stapvirt');
    writeFileSync(fake, '#!/bin/sh\necho "argv: $*"\n');
    chmodSync(fake, 0o755);
    const uri = 'libvirt://guest1/qemu:///system';
    const parsed = parseRemote(uri);
    if (!parsed.ok) throw new Error(parsed.message);
    const t = await connectRemote(parsed.spec, uri, { stapvirtCommand: fake });
    const chunks: Uint8Array[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no EOF from the fake stapvirt within 5 s')), 5_000);
      t.incoming$.subscribe({ next: (c) => chunks.push(c), complete: () => (clearTimeout(timer), resolve()) });
    });
    expect(Buffer.concat(chunks).toString()).toBe('argv: -c qemu:///system connect guest1\n');
    expect(await t.exit).toEqual({ code: 0, signal: null });
    expect(t.name).toBe(uri);
    await t.close();
  });

  it('libvirt without stapvirt: "stapvirt missing"', async () => {
    const err = await connectRemote({ kind: 'libvirt', domain: 'd', libvirtUri: null }, 'libvirt:d', {
      stapvirtCommand: join(dir, 'nope'),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteConnectError);
    expect((err as Error).message).toMatch(/^stapvirt missing .* on remote 'libvirt:d'$/);
  });

  it('direct: refused clearly', async () => {
    await expect(connectRemote({ kind: 'direct' }, 'direct:', {})).rejects.toThrow(
      /^direct mode .* not supported by stapflow.* on remote 'direct:'$/,
    );
  });

  it('unix: a missing socket is reported as stap words it', async () => {
    const path = join(dir, 'missing.sock');
    await expect(connectRemote({ kind: 'unix', path }, `unix:${path}`, { connectTimeoutMs: 2_000 })).rejects.toThrow(
      `error connecting to socket ${path}: No such file or directory on remote 'unix:${path}'`,
    );
  });

  it('stapsh: a command that cannot start, and an unbalanced one', async () => {
    await expect(connectRemote({ kind: 'stapsh' }, 'stapsh:', { stapshCommand: join(dir, 'no-such-stapsh') })).rejects.toThrow(
      /^error launching stapsh .* on remote 'stapsh:'$/,
    );
    await expect(connectRemote({ kind: 'stapsh' }, 'stapsh:', { stapshCommand: "'x" })).rejects.toThrow(
      /unterminated ' quote.* on remote 'stapsh:'$/,
    );
  });

  it('ssh: errors name the remote', async () => {
    const err = await connectRemote({ kind: 'ssh', host: '-oProxyCommand=x', port: null, user: null }, 'ssh://-oProxyCommand=x', {}).then(
      (t) => t.close().then(() => null),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RemoteConnectError);
    expect((err as Error).message).toMatch(/ on remote 'ssh:\/\/-oProxyCommand=x'$/);
  });
});

describeReal('real stap 4.8 prints the same messages', () => {
  // Every one fails before stap compiles anything; the ssh-level ones fail inside ssh before any network access.
  itReal(
    `stderr contains our message for all ${MEASURED.length} measured bad URIs`,
    async () => {
      // Four stap processes at a time: 45 at once on two cores pushed some past their bound under load.
      const results: { uri: string; message: string; code: number | null; stderr: string }[] = [];
      const queue = [...MEASURED];
      const worker = async () => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
          const [uri, message] = next;
          const stap = runRealStap({ remote: uri, extraArgs: ['-p1'], script: 'probe begin { exit() }', timeoutMs: 60_000 });
          const r = await stap.result;
          // ssh ends its `hostname contains invalid characters` with CRLF (its log's line end).
          results.push({ uri, message, code: r.code, stderr: r.stderr.replaceAll('\r\n', '\n') });
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      expect(results.length).toBe(MEASURED.length);
      for (const r of results) {
        expect.soft(r.code, r.uri).toBe(1);
        expect.soft(r.stderr, r.uri).toContain(`${r.message}\n`);
      }
    },
    300_000,
  );
});
