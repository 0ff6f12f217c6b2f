/**
 * The command side of a hand-written guest for host tests: splits what a
 * host sends into command lines and skips each `file` line's payload, so a
 * test can answer as it likes (a guest that floods, bursts, or lies). Kept
 * apart from protocol/commandDecoder.ts on purpose: an oracle should not
 * share code with what it checks.
 */
// @ts-nocheck


export interface FakeGuestHandlers {
  /** A command line (without its newline). */
  line(text: string): void;
  /** A `file` line's payload has been read in full (answer its `OK` here). */
  fileDone(): void;
}

/** Returns a `push(chunk)` for the host's bytes; calls `handlers` in order. */
export function fakeGuestCommands(handlers: FakeGuestHandlers): (chunk: Uint8Array) => void {
  let buf = Buffer.alloc(0);
  let fileLeft = 0;
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (fileLeft > 0) {
        const n = Math.min(fileLeft, buf.length);
        buf = buf.subarray(n);
        fileLeft -= n;
        if (fileLeft > 0) return;
        handlers.fileDone();
      }
      const nl = buf.indexOf(0x0a);
      if (nl < 0) return;
      const text = buf.subarray(0, nl).toString('latin1');
      buf = buf.subarray(nl + 1);
      handlers.line(text);
      if (text.startsWith('file ')) {
        fileLeft = Number(text.split(' ')[1]);
        if (!(fileLeft > 0)) {
          fileLeft = 0;
          handlers.fileDone();
        }
      }
    }
  };
}
