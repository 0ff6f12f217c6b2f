/**
 * The protocol's releases and what each one has, from SystemTap's history
 * (see shared/protocol/REFERENCE.md). Any version string maps to the
 * features of the newest listed release not newer than it (glibc
 * strverscmp order); below 1.5 is the draft dialect.
 */

import { strverscmp } from './version.js';

export interface Features {
  /** The pre-1.5 draft: `arg SIZE`+data, `signal NUM`, no replies. */
  readonly draft: boolean;
  /** `option` command, `data` framing with the `quit` announcement, `verbose`, listening mode `-l`. */
  readonly options: boolean;
  /** The host adds `-R` (rename the module) to staprun's argv. */
  readonly renameFlag: boolean;
  /** The host adds `-r IDX:URI` (remote id) to staprun's argv. */
  readonly remoteIdFlag: boolean;
  /** POLLHUP with POLLIN is EOF only after the input was read (2.5 fix). */
  readonly eofAfterRead: boolean;
  /** `.so` modules run with stapdyn; `option dyninst`. */
  readonly dyninst: boolean;
  /** `.bo` modules run with stapbpf; `option bpf`. */
  readonly bpf: boolean;
}

export interface ReleaseRow {
  readonly release: string;
  readonly year: number;
  readonly change: string;
  readonly features: Features;
}

const NONE: Features = {
  draft: true,
  options: false,
  renameFlag: false,
  remoteIdFlag: false,
  eofAfterRead: false,
  dyninst: false,
  bpf: false,
};

const row = (release: string, year: number, change: string, features: Partial<Features>, base: Features): ReleaseRow => ({
  release,
  year,
  change,
  features: { ...base, ...features },
});

function build(): ReleaseRow[] {
  const rows: ReleaseRow[] = [];
  let f: Features = NONE;
  const add = (release: string, year: number, change: string, more: Partial<Features>) => {
    const r = row(release, year, change, more, f);
    f = r.features;
    rows.push(r);
  };
  add('1.5', 2011, 'stapsh: stap/file/run (quoted-printable args)/quit with OK/ERROR replies', { draft: false });
  add('1.6', 2011, 'host adds -R to staprun argv', { renameFlag: true });
  add('1.7', 2012, 'host adds -r IDX:URI to staprun argv', { remoteIdFlag: true });
  add('2.4', 2013, 'option (data, verbose), data framing + quit, listening mode -l, unix: and libvirt:', { options: true });
  add('2.5', 2014, 'POLLHUP with POLLIN is EOF only after reading', { eofAfterRead: true });
  add('3.2', 2017, '.so modules run with stapdyn, option dyninst', { dyninst: true });
  add('4.8', 2022, 'Debian bookworm release (reference for quirks)', {});
  add('5.1', 2024, '.bo modules run with stapbpf, option bpf', { bpf: true });
  add('5.5', 2025, 'newest release in the table', {});
  return rows;
}

/** Every release in the table, oldest first. */
export const RELEASES: readonly ReleaseRow[] = build();

export const NEWEST_RELEASE = '5.5';

/** Features of any release string. */
export function featuresOf(release: string): Features {
  let found: Features = NONE;
  for (const r of RELEASES) if (strverscmp(r.release, release) <= 0) found = r.features;
  return found;
}

/** The options a guest of this release accepts. */
export function optionNames(release: string): readonly string[] {
  const f = featuresOf(release);
  if (!f.options) return [];
  return ['verbose', 'data', ...(f.dyninst ? ['dyninst'] : []), ...(f.bpf ? ['bpf'] : [])];
}
