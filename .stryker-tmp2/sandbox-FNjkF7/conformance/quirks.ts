/**
 * SystemTap 4.8 quirks that stapflow deliberately does not share (README,
 * "Differences from SystemTap"; docs/stapsh-4.8-measured.md). A scenario may
 * only answer QUIRK with one of these.
 */
// @ts-nocheck


export const QUIRKS = {
  'eof-drop': 'commands arriving together with EOF are dropped (one line handled per poll wake-up; README difference 1)',
  'refused-file-payload': 'the payload of a refused file is read as commands (README difference 2)',
  'lost-after-sighup': 'in data mode the child output after SIGHUP is lost (README difference 3)',
  'long-line-split': 'command lines over 4095 bytes are split into several commands (README difference 4)',
  'output-before-ok': "without data mode the child's output can precede the guest's OK (README difference 10)",
} as const;

export type QuirkId = keyof typeof QUIRKS;

export function isQuirk(id: string): id is QuirkId {
  return Object.prototype.hasOwnProperty.call(QUIRKS, id);
}
