/**
 * Building blocks of SystemTap's legacy ssh mode (`ssh_legacy_remote`), for
 * remotes without `stapsh` (the stapsh command exited 127): the system
 * ssh/scp over one control master.
 *
 * SystemTap's sequence, each an ssh (or scp) through the master's
 * `ControlPath`:
 *   1. master      `ssh -q -o ControlPath=CTL HOST [-p PORT] -f -N -M`
 *   2. uname       `… -t 'uname -rm'` → release, machine
 *   3. temp dir    `… -t 'mktemp -d -t stapXXXXXX'`
 *   4. upload      `scp -q -o ControlPath=CTL [-P PORT] MODULE HOST:TMPDIR/MODULE`
 *   5. run         `… -t 'staprun TMPDIR/MODULE ARGS…'` (the remote picks staprun's path)
 *   6. clean up    `… -t 'rm -r TMPDIR'`, then `… -O exit` (master).
 *
 * Deliberate differences: the master runs in the foreground as our child
 * (`-N -M` without `-f`, ready once its control socket exists), so it is
 * killed with us instead of outliving a crashed host; every step is bounded;
 * the run's remote shell leaves its pid in `TMPDIR/.stapflow-staprun.pid`
 * before `exec`ing staprun, so an interrupt can reach staprun through the
 * master (`kill -INT`) where stap relies on the terminal's Ctrl-C crossing
 * `ssh -t`'s pty. `startSshLegacySession` runs the whole sequence as a host
 * session (see there).
 *
 * By job: `sshLegacy/steps.ts` (the remote commands and the bounded step
 * runner), `sshLegacy/master.ts` (the control master and the ssh/scp command
 * lines through it), `sshLegacy/remote.ts` (the steps against one remote),
 * `sshLegacy/session.ts` (a whole run as a host session).
 */
// @ts-nocheck


export { ControlMaster, type SshLegacyOptions } from './sshLegacy/master.js';
export { SshLegacyRemote } from './sshLegacy/remote.js';
export { needsSshLegacy, startSshLegacySession, type SshLegacySessionOptions } from './sshLegacy/session.js';
export { LEGACY_PID_FILE, LEGACY_RELEASE, legacyRunCommand, remoteQuote, type StepResult } from './sshLegacy/steps.js';
