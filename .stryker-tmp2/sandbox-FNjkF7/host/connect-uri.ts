/**
 * `connect(uri, options)`: the one-call host API. Parses the remote like
 * stap, opens the channel for its scheme, and starts a session; the channel
 * decides data framing as stap does (unix: and libvirt: ask for it).
 */
// @ts-nocheck


import { parseRemote } from '../protocol/remoteUri.js';
import type { Transport } from '../transports/transport.js';
import { connectRemote, RemoteConnectError, type ConnectOptions } from './connect.js';
import { startSession, type HostSessionHandle, type SessionOptions } from './session.js';

export type ConnectSessionOptions = Omit<SessionOptions, 'remote'> & { readonly connect?: ConnectOptions };

/** Start a session on a remote given as a URI (`unix:/path`, `stapsh:`, `ssh://host`, …) or on a transport you opened. */
export async function connect(target: string | Transport, options: ConnectSessionOptions): Promise<HostSessionHandle> {
  const { connect: connectOptions, ...session } = options;
  if (typeof target !== 'string') return startSession(target, { ...session, remote: target.name });
  const parsed = parseRemote(target);
  if (!parsed.ok) throw new RemoteConnectError(parsed.message, target, { code: 'EINVAL' });
  const transport = await connectRemote(parsed.spec, target, connectOptions ?? {});
  const wantData = session.wantData ?? (parsed.spec.kind === 'unix' || parsed.spec.kind === 'libvirt');
  return startSession(transport, { ...session, remote: target, wantData });
}
