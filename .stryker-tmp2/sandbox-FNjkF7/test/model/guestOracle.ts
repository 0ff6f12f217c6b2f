/**
 * What the guest must write on stdout for each step of a model path, from
 * sources other than the machine under test: the protocol reference
 * (../shared/protocol/REFERENCE.md: the command/reply table), SystemTap
 * 4.8's replies as measured (docs/stapsh-4.8-measured.md) and the README's
 * stated differences (the 64 KiB line cap, `option status`, listening mode).
 *
 * It reads only the path's events and keeps its own small context (hello
 * seen, data mode, a child running, the forced runner), never the model's
 * states or emitted bytes. For steps it has no opinion on (payload parts,
 * child output, ends of the session, a failed spawn) it says null.
 */
// @ts-nocheck


import type { AnyEventObject } from 'xstate';
import { GLUED_HELLO, GUEST_EVENTS, GUEST_LINES, guestInput, isCommand, lineText, type GuestModelOptions } from './guestModel.js';

/** REFERENCE.md's table and the 4.8 measurements, for the lines the model sends (a release ≥ 3.2, stapflow's extensions on). */
const REPLY: Readonly<Record<string, string>> = {
  [GUEST_LINES.optionData]: 'OK',
  [GUEST_LINES.optionVerbose]: 'OK',
  [GUEST_LINES.optionProgram]: 'OK', // `dyninst` (≥3.2)
  [GUEST_LINES.optionBad]: 'ERROR: Invalid option',
  [GUEST_LINES.optionStatus]: 'OK', // stapflow's extension, answered when asked
  [GUEST_LINES.fileRefused]: "ERROR: Bad character '_' in file name",
  [GUEST_LINES.fileBadSize]: 'ERROR: Bad file size 0',
  [GUEST_LINES.runBad]: 'ERROR: Invalid encoding in argument "="',
};

export interface GuestOracle {
  /** The stdout bytes (latin1) this event must add, or null for no opinion. */
  step(event: AnyEventObject): string | null;
}

export function guestOracle(o: GuestModelOptions): GuestOracle {
  const input = guestInput(o);
  const hello = `stapsh ${input.release} ${input.machine} ${input.kernelRelease}\n`;
  // Before 1.5 (the draft) nothing is ever answered.
  const draft = input.release < '1.5';
  let helloSeen = !o.listening;
  let dataMode = false;
  let child: 'none' | 'starting' | 'running' = 'none';
  let program = 'staprun';
  let file: 'none' | 'kept' | 'refused' = 'none';
  let over = false;
  const say = (text: string) => (draft ? '' : `${text}\n`);

  const command = (text: string): string | null => {
    // Listening mode: nothing before the first `stap`, also one glued behind stale bytes.
    if (!helloSeen) {
      if (text === GUEST_LINES.stap || text === GLUED_HELLO) {
        helloSeen = true;
        return draft ? '' : hello;
      }
      return '';
    }
    const option = text.startsWith('option ');
    // Listening mode: a `stap` while the child runs is another host's hello; the session ends as on EOF.
    if (o.listening && child === 'running' && text === GUEST_LINES.stap) {
      over = true;
      return '';
    }
    if (child !== 'none' && !option) return ''; // while the child runs only options are answered
    if (option) {
      if (draft) return ''; // `option` is ≥2.4
      if (text === GUEST_LINES.optionData) dataMode = true;
      if (text === GUEST_LINES.optionProgram) program = 'stapdyn';
      return say(REPLY[text]!);
    }
    if (text === GUEST_LINES.stap) return draft ? '' : hello;
    if (text === GUEST_LINES.quit) {
      if (draft) return '';
      over = true;
      return dataMode ? 'quit\n' : ''; // data mode announces the end
    }
    if (text === GUEST_LINES.fileOk) {
      file = 'kept';
      return ''; // OK once the payload is stored
    }
    if (text === GUEST_LINES.fileRefused) file = 'refused';
    if (text === GUEST_LINES.runOk) {
      child = 'starting';
      return ''; // OK once the child runs
    }
    return text in REPLY ? say(REPLY[text]!) : '';
  };

  return {
    step(e) {
      if (over) return null;
      if (isCommand(e)) {
        const text = lineText(e);
        // The draft's own words (`arg`, `signal`) and its `run` are never answered; their effects are not replies.
        if (draft) {
          if (text === GUEST_LINES.runOk && helloSeen) child = child === 'none' ? 'starting' : child;
          return '';
        }
        return command(text);
      }
      switch (e.type) {
        case GUEST_EVENTS.overlong.type:
          return helloSeen ? say('ERROR: Command line too long') : null;
        case GUEST_EVENTS.spawned.type:
          child = 'running';
          return say('OK');
        case GUEST_EVENTS.failed.type:
          child = 'none';
          // The model's puppet fails with ENOENT; measured: `ERROR: Can't execute /usr/bin/stapdyn (No such file or directory)`.
          return say(`ERROR: Can't execute ${input.bindir}/${program} (${e.reason})`);
        case GUEST_EVENTS.exited3.type:
          child = 'none';
          over = true;
          return null;
        case GUEST_EVENTS.writeDone.type:
          file = 'none';
          return say('OK');
        case GUEST_EVENTS.writeError.type:
          file = 'none';
          return say(`ERROR: Can't open file "a" for writing`);
        case GUEST_EVENTS.payloadDone.type:
          file = file === 'refused' ? 'none' : file;
          return file === 'kept' ? '' : null;
        case GUEST_EVENTS.eof.type:
        case GUEST_EVENTS.signal.type:
          over = true;
          return null;
        default:
          return null;
      }
    },
  };
}
