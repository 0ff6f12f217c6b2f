/**
 * `--remote` values, parsed exactly as SystemTap 4.8's `stap` reads them
 * (`remote.cxx`: `uri_decoder`, `remote::create`, the per-scheme
 * constructors), with its exact error wording. Pure: no I/O.
 *
 * How stap 4.8 reads a remote URI:
 * 1. No `:` at all → ssh, the whole value is the ssh host (`[user@]host`).
 * 2. Otherwise it is split as RFC 3986, loosely, with the POSIX ERE
 *    `^([^:]+):(//[^/?#]*)?([^?#]*)(\?[^#]*)?(#.*)?$` into scheme,
 *    `//authority`, path, `?query`, `#fragment`. Only an empty scheme (a
 *    value starting with `:`) fails to match.
 * 3. No authority, query or fragment, and a non-empty all-digit path:
 *    `scheme:digits` is an ssh `host:port` (host = the "scheme").
 * 4. Schemes are case-sensitive: `direct` (anything after the colon is
 *    ignored), `stapsh` (likewise), `unix`, `libvirt`, `ssh`; anything else
 *    is refused.
 *    - `unix:PATH`: PATH non-empty (relative allowed), at most 107 bytes
 *      (`sun_path`), then no authority, query or fragment — in that order.
 *    - `libvirt://DOMAIN[/LIBVIRT_URI][?QUERY]` (DOMAIN may be empty; the
 *      query is appended to LIBVIRT_URI only when there is a path) or
 *      `libvirt:DOMAIN[/LIBVIRT_URI]` (DOMAIN up to the first `/`; a query
 *      is ignored). A fragment is refused first. An empty LIBVIRT_URI means
 *      none (`stapvirt` gets no `-c`).
 *    - `ssh://AUTHORITY[/]`: a non-empty authority, no path other than `/`,
 *      no query, no fragment.
 * 5. An ssh target string (`host`, `host:port`, the authority) is split at
 *    its FIRST `:` into host and port; an empty port is no port (`-p` is
 *    omitted). stap hands both to `ssh` unchecked, so what ssh (OpenSSH 9.2)
 *    refuses is refused here too, with the lines stap then prints: a port
 *    that is not 1..65535 (`Bad port 'P'`), a host starting with `-` or
 *    holding whitespace, control characters or one of '`"$\;&<>|(){}
 *    (`hostname contains invalid characters`), an empty host or user, or a
 *    user starting with `-` (ssh fails; stap says `error establishing ssh
 *    connection`). ssh takes
 *    the user as everything before the LAST `@` of the host.
 *
 * Messages measured with real stap 4.8 (`stap --remote=URI -p1 -e …`: stderr,
 * exit 1, before any compiling; stap adds a "Tip: …README.Debian" line):
 *
 * | `--remote=` | stderr (without the Tip line) |
 * |---|---|
 * | `:22` | `string doesn't appear to be a URI: :22 on remote ':22'` |
 * | `foo:bar` | `unrecognized URI scheme 'foo' in remote: foo:bar on remote 'foo:bar'` |
 * | `UNIX:/x` | `unrecognized URI scheme 'UNIX' in remote: UNIX:/x on remote 'UNIX:/x'` |
 * | `h:` | `unrecognized URI scheme 'h' in remote: h: on remote 'h:'` |
 * | `x:22?q` | `unrecognized URI scheme 'x' in remote: x:22?q on remote 'x:22?q'` |
 * | `x:22:33` | `unrecognized URI scheme 'x' in remote: x:22:33 on remote 'x:22:33'` |
 * | `unix:` | `unix target requires a /path on remote 'unix:'` |
 * | `unix:?q` | `unix target requires a /path on remote 'unix:?q'` |
 * | `unix://h` | `unix target requires a /path on remote 'unix://h'` |
 * | `unix:/` + 107 × `a` | `unix target /path is too long on remote '…'` |
 * | `unix:///abs` | `unix target doesn't support a hostname on remote 'unix:///abs'` (an empty authority is one) |
 * | `unix://host/path` | `unix target doesn't support a hostname on remote 'unix://host/path'` |
 * | `unix:/p?q` | `unix target URI doesn't support a ?query on remote 'unix:/p?q'` |
 * | `unix:/p#f` | `unix target URI doesn't support a #fragment on remote 'unix:/p#f'` |
 * | `libvirt:` | `libvirt target URI requires a domain name on remote 'libvirt:'` |
 * | `libvirt:?q` | `libvirt target URI requires a domain name on remote 'libvirt:?q'` |
 * | `libvirt:dom#f` | `libvirt target URI doesn't support a #fragment on remote 'libvirt:dom#f'` |
 * | `libvirt:#f` | `libvirt target URI doesn't support a #fragment on remote 'libvirt:#f'` |
 * | `ssh://`, `ssh:`, `ssh:/path` | `ssh target requires a hostname on remote 'ssh://'` (…) |
 * | `ssh://host/path` | `ssh target URI doesn't support a /path on remote 'ssh://host/path'` |
 * | `ssh://h?x` | `ssh target URI doesn't support a ?query on remote 'ssh://h?x'` |
 * | `ssh://h#x` | `ssh target URI doesn't support a #fragment on remote 'ssh://h#x'` |
 * | `h:0`, `h:65536`, `ssh://h:abc`, `ssh://u:p@h` | `Bad port '0'` / `'65536'` / `'abc'` / `'p@h'`, then `error establishing ssh connection on remote '…'` |
 * | `a b`, `a;b`, `-x` | `hostname contains invalid characters`, then `error establishing ssh connection on remote '…'` |
 * | `` (empty), `u@` | `error establishing ssh connection on remote ''` (…) |
 * | `@h`, `-u@h` | ssh's usage text, then `error establishing ssh connection on remote '@h'` (…) |
 * | `u@-h`, `ssh://-x` | `hostname contains invalid characters`, then `error establishing ssh connection on remote '…'` |
 *
 * Accepted (stap went on to connect): `direct:x`, `direct://h`,
 * `stapsh:x`, `unix:rel`, `libvirt://`, `libvirt:dom`, `libvirt:dom/uri`,
 * `libvirt://dom/qemu:///system`, `ssh://h/`, `ssh://h:`, `ssh://u@h:22`,
 * `h:022`, `ssh:22` and `stapsh:22` (ssh to host `ssh` / `stapsh`, port 22),
 * `ssh://a%20b` (no percent-decoding anywhere).
 *
 * ssh ends its `hostname contains invalid characters` line with CRLF; ours
 * is a plain newline.
 *
 * Deliberate difference: a port must be plain decimal digits (ssh's
 * strtonum would also take a leading `+` or blanks).
 */
// @ts-nocheck


/** Where a `--remote` points. */
export type RemoteSpec =
  | { readonly kind: 'direct' }
  | { readonly kind: 'stapsh' }
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'libvirt'; readonly domain: string; readonly libvirtUri: string | null }
  | { readonly kind: 'ssh'; readonly host: string; readonly port: number | null; readonly user: string | null };

export type ParseRemoteResult = { readonly ok: true; readonly spec: RemoteSpec } | { readonly ok: false; readonly message: string };

/** The parts of a URI as stap's `uri_decoder` splits them (nothing decoded). */
export interface UriParts {
  readonly scheme: string;
  readonly authority: string | null;
  readonly path: string;
  readonly query: string | null;
  readonly fragment: string | null;
}

// stap's POSIX ERE; `s` so that `.` also matches newlines, as in regcomp without REG_NEWLINE.
const URI_RE = /^([^:]+):(\/\/[^/?#]*)?([^?#]*)(\?[^#]*)?(#.*)?$/s;

/** Split like stap's `uri_decoder`; null where stap throws "string doesn't appear to be a URI". */
export function splitUri(uri: string): UriParts | null {
  const m = URI_RE.exec(uri);
  if (!m) return null;
  return {
    scheme: m[1]!,
    authority: m[2] === undefined ? null : m[2].slice(2),
    path: m[3] ?? '',
    query: m[4] === undefined ? null : m[4].slice(1),
    fragment: m[5] === undefined ? null : m[5].slice(1),
  };
}

/** `sizeof(sockaddr_un.sun_path) - 1` on Linux. */
export const UNIX_PATH_MAX = 107;

class RemoteError extends Error {}

const DIGITS = /^[0-9]+$/;
// OpenSSH's valid_hostname(): no leading '-', none of these, no space or control character.
// eslint-disable-next-line no-control-regex
const BAD_HOST = /['`"$\\;&<>|(){}\s\x00-\x1f\x7f]/;

function byteLength(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** stap's `ssh_remote::create(s, host)` followed by what ssh itself refuses. */
function sshTarget(target: string): RemoteSpec {
  const colon = target.indexOf(':');
  const hostPart = colon < 0 ? target : target.slice(0, colon);
  const portText = colon < 0 ? '' : target.slice(colon + 1);
  let port: number | null = null;
  if (portText !== '') {
    const n = DIGITS.test(portText) ? Number(portText) : NaN;
    if (!(n >= 1 && n <= 65535)) throw new RemoteError(`Bad port '${portText}'\nerror establishing ssh connection`);
    port = n;
  }
  const at = hostPart.lastIndexOf('@');
  const user = at < 0 ? null : hostPart.slice(0, at);
  const host = at < 0 ? hostPart : hostPart.slice(at + 1);
  // ssh fails on these (a user starting with '-' is read as an option: ssh prints its usage).
  if (host === '' || user === '' || user?.startsWith('-')) throw new RemoteError('error establishing ssh connection');
  if (host.startsWith('-') || BAD_HOST.test(host)) {
    throw new RemoteError('hostname contains invalid characters\nerror establishing ssh connection');
  }
  return { kind: 'ssh', host, port, user };
}

function unixSpec(ud: UriParts): RemoteSpec {
  if (ud.path === '') throw new RemoteError('unix target requires a /path');
  if (byteLength(ud.path) > UNIX_PATH_MAX) throw new RemoteError('unix target /path is too long');
  if (ud.authority !== null) throw new RemoteError("unix target doesn't support a hostname");
  if (ud.query !== null) throw new RemoteError("unix target URI doesn't support a ?query");
  if (ud.fragment !== null) throw new RemoteError("unix target URI doesn't support a #fragment");
  return { kind: 'unix', path: ud.path };
}

function libvirtSpec(ud: UriParts): RemoteSpec {
  if (ud.fragment !== null) throw new RemoteError("libvirt target URI doesn't support a #fragment");
  let domain: string;
  let libvirtUri = '';
  if (ud.authority !== null) {
    domain = ud.authority;
    if (ud.path !== '') {
      libvirtUri = ud.path.slice(1);
      if (ud.query !== null) libvirtUri += `?${ud.query}`;
    }
  } else {
    if (ud.path === '') throw new RemoteError('libvirt target URI requires a domain name');
    const slash = ud.path.indexOf('/');
    domain = slash < 0 ? ud.path : ud.path.slice(0, slash);
    if (slash >= 0) libvirtUri = ud.path.slice(slash + 1);
  }
  return { kind: 'libvirt', domain, libvirtUri: libvirtUri === '' ? null : libvirtUri };
}

function sshSpec(ud: UriParts): RemoteSpec {
  if (ud.authority === null || ud.authority === '') throw new RemoteError('ssh target requires a hostname');
  if (ud.path !== '' && ud.path !== '/') throw new RemoteError("ssh target URI doesn't support a /path");
  if (ud.query !== null) throw new RemoteError("ssh target URI doesn't support a ?query");
  if (ud.fragment !== null) throw new RemoteError("ssh target URI doesn't support a #fragment");
  return sshTarget(ud.authority);
}

function create(uri: string): RemoteSpec {
  if (!uri.includes(':')) return sshTarget(uri);
  const ud = splitUri(uri);
  if (!ud) throw new RemoteError(`string doesn't appear to be a URI: ${uri}`);
  // An ssh "host:port" is ambiguous with a URI "scheme:path": digits mean ssh.
  if (ud.authority === null && ud.query === null && ud.fragment === null && DIGITS.test(ud.path)) return sshTarget(uri);
  switch (ud.scheme) {
    case 'direct':
      return { kind: 'direct' };
    case 'stapsh':
      return { kind: 'stapsh' };
    case 'unix':
      return unixSpec(ud);
    case 'libvirt':
      return libvirtSpec(ud);
    case 'ssh':
      return sshSpec(ud);
    default:
      throw new RemoteError(`unrecognized URI scheme '${ud.scheme}' in remote: ${uri}`);
  }
}

/** The suffix stap adds to every remote's error. */
export function onRemote(message: string, uri: string): string {
  return `${message} on remote '${uri}'`;
}

/** Parse a `--remote` value as stap 4.8 does; never throws. */
export function parseRemote(uri: string): ParseRemoteResult {
  try {
    return { ok: true, spec: create(uri) };
  } catch (error) {
    if (error instanceof RemoteError) return { ok: false, message: onRemote(error.message, uri) };
    throw error;
  }
}
