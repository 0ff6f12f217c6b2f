// @ts-nocheck
export type { ExitStatus, Transport, TransportCapabilities } from './transport.js';
export { TransportError, toTransportError, closedError, errnoOf, type TransportErrorCode } from './errors.js';
export {
  StreamTransport,
  ReadableSource,
  fromStreams,
  onSubscribe,
  whenClosed,
  type StreamTransportOptions,
  type UnobservedPolicy,
} from './streamTransport.js';
export { ProcessTransport, spawnProcess, type SpawnOptions } from './processTransport.js';
export {
  connectUnix,
  listenUnix,
  socketTransport,
  type ConnectUnixOptions,
  type ListenUnixOptions,
  type UnixListener,
} from './unixSocket.js';
export { fromFd, fromFds, type FdOptions } from './fdTransport.js';
export { CharDeviceTransport, openCharDevice, type CharDeviceOptions } from './charDevice.js';
export {
  MemoryTransport,
  createMemoryPair,
  type ChunkSizer,
  type MemoryCut,
  type MemoryDirection,
  type MemoryPairOptions,
} from './memory.js';
export { ttyStream } from './ttyStream.js';
