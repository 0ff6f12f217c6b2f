/**
 * The protocol's releases and what each one has, from SystemTap's history
 * (shared/protocol/REFERENCE.md, "Release timeline"). Any version string
 * maps to the features of the newest row not newer than it in glibc
 * `strverscmp` order, which is how SystemTap's host gates on the guest's
 * VERSION; anything below 1.5 is the pre-stapsh draft dialect.
 *
 * Rows for stapflow's own extensions (an `option status`, a hello nonce, …)
 * belong at the end of the table as new `Features` fields that are false in
 * every SystemTap row; none exist yet.
 */
// @ts-nocheck


import { strverscmp } from './version.js';

/** What a release of the protocol can do. Every field is monotonic: once true, true in all later rows. */
export interface Features {
  /** The pre-1.5 RFC draft: `arg SIZE`+data, `run`, `signal NUM`, no replies. */
  readonly draft: boolean;
  /**
   * ≥2.4: the `option` command, `option data` framing (`data stdout|stderr N`)
   * with the `quit` announcement, `option verbose`, listening mode `-l PORT`.
   */
  readonly options: boolean;
  /** ≥1.6: the host adds `-R` (rename the module) to the child's argv. */
  readonly renameFlag: boolean;
  /** ≥1.7: the host adds `-r IDX:URI` (remote id) to the child's argv. */
  readonly remoteIdFlag: boolean;
  /** ≥2.5: POLLHUP together with POLLIN counts as EOF only after the input was read. */
  readonly eofAfterRead: boolean;
  /** ≥3.2: `.so` modules run with stapdyn; `option dyninst`. */
  readonly dyninst: boolean;
  /** ≥5.1: `.bo` modules run with stapbpf; `option bpf`. */
  readonly bpf: boolean;
}

/** Names the `option` command knows in some release. */
export type OptionName = 'verbose' | 'data' | 'dyninst' | 'bpf';

/** One row of the release table. */
export interface ReleaseRow {
  /** The VERSION word a guest of this release says in its hello. */
  readonly release: string;
  /** Year of the SystemTap release. */
  readonly year: number;
  /** What changed for the protocol in this release. */
  readonly change: string;
  /** Everything this release has (inherited from earlier rows plus `change`). */
  readonly features: Features;
  /** The names `option NAME` accepts with `OK`, in the order they appeared. */
  readonly options: readonly OptionName[];
}

/** The draft dialect: what any version below the first row gets. */
const DRAFT: Features = Object.freeze({
  draft: true,
  options: false,
  renameFlag: false,
  remoteIdFlag: false,
  eofAfterRead: false,
  dyninst: false,
  bpf: false,
});

/** Options a guest with these features accepts; derived so table and flags cannot disagree. */
function optionsFor(f: Features): readonly OptionName[] {
  if (!f.options) return Object.freeze([]);
  const names: OptionName[] = ['verbose', 'data'];
  if (f.dyninst) names.push('dyninst');
  if (f.bpf) names.push('bpf');
  return Object.freeze(names);
}

function buildTable(): readonly ReleaseRow[] {
  const rows: ReleaseRow[] = [];
  let current = DRAFT;
  const add = (release: string, year: number, change: string, adds: Partial<Features>): void => {
    current = Object.freeze({ ...current, ...adds });
    rows.push(Object.freeze({ release, year, change, features: current, options: optionsFor(current) }));
  };
  add('1.5', 2011, 'stapsh: stap/file/run (quoted-printable args)/quit with OK/ERROR replies', { draft: false });
  add('1.6', 2011, 'host adds -R to the child argv', { renameFlag: true });
  add('1.7', 2012, 'host adds -r IDX:URI to the child argv', { remoteIdFlag: true });
  add('2.4', 2013, 'option (verbose, data), data framing + quit, listening mode -l, unix: and libvirt: schemes', {
    options: true,
  });
  add('2.5', 2014, 'POLLHUP with POLLIN is EOF only after reading', { eofAfterRead: true });
  add('3.2', 2017, '.so modules run with stapdyn; option dyninst', { dyninst: true });
  add('4.8', 2022, 'no protocol change (Debian bookworm; the measured reference)', {});
  add('5.1', 2024, '.bo modules run with stapbpf; option bpf', { bpf: true });
  add('5.5', 2025, 'no protocol change (newest release in the table)', {});
  return Object.freeze(rows);
}

/** Every release in the table, oldest first (strictly increasing by `strverscmp`). */
export const RELEASES: readonly ReleaseRow[] = buildTable();

/** The newest release in the table: what our guest says by default. */
export const NEWEST_RELEASE = '5.5';

/** The oldest stapsh release; anything below it is the draft dialect. */
export const FIRST_RELEASE = '1.5';

/**
 * The newest row not newer than `release`, or null below 1.5. Any string
 * works: "4.9" gets the 4.8 row, "5.1-rc1" the 5.1 row ('-' sorts after the
 * end), "" and "1.4" none, and words sorting after digits ("devel") the newest.
 */
export function releaseRowOf(release: string): ReleaseRow | null {
  let found: ReleaseRow | null = null;
  for (const row of RELEASES) {
    if (strverscmp(row.release, release) > 0) break;
    found = row;
  }
  return found;
}

/** The features of any release string (see `releaseRowOf`); the draft dialect below 1.5. */
export function featuresOf(release: string): Features {
  return releaseRowOf(release)?.features ?? DRAFT;
}

/** The option names a guest of this release answers with `OK`; none before 2.4. */
export function optionNames(release: string): readonly OptionName[] {
  return releaseRowOf(release)?.options ?? optionsFor(DRAFT);
}
