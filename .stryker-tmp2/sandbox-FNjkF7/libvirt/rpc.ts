/**
 * libvirt's RPC protocol, the part `stapvirt` needs, written from the
 * protocol's published description (remote_protocol.x, virnetprotocol.x):
 * every message is a u32 length that counts itself, a header (program,
 * version, procedure, type, serial, status) and an XDR body. Pure.
 */
// @ts-nocheck


import { XdrError, XdrReader, XdrWriter } from './xdr.js';

export const REMOTE_PROGRAM = 0x20008086;
export const REMOTE_PROTOCOL_VERSION = 1;
export const KEEPALIVE_PROGRAM = 0x6b656570;
export const KEEPALIVE_VERSION = 1;
export const KEEPALIVE_PING = 1;
export const KEEPALIVE_PONG = 2;

/** Largest message we accept or send (libvirt's own limit is 32 MiB). */
export const MESSAGE_MAX = 32 * 1024 * 1024;
/** Bytes per stream packet we send (libvirt's payload limit is 256 KiB minus the header). */
export const STREAM_CHUNK = 64 * 1024;

export const enum MessageType {
  Call = 0,
  Reply = 1,
  Message = 2,
  Stream = 3,
}

export const enum Status {
  Ok = 0,
  Error = 1,
  Continue = 2,
}

/** Procedure numbers of the remote program (stable: libvirt only appends). */
export const Proc = {
  ConnectOpen: 1,
  ConnectClose: 2,
  DomainGetXmlDesc: 14,
  DomainLookupByName: 23,
  AuthList: 66,
  DomainAttachDeviceFlags: 160,
  DomainDetachDeviceFlags: 161,
  DomainGetState: 212,
  ConnectListAllDomains: 273,
  DomainOpenChannel: 296,
} as const;

export const AuthType = { None: 0, Sasl: 1, Polkit: 2 } as const;

export interface Header {
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  readonly type: number;
  readonly serial: number;
  readonly status: number;
}

export interface Message {
  readonly header: Header;
  readonly body: Uint8Array;
}

const HEADER_BYTES = 24;

export function encodeMessage(header: Header, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const total = 4 + HEADER_BYTES + body.length;
  if (total > MESSAGE_MAX) throw new XdrError(`message of ${total} bytes over ${MESSAGE_MAX}`);
  const w = new XdrWriter()
    .u32(total)
    .u32(header.prog)
    .u32(header.vers)
    .i32(header.proc)
    .u32(header.type)
    .u32(header.serial)
    .u32(header.status)
    .bytes();
  const out = new Uint8Array(total);
  out.set(w);
  out.set(body, w.length);
  return out;
}

/** Cuts a byte stream into messages, whatever the chunking; bounded by MESSAGE_MAX. */
export class MessageFramer {
  #buf = new Uint8Array(0);

  push(chunk: Uint8Array): Message[] {
    const joined = new Uint8Array(this.#buf.length + chunk.length);
    joined.set(this.#buf);
    joined.set(chunk, this.#buf.length);
    const out: Message[] = [];
    let at = 0;
    while (joined.length - at >= 4) {
      const len = new DataView(joined.buffer, joined.byteOffset + at, 4).getUint32(0);
      if (len < 4 + HEADER_BYTES || len > MESSAGE_MAX) throw new XdrError(`bad message length ${len}`);
      if (joined.length - at < len) break;
      const r = new XdrReader(joined.subarray(at + 4, at + 4 + HEADER_BYTES));
      const header: Header = { prog: r.u32(), vers: r.u32(), proc: r.i32(), type: r.u32(), serial: r.u32(), status: r.u32() };
      out.push({ header, body: joined.slice(at + 4 + HEADER_BYTES, at + len) });
      at += len;
    }
    this.#buf = joined.slice(at);
    return out;
  }

  /** Bytes of an incomplete message held. */
  get pending(): number {
    return this.#buf.length;
  }
}

export interface Domain {
  readonly name: string;
  readonly uuid: Uint8Array;
  readonly id: number;
}

export const writeDomain = (w: XdrWriter, d: Domain): void => {
  w.string(d.name).opaqueFixed(d.uuid, 16).i32(d.id);
};

export const readDomain = (r: XdrReader): Domain => ({ name: r.string(), uuid: r.opaqueFixed(16), id: r.i32() });

/** libvirt's error (remote_error / virNetMessageError): what we show is its message. */
export interface RpcError {
  readonly code: number;
  readonly domain: number;
  readonly message: string | null;
  readonly level: number;
}

export function decodeError(body: Uint8Array): RpcError {
  const r = new XdrReader(body);
  const code = r.i32();
  const domain = r.i32();
  const message = r.optional((x) => x.string());
  const level = r.i32();
  return { code, domain, message, level };
}

export const VIR_DOMAIN_AFFECT_LIVE = 1;
export const VIR_DOMAIN_AFFECT_CONFIG = 2;
export const VIR_CONNECT_LIST_DOMAINS_ACTIVE = 1;
export const VIR_CONNECT_LIST_DOMAINS_INACTIVE = 2;

export const DOMAIN_STATES = ['no state', 'running', 'blocked', 'paused', 'shutdown', 'shut off', 'crashed', 'pmsuspended'] as const;
