/**
 * stapflow's library entry point: the host (sessions, many remotes), the
 * guest (sessions over any channel), the transports, the machines and the
 * protocol codecs, for embedding in orchestrators and test rigs.
 */

export { startSession } from './host/session.js';
export type { HostSessionHandle, ModuleFile, OutputChunk, SessionOptions, SessionResult } from './host/session.js';
export { runOnRemotes, prefixLines } from './host/runner.js';
export type { RemoteOutput, RemoteResult, RunnerHandle, RunnerOptions } from './host/runner.js';
export { LEGACY_RELEASE, needsSshLegacy, startSshLegacySession, SshLegacyRemote } from './host/sshLegacy.js';
export type { SshLegacyOptions, SshLegacySessionOptions } from './host/sshLegacy.js';
export { runGuestSession, ioFromTransports } from './guest/session.js';
export type { GuestIo, GuestSessionOptions } from './guest/session.js';

export * from './transports/index.js';

export { guestStapsh } from './machines/guestStapsh.js';
export type { GuestInput, GuestOutput, GuestEmitted, GuestInputEvent } from './machines/guestStapsh.js';
export { hostSession } from './machines/hostSession.js';
export type { GuestHello, HostSessionInput, HostOutput, HostEmitted, HostInputEvent } from './machines/hostSession.js';
export { staprunChild } from './machines/staprunChild.js';
export { pumpInto } from './guest/pump.js';
export { DEFAULT_GUEST_LIMITS } from './machines/guestReplies.js';
export type { GuestLimits } from './machines/guestReplies.js';

export * as encode from './protocol/encode.js';
export { ReplyDecoder } from './protocol/replyDecoder.js';
export { CommandDecoder } from './protocol/commandDecoder.js';
export { qpDecode, qpEncode } from './protocol/quotedPrintable.js';
export { strverscmp } from './protocol/version.js';
export { RELEASES, NEWEST_RELEASE, featuresOf, optionNames } from './protocol/releases.js';
export type { Features, ReleaseRow } from './protocol/releases.js';
export { runArguments, runtimeOf } from './protocol/runCommand.js';
export { connect } from './host/connect-uri.js';
export type { ConnectSessionOptions } from './host/connect-uri.js';
export { connectRemote, RemoteConnectError } from './host/connect.js';
export type { ConnectOptions } from './host/connect.js';
export { parseRemote } from './protocol/remoteUri.js';
export type { RemoteSpec } from './protocol/remoteUri.js';
export { runMemorySession } from './memory/session.js';
export type { MemorySessionOptions, MemorySessionResult } from './memory/session.js';
export { memoryGuestMachine, scriptedProcess } from './memory/actors.js';
export type { ChildScript } from './memory/actors.js';
