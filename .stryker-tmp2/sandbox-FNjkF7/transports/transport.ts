// @ts-nocheck
import type { Observable } from 'rxjs';

/** What a channel can and cannot tell its user. */
export interface TransportCapabilities {
  /** The far end's exit shows as EOF on `incoming$` (false on a virtio-serial port). */
  readonly eofVisible: boolean;
  /** The far end's stderr arrives apart from its stdout (`stderr$`), as over ssh or a spawned process. */
  readonly separateStderr: boolean;
  /** The far end's exit status can be read (`exit`), as for a spawned process. */
  readonly exitStatus: boolean;
  /**
   * The far end was started for this channel alone, so no earlier session's
   * bytes can be waiting in it (a spawned guest, ssh). Default: `exitStatus`.
   * False for a helper that relays an existing port (stapvirt, a socket).
   */
  readonly freshPeer?: boolean;
}

/** How a spawned far end ended: a code, or the signal that killed it. */
export type ExitStatus =
  | { readonly code: number; readonly signal: null }
  | { readonly code: null; readonly signal: NodeJS.Signals };

/**
 * One byte channel, whatever carries it. `incoming$` completes on EOF and
 * errors when the channel breaks; chunks may be split anywhere. Transports
 * never parse protocol words.
 */
export interface Transport {
  /** A short name for messages, e.g. `unix:/run/stapsh.sock`. */
  readonly name: string;
  readonly capabilities: TransportCapabilities;
  /** Raw chunks from the far end. Hot: subscribe before data can be lost. */
  readonly incoming$: Observable<Uint8Array>;
  /** The far end's separate stderr, where `capabilities.separateStderr`. */
  readonly stderr$?: Observable<Uint8Array>;
  /** Resolves when the far end has exited, where `capabilities.exitStatus`. */
  readonly exit?: Promise<ExitStatus>;
  /** Queue bytes in order; resolves once accepted (backpressure), rejects if the channel is closed or broken. */
  write(bytes: Uint8Array): Promise<void>;
  /** True while queued bytes exceed the channel's high-water mark; wait on `drained()` then. */
  readonly needsDrain: boolean;
  /** Resolves when the write queue has drained (at once when it is empty). */
  drained(): Promise<void>;
  /** Half-close: send EOF, keep reading. */
  closeWrite(): Promise<void>;
  /** Close both ways; idempotent; resolves when the channel is released. */
  close(): Promise<void>;
  /** Stop/start reading from the far end (flow control for a slow consumer). */
  pause(): void;
  resume(): void;
}
