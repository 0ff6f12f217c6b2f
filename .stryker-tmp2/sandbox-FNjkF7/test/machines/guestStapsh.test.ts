// @ts-nocheck
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../protocol/bytes.js';
import { QUIT_GAP_MS } from '../../machines/guestStapsh.js';
import { runMemoryGuest, type ChildScript } from '../support/memoryGuest.js';

const HELLO_48 = 'stapsh 4.8 x86_64 6.1.0-test\n';
const lines = (...ls: string[]) => [utf8(ls.map((l) => `${l}\n`).join(''))];

describe('guestStapsh replies (as SystemTap 4.8 words them)', () => {
  it('answers every hello with its own release, whatever the host says', async () => {
    const r = await runMemoryGuest(lines('stap', 'stap 1.0 extra', 'stap\r'));
    expect(r.stdout).toBe(HELLO_48.repeat(3));
    expect(r.exitCode).toBe(0);
    expect(r.removed).toBe(true);
  });

  it('is silent on unknown and empty commands', async () => {
    const r = await runMemoryGuest(lines('bogus', '', 'OPTION data', 'stap'));
    expect(r.stdout).toBe(HELLO_48);
  });

  it('answers options by release', async () => {
    const r48 = await runMemoryGuest(lines('option data', 'option bpf', 'option', 'option dyninst', 'option foo', 'option  verbose'));
    // Data mode is on, so the end of the session is announced.
    expect(r48.stdout).toBe('OK\nERROR: Invalid option\nERROR: Could not parse option\nOK\nERROR: Invalid option\nOK\nquit\n');
    const r51 = await runMemoryGuest(lines('option bpf'), { release: '5.1' });
    expect(r51.stdout).toBe('OK\n');
    const r17 = await runMemoryGuest(lines('option data', 'stap'), { release: '1.7' });
    expect(r17.stdout).toBe('stapsh 1.7 x86_64 6.1.0-test\n');
  });

  it('checks file sizes and names in SystemTap order and wording', async () => {
    const r = await runMemoryGuest(
      lines('file', 'file 0 a', 'file -1 a', 'file 32000001 a', 'file x a', 'file 99999999999999999999 a'),
    );
    expect(r.stdout).toBe(
      [
        'ERROR: Bad file size -1',
        'ERROR: Bad file size 0',
        'ERROR: Bad file size -1',
        'ERROR: Bad file size 32000001',
        'ERROR: Bad file size 0',
        'ERROR: Bad file size -1',
        '',
      ].join('\n'),
    );
    const names = await runMemoryGuest([utf8("file 3 _a\nabcfile 3 a-b\nabcfile 3\nabc")]);
    expect(names.stdout).toBe("ERROR: Bad character '_' in file name\nERROR: Bad character '-' in file name\nERROR: Missing file name\n");
    expect(names.files.size).toBe(0);
  });

  it('stores accepted files and answers OK after the payload', async () => {
    const r = await runMemoryGuest([utf8('file 5 A9._\nx\ny\nzfile 3 b x y\nabc')]);
    expect(r.stdout).toBe('OK\nOK\n');
    expect(r.files.get('A9._')).toBe('x\ny\nz');
    expect(r.files.get('b')).toBe('abc');
  });

  it('refuses a name too long to open, and keeps the stream in sync', async () => {
    const name = 'n'.repeat(256);
    const r = await runMemoryGuest([utf8(`file 3 ${name}\nabcstap\n`)]);
    expect(r.stdout).toBe(`ERROR: Can't open file "${name}" for writing\n${HELLO_48}`);
  });

  it('enforces the cumulative upload cap with a clear error', async () => {
    const r = await runMemoryGuest([utf8('file 4 a\nabcdfile 4 b\nabcdstap\n')], { limits: { maxUploadTotal: 6 } });
    expect(r.stdout).toBe(`OK\nERROR: Upload limit exceeded (6 bytes per session)\n${HELLO_48}`);
    expect([...r.files.keys()]).toEqual(['a']);
  });

  it('decodes run arguments and refuses bad ones', async () => {
    const bad = await runMemoryGuest(lines('run =', `run ${Array(256).fill('a').join(' ')}`));
    expect(bad.stdout).toBe('ERROR: Invalid encoding in argument "="\nERROR: Too many arguments\n');
    const ok = await runMemoryGuest(lines('run a=20b c\tx =3D=0a =41=4a=4A'), { child: { exitCode: 0 } });
    expect(ok.stdout).toBe('OK\n');
    expect(ok.spawned[0]?.argv).toEqual(['/usr/bin/staprun', 'a b', 'c', 'x', '=\n', 'AJJ']);
    expect(ok.spawned[0]?.cwd).toBe('/tmp/stapsh.TEST');
  });

  it('picks the child program from the latest file and options', async () => {
    const so = await runMemoryGuest([utf8('file 1 m.so\nxrun\n')], { child: { missing: ['stapdyn'] } });
    expect(so.stdout).toBe("OK\nERROR: Can't execute /usr/bin/stapdyn (No such file or directory)\n");
    const ko = await runMemoryGuest([utf8('file 1 m.so\nxfile 1 m.ko\nxrun\n')], { child: { exitCode: 0 } });
    expect(ko.spawned[0]?.path).toBe('/usr/bin/staprun');
    const bo48 = await runMemoryGuest([utf8('file 1 m.bo\nxrun\n')], { child: { exitCode: 0 } });
    expect(bo48.spawned[0]?.path).toBe('/usr/bin/staprun');
    const bo51 = await runMemoryGuest([utf8('file 1 m.bo\nxrun\n')], { release: '5.1', child: { exitCode: 0 } });
    expect(bo51.spawned[0]?.path).toBe('/usr/bin/stapbpf');
    const forced = await runMemoryGuest(lines('option dyninst', 'run'), { child: { exitCode: 0 } });
    expect(forced.spawned[0]?.path).toBe('/usr/bin/stapdyn');
  });
});

describe('guestStapsh sessions', () => {
  it('frames output in data mode, says quit, and exits with the child status', async () => {
    const r = await runMemoryGuest(lines('stap 4.8', 'option data', 'run x'), {
      child: { start: [['stdout', 'hello\n'], ['stderr', 'warn\n']], exitCode: 3 },
      eof: false,
    });
    expect(r.stdout).toBe(`${HELLO_48}OK\nOK\ndata stdout 6\nhello\nquit\n`);
    expect(r.stderr).toBe('data stderr 5\nwarn\n');
    expect(r.exitCode).toBe(3);
    expect(r.removed).toBe(true);
  });

  it("leaves SystemTap's host a gap between the last frame and quit; not stapflow's, nor after no frame", async () => {
    // SystemTap's stap (no `option status`) keeps what follows a frame in one read unseen until more bytes come.
    const child: ChildScript = { start: [['stdout', 'tick\n']], onHup: [['stdout', 'end probe\n']], hupExitCode: 0 };
    const stap = await runMemoryGuest(lines('stap 4.8', 'option data', 'run', 'quit'), { child });
    expect(stap.paced).toBe(`${HELLO_48}OK\nOK\ndata stdout 5\ntick\ndata stdout 10\nend probe\n<gap ${QUIT_GAP_MS}>quit\n`);
    const ours = await runMemoryGuest(lines('stap 4.8', 'option data', 'option status', 'run', 'quit'), { child });
    expect(ours.paced).toBe(`${HELLO_48}OK\nOK\nOK\ndata stdout 5\ntick\ndata stdout 10\nend probe\nstatus 0\nquit\n`);
    const silent = await runMemoryGuest(lines('stap 4.8', 'option data', 'run', 'quit'), { child: { hupExitCode: 0 } });
    expect(silent.paced).toBe(`${HELLO_48}OK\nOK\nquit\n`);
    expect(QUIT_GAP_MS).toBeGreaterThan(0);
  });

  it('passes output through raw without data mode', async () => {
    const r = await runMemoryGuest(lines('run'), { child: { start: [['stdout', 'raw\n']], exitCode: 0 } });
    expect(r.stdout).toBe('OK\nraw\n');
  });

  it('on quit hangs up the child and keeps its last words (SystemTap loses them)', async () => {
    const r = await runMemoryGuest(lines('option data', 'run', 'quit'), {
      child: { start: [['stdout', 'tick\n']], onHup: [['stdout', 'end probe\n']], hupExitCode: 7 },
    });
    expect(r.stdout).toBe('OK\nOK\ndata stdout 5\ntick\ndata stdout 10\nend probe\nquit\n');
    expect(r.exitCode).toBe(7);
  });

  it('hangs up the child on EOF and on a signal', async () => {
    const eof = await runMemoryGuest(lines('run'), { child: { onHup: [['stdout', 'bye\n']], hupExitCode: 7 } });
    expect(eof.stdout).toBe('OK\nbye\n');
    expect(eof.exitCode).toBe(7);
    expect(eof.childEvents).toEqual(['spawned', 'signal SIGHUP', 'exited 7']);
    const sig = await runMemoryGuest(lines('run'), { child: { hupExitCode: 5 }, signal: 'SIGTERM' });
    expect(sig.exitCode).toBe(5);
  });

  it('kills a child that ignores SIGHUP after the grace period (128+9)', async () => {
    const r = await runMemoryGuest(lines('run'), { child: { ignoreHup: true } });
    expect(r.exitCode).toBe(137);
    expect(r.removed).toBe(true);
    // Both signals are reported, in order, for traces.
    expect(r.childEvents).toEqual(['spawned', 'signal SIGHUP', 'signal SIGKILL', 'exited SIGKILL']);
  });

  it('answers only options after run; stap, file and run get silence', async () => {
    const r = await runMemoryGuest(lines('run', 'stap', 'file 3 a', 'run', 'option data'), {
      child: { onHup: [['stdout', 'bye\n']], hupExitCode: 0 },
    });
    // Framing is fixed when the child starts, as for SystemTap's inherited stdout.
    expect(r.stdout).toBe('OK\nOK\nbye\nquit\n');
  });

  it('handles every command that arrived in one chunk (SystemTap stalls)', async () => {
    const r = await runMemoryGuest(lines('stap', 'stap', 'stap', 'option'));
    expect(r.stdout).toBe(`${HELLO_48.repeat(3)}ERROR: Could not parse option\n`);
  });

  it('says too long for an overlong line and carries on', async () => {
    const r = await runMemoryGuest([utf8(`${'x'.repeat(70_000)}\nstap\n`)]);
    expect(r.stdout).toBe(`ERROR: Command line too long\n${HELLO_48}`);
  });

  it('in listening mode ignores everything before the first stap', async () => {
    const r = await runMemoryGuest([utf8('garbage\nfile 3 x\nOK\nstap 4.8\nfile 1 a\nz')], { listening: true });
    expect(r.stdout).toBe(`${HELLO_48}OK\n`);
    expect([...r.files.keys()]).toEqual(['a']);
  });

  it('logs commands and replies as stapsh: debug lines when verbose', async () => {
    const r = await runMemoryGuest(lines('stap', 'option verbose'), { verbose: 1 });
    expect(r.stderr).toContain('stapsh: command: stap\n');
    expect(r.stderr).toContain(`stapsh: reply: ${HELLO_48}`);
    expect(r.stderr.split('\n').every((l) => l === '' || l.startsWith('stapsh:'))).toBe(true);
  });

  it('announces quit when the session ends without a child in data mode', async () => {
    const r = await runMemoryGuest(lines('option data', 'quit'));
    expect(r.stdout).toBe('OK\nquit\n');
    expect(r.exitCode).toBe(0);
  });
});

describe('stale bytes glued to the hello (listening mode)', () => {
  it('answers a hello that follows a partial stale line on the same line', async () => {
    const r = await runMemoryGuest([utf8('tick 4stap 4.8\nfile 1 a\nz')], { listening: true });
    expect(r.stdout).toBe(`${HELLO_48}OK\n`);
  });

  it('still ignores lines that merely mention stap', async () => {
    const r = await runMemoryGuest([utf8('restap-ish words\nstapler 1\nstap\n')], { listening: true });
    expect(r.stdout).toBe(HELLO_48);
  });
});

describe('stapflow extensions in the guest', () => {
  it('option status: OK, then `status CODE` just before quit', async () => {
    const r = await runMemoryGuest(lines('option data', 'option status', 'run'), { child: { start: [['stdout', 'hi\n']], exitCode: 3 } });
    expect(r.stdout).toBe('OK\nOK\nOK\ndata stdout 3\nhi\nstatus 3\nquit\n');
    expect(r.exitCode).toBe(3);
  });

  it('option status: `status signal 9` for a child killed after the grace period', async () => {
    const r = await runMemoryGuest(lines('option status', 'option data', 'run', 'quit'), { child: { ignoreHup: true } });
    expect(r.stdout).toBe('OK\nOK\nOK\nstatus signal 9\nquit\n');
  });

  it('option status without data mode, or without a child, adds nothing', async () => {
    const raw = await runMemoryGuest(lines('option status', 'run'), { child: { start: [['stdout', 'raw\n']], exitCode: 0 } });
    expect(raw.stdout).toBe('OK\nOK\nraw\n');
    const none = await runMemoryGuest(lines('option status', 'option data', 'quit'));
    expect(none.stdout).toBe('OK\nOK\nquit\n');
  });

  it('as SystemTap: `option status` is an invalid option, and before 2.4 `option` is silence', async () => {
    const off = await runMemoryGuest(lines('option status', 'option data', 'run'), { extensions: false, child: { exitCode: 3 } });
    expect(off.stdout).toBe('ERROR: Invalid option\nOK\nOK\nquit\n');
    const old = await runMemoryGuest(lines('option status', 'stap'), { release: '2.3' });
    expect(old.stdout).toBe('stapsh 2.3 x86_64 6.1.0-test\n');
  });

  it('echoes a well-formed hello nonce; ignores it when off, and ignores malformed ones', async () => {
    const r = await runMemoryGuest(lines('stap 4.8 nonce=abc-DEF_9', 'stap 4.8 nonce=bad/token', 'stap 4.8 x nonce=abc'));
    expect(r.stdout).toBe(`${HELLO_48.trimEnd()} nonce=abc-DEF_9\n${HELLO_48}${HELLO_48}`);
    const off = await runMemoryGuest(lines('stap 4.8 nonce=abc'), { extensions: false });
    expect(off.stdout).toBe(HELLO_48);
  });

  it('in listening mode, echoes the nonce of a hello glued to a stale partial line', async () => {
    const r = await runMemoryGuest([utf8('OK\nleftover without newlinestap 4.8 nonce=T0k\n')], { listening: true });
    expect(r.stdout).toBe(`${HELLO_48.trimEnd()} nonce=T0k\n`);
  });
});

describe('the pre-1.5 draft dialect (--protocol-version below 1.5)', () => {
  it('never replies; takes `arg SIZE` payloads as the next run\'s argv and passes the child\'s output raw', async () => {
    const r = await runMemoryGuest([utf8('stap 1.4\nfile 3 m.ko\nELFarg 2\n-xarg 11\nhello world\narg 0\nbogus\nrun ignored words\n')], {
      release: '1.4',
      child: { start: [['stdout', 'raw out\n']], exitCode: 3 },
    });
    expect(r.stdout).toBe('raw out\n');
    expect(r.files.get('m.ko')).toBe('ELF');
    expect(r.spawned[0]?.argv).toEqual(['/usr/bin/staprun', '-x', 'hello world', '']);
    expect(r.exitCode).toBe(3);
    expect(r.removed).toBe(true);
  });

  it('`signal NUM` reaches the running child (1, 2, 9, 15 only); `quit` is no command there: EOF ends it', async () => {
    const r = await runMemoryGuest(lines('run', 'signal 10', 'quit', 'signal 1'), {
      release: '1.0',
      child: { onHup: [['stdout', 'hung up\n']], hupExitCode: 4 },
      eof: false,
    });
    expect(r.stdout).toBe('hung up\n');
    expect(r.exitCode).toBe(4);
    expect(r.childEvents).toEqual(['spawned', 'signal SIGHUP', 'exited 4']);
  });

  it('errors stay silent, and an argument over 64 KiB is read and dropped, keeping the stream in step', async () => {
    const big = 'a'.repeat(70_000);
    const r = await runMemoryGuest([utf8(`file 0 x\noption data\narg ${big.length}\n${big}arg 1\nzrun\n`)], { release: '1.4', child: { exitCode: 0 } });
    expect(r.stdout).toBe('');
    expect(r.spawned[0]?.argv).toEqual(['/usr/bin/staprun', 'z']);
  });
});

