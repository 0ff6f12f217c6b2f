/**
 * stapflow's library (`import … from 'stapflow'`), what the README's
 * "Library API" section shows: the host (connect to a remote, run a session,
 * many remotes), the guest (serve one in a call, or run a session over any
 * channel), traces (record, write, render), the transports, and, for
 * embedding below that level, the machines and the protocol codecs.
 * Helpers for tests (scripted children, in-memory guests, stand-ins) are in
 * `stapflow/testing` (testing.ts).
 */
// @ts-nocheck


// Host: one remote by URI, one session over any transport, many remotes, ssh legacy mode.
export { connect } from './host/connect-uri.js';
export type { ConnectSessionOptions } from './host/connect-uri.js';
export { connectRemote, RemoteConnectError } from './host/connect.js';
export type { ConnectOptions } from './host/connect.js';
export { startSession } from './host/session.js';
export type { HostSessionHandle, ModuleFile, OutputChunk, SessionOptions, SessionResult } from './host/session.js';
export { runOnRemotes, prefixLines } from './host/runner.js';
export type { RemoteOutput, RemoteResult, RunnerHandle, RunnerOptions } from './host/runner.js';
export { DEFAULT_OUTPUT_HIGH_WATER_MARK } from './host/output.js';
export type { OutputMembers } from './host/output.js';
export { LEGACY_RELEASE, needsSshLegacy, startSshLegacySession, SshLegacyRemote } from './host/sshLegacy.js';
export type { SshLegacyOptions, SshLegacySessionOptions } from './host/sshLegacy.js';
export { parseRemote } from './protocol/remoteUri.js';
export type { RemoteSpec } from './protocol/remoteUri.js';

// Guest: a whole guest in one call (stdio, a port, a unix socket), or one session over any channel.
export { serveGuest } from './guest/serve.js';
export type { GuestServer, ServeGuestOptions } from './guest/serve.js';
export { runGuestSession, ioFromTransports } from './guest/session.js';
export type { GuestIo, GuestSessionOptions } from './guest/session.js';
export { DEFAULT_GUEST_LIMITS } from './machines/guestReplies.js';
export type { GuestLimits } from './machines/guestReplies.js';

// Traces: record (createTrace), write with rotation (traceSink), read and render.
export { createTrace, traceSink, recordGuestActor } from './trace/recorder.js';
export type { Trace, TraceSink, TraceSinkOptions, WireRecorder } from './trace/recorder.js';
export { TRACE_FORMAT_VERSION, makeHeader, parseTrace, parseTraceLine, serializeTrace, serializeTraceLine } from './trace/format.js';
export type { ParsedTrace, TraceEvent, TraceEventKind, TraceHeader, TraceLine } from './trace/format.js';
export { readAnyTrace, renderMermaid, renderText, transcriptToTrace } from './trace/render.js';
export { renderHtml, renderSvg } from './trace/html.js';

// In-memory sessions: host and guest machines over a memory pair with scripted faults.
export { runMemorySession } from './memory/session.js';
export type { MemorySessionOptions, MemorySessionResult } from './memory/session.js';

// Transports: one shape for every channel.
export type { ExitStatus, Transport, TransportCapabilities } from './transports/transport.js';
export { TransportError, toTransportError, closedError, errnoOf, type TransportErrorCode } from './transports/errors.js';
export {
  StreamTransport,
  ReadableSource,
  fromStreams,
  whenClosed,
  type StreamTransportOptions,
  type UnobservedPolicy,
} from './transports/streamTransport.js';
export { ProcessTransport, spawnProcess, type SpawnOptions } from './transports/processTransport.js';
export {
  connectUnix,
  listenUnix,
  socketTransport,
  type ConnectUnixOptions,
  type ListenUnixOptions,
  type UnixListener,
} from './transports/unixSocket.js';
export { fromFd, fromFds, type FdOptions } from './transports/fdTransport.js';
export { CharDeviceTransport, openCharDevice, type CharDeviceOptions } from './transports/charDevice.js';
export {
  MemoryTransport,
  createMemoryPair,
  type ChunkSizer,
  type MemoryCut,
  type MemoryDirection,
  type MemoryPairOptions,
} from './transports/memory.js';

// Below the libraries: the machines and the protocol codecs.
export { guestStapsh } from './machines/guestStapsh.js';
export type { GuestInput, GuestOutput, GuestEmitted, GuestInputEvent } from './machines/guestStapsh.js';
export { hostSession } from './machines/hostSession.js';
export type { GuestHello, HostSessionInput, HostOutput, HostEmitted, HostInputEvent } from './machines/hostSession.js';
export { staprunChild } from './machines/staprunChild.js';
export * as encode from './protocol/encode.js';
export { ReplyDecoder } from './protocol/replyDecoder.js';
export { CommandDecoder } from './protocol/commandDecoder.js';
export { qpDecode, qpEncode } from './protocol/quotedPrintable.js';
export { strverscmp } from './protocol/version.js';
export { RELEASES, NEWEST_RELEASE, featuresOf, optionNames } from './protocol/releases.js';
export type { Features, ReleaseRow } from './protocol/releases.js';
export { runArguments, runtimeOf } from './protocol/runCommand.js';
