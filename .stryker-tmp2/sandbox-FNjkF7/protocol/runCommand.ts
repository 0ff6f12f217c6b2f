/**
 * The child's argv as stap's host builds it for a remote (its
 * `make_run_command`), by the module's runtime and the guest's release.
 * The guest picks argv[0] itself, so only the arguments are built here.
 */
// @ts-nocheck


import { featuresOf } from './releases.js';

export type Runtime = 'kernel' | 'dyninst' | 'bpf';

/** The runtime a compiled module's file name implies. */
export function runtimeOf(moduleName: string): Runtime {
  if (moduleName.endsWith('.so')) return 'dyninst';
  if (moduleName.endsWith('.bo')) return 'bpf';
  return 'kernel';
}

export interface RunCommandSpec {
  /** The uploaded module's file name (sent as `./NAME`). */
  readonly module: string;
  readonly moduleArgs?: readonly string[];
  readonly guestRelease: string;
  /** This remote's index among `--remote`s, and its URI (for remote_id()/remote_uri()). */
  readonly remoteIndex: number;
  readonly remoteUri: string;
  /** A module name given with `-m`: no `-R` rename then. */
  readonly moduleNameForced?: boolean;
}

export function runArguments(spec: RunCommandSpec): string[] {
  const f = featuresOf(spec.guestRelease);
  const path = `./${spec.module}`;
  const args = spec.moduleArgs ?? [];
  switch (runtimeOf(spec.module)) {
    case 'kernel':
      return [
        ...(f.renameFlag && !spec.moduleNameForced ? ['-R'] : []),
        ...(f.remoteIdFlag ? ['-r', `${spec.remoteIndex}:${spec.remoteUri}`] : []),
        path,
        ...args,
      ];
    case 'dyninst':
      return [path, ...args, ...(f.remoteIdFlag ? [`_stp_dyninst_remote=${spec.remoteIndex}:${spec.remoteUri}`] : [])];
    case 'bpf':
      return [path, ...args];
  }
}
