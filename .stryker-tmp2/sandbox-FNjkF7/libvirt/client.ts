/**
 * A libvirt client over its local unix socket, for `stapvirt`: the calls it
 * needs, a domain's channel as a byte stream, keepalive answered. Every call
 * is bounded (`timeoutMs`); errors carry libvirt's own message.
 *
 * Only what root gets on the local socket is supported: libvirt asks no
 * authentication there (AUTH_LIST says none). SASL and polkit (non-root,
 * or a daemon configured for them) are reported as unsupported.
 */
// @ts-nocheck


import { connect, type Socket } from 'node:net';
import {
  AuthType,
  decodeError,
  encodeMessage,
  KEEPALIVE_PING,
  KEEPALIVE_PONG,
  KEEPALIVE_PROGRAM,
  KEEPALIVE_VERSION,
  MessageFramer,
  MessageType,
  Proc,
  readDomain,
  REMOTE_PROGRAM,
  REMOTE_PROTOCOL_VERSION,
  Status,
  STREAM_CHUNK,
  VIR_CONNECT_LIST_DOMAINS_ACTIVE,
  VIR_CONNECT_LIST_DOMAINS_INACTIVE,
  writeDomain,
  type Domain,
  type Message,
} from './rpc.js';
import { XdrReader, XdrWriter } from './xdr.js';

export class LibvirtError extends Error {
  override readonly name = 'LibvirtError';
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

/** Where a libvirt URI's daemon listens, for the URIs we can serve. */
export function socketForUri(uri: string): string {
  const m = /^([a-z0-9]+)(\+([a-z]+))?:\/\/([^/]*)\/(system|session)?/i.exec(uri);
  if (m === null) throw new LibvirtError(`cannot use libvirt URI '${uri}': expected DRIVER:///system`);
  const [, , , transport, host, kind] = m;
  if ((transport !== undefined && transport !== 'unix') || (host !== undefined && host !== '')) {
    throw new LibvirtError(`cannot use libvirt URI '${uri}': only the local daemon (DRIVER:///system over its unix socket) is supported`);
  }
  if (kind === 'session') throw new LibvirtError(`cannot use libvirt URI '${uri}': session daemons are not supported (use DRIVER:///system as root)`);
  return process.env.STAPVIRT_LIBVIRT_SOCKET ?? '/run/libvirt/libvirt-sock';
}

export interface ClientOptions {
  readonly uri: string;
  readonly socketPath?: string;
  /** Bound on every call (default 30 s). */
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

interface Pending {
  resolve(body: Uint8Array): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  what: string;
}

/** A domain channel opened with DOMAIN_OPEN_CHANNEL: a stream of packets on one serial. */
export interface Channel {
  /** Send bytes to the guest (split into stream packets); resolves when the socket took them. */
  write(bytes: Uint8Array): Promise<void>;
  /** Called with each chunk from the guest. */
  onData: (bytes: Uint8Array) => void;
  /** Called once when libvirt ends the stream (EOF: null; an error: its message). */
  onEnd: (error: string | null) => void;
  /** We are done sending: finish the stream (libvirt answers with its own finish). */
  finish(): Promise<void>;
  /** Pause / resume reading from libvirt (the relay's output is slow). */
  pause(): void;
  resume(): void;
}

export class LibvirtClient {
  #socket: Socket;
  #framer = new MessageFramer();
  #serial = 1;
  #pending = new Map<number, Pending>();
  #streams = new Map<number, { channel: Channel; finished: (() => void) | null }>();
  #closed: Error | null = null;
  readonly timeoutMs: number;

  private constructor(
    socket: Socket,
    readonly uri: string,
    private readonly log: (line: string) => void,
    timeoutMs: number,
  ) {
    this.#socket = socket;
    this.timeoutMs = timeoutMs;
    socket.on('data', (chunk: Buffer) => {
      let messages: Message[];
      try {
        messages = this.#framer.push(chunk);
      } catch (e) {
        this.#fail(new LibvirtError(`libvirt sent a malformed message: ${(e as Error).message}`));
        return;
      }
      for (const m of messages) this.#dispatch(m);
    });
    socket.on('error', (e) => this.#fail(new LibvirtError(`libvirt connection failed: ${e.message}`)));
    socket.on('close', () => this.#fail(new LibvirtError('libvirt closed the connection')));
  }

  /** Connect, check the authentication libvirt asks for, and open `uri`. */
  static async open(options: ClientOptions): Promise<LibvirtClient> {
    const path = options.socketPath ?? socketForUri(options.uri);
    const timeoutMs = options.timeoutMs ?? 30_000;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      const t = setTimeout(() => {
        s.destroy();
        reject(new LibvirtError(`cannot connect to libvirt at ${path}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(new LibvirtError(`cannot connect to libvirt at ${path}: ${e.message} (is libvirtd running?)`));
      });
    });
    const client = new LibvirtClient(socket, options.uri, options.log ?? (() => undefined), timeoutMs);
    try {
      const auth = new XdrReader(await client.call(Proc.AuthList, new Uint8Array(0), 'AUTH_LIST')).array(20, (r) => r.i32());
      if (auth.length > 0 && !auth.includes(AuthType.None)) {
        const names = auth.map((a) => (a === AuthType.Sasl ? 'SASL' : a === AuthType.Polkit ? 'polkit' : `type ${a}`)).join(', ');
        throw new LibvirtError(`libvirt at ${path} asks for authentication (${names}), which stapvirt does not support: run it as root on the local socket`);
      }
      await client.call(Proc.ConnectOpen, new XdrWriter().optional(options.uri, (w, v) => w.string(v)).u32(0).bytes(), 'CONNECT_OPEN');
    } catch (e) {
      socket.destroy();
      throw e;
    }
    return client;
  }

  #fail(err: Error): void {
    if (this.#closed !== null) return;
    this.#closed = err;
    for (const [, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#pending.clear();
    for (const [, s] of this.#streams) s.channel.onEnd(err.message);
    this.#streams.clear();
    this.#socket.destroy();
  }

  #send(proc: number, type: number, serial: number, status: number, body?: Uint8Array, prog = REMOTE_PROGRAM, vers = REMOTE_PROTOCOL_VERSION): Promise<void> {
    if (this.#closed !== null) return Promise.reject(this.#closed);
    const bytes = encodeMessage({ prog, vers, proc, type, serial, status }, body);
    return new Promise((resolve, reject) => {
      const ok = this.#socket.write(bytes, (err) => (err ? reject(err) : undefined));
      if (ok) resolve();
      else this.#socket.once('drain', () => resolve());
    });
  }

  #dispatch(m: Message): void {
    const { header, body } = m;
    if (header.prog === KEEPALIVE_PROGRAM) {
      if (header.proc === KEEPALIVE_PING) {
        this.log('keepalive: ping, answering pong');
        void this.#send(KEEPALIVE_PONG, MessageType.Message, 0, Status.Ok, undefined, KEEPALIVE_PROGRAM, KEEPALIVE_VERSION).catch(() => undefined);
      }
      return;
    }
    if (header.prog !== REMOTE_PROGRAM) return;
    if (header.type === MessageType.Reply) {
      const p = this.#pending.get(header.serial);
      if (p === undefined) return;
      this.#pending.delete(header.serial);
      clearTimeout(p.timer);
      if (header.status === Status.Ok) p.resolve(body);
      else p.reject(this.#rpcError(body, p.what));
      return;
    }
    if (header.type === MessageType.Stream) {
      const s = this.#streams.get(header.serial);
      if (s === undefined) return;
      if (header.status === Status.Continue) {
        if (body.length > 0) s.channel.onData(body);
      } else {
        this.#streams.delete(header.serial);
        if (header.status === Status.Ok) {
          // libvirt's end of the stream (EOF from the guest side), or its answer to our finish.
          s.finished?.();
          if (s.finished === null) void this.#send(header.proc, MessageType.Stream, header.serial, Status.Ok).catch(() => undefined);
          s.channel.onEnd(null);
        } else s.channel.onEnd(this.#rpcError(body, 'the channel').message);
      }
    }
  }

  #rpcError(body: Uint8Array, what: string): LibvirtError {
    try {
      const e = decodeError(body);
      return new LibvirtError(e.message ?? `libvirt error ${e.code} in ${what}`, e.code);
    } catch {
      return new LibvirtError(`libvirt refused ${what} (an undecodable error)`);
    }
  }

  /** One call: resolves with the reply's body, rejects with libvirt's message or at the bound. */
  call(proc: number, args: Uint8Array, what: string): Promise<Uint8Array> {
    const serial = this.#serial++;
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(serial);
        reject(new LibvirtError(`libvirt did not answer ${what} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.#pending.set(serial, { resolve, reject, timer, what });
      this.#send(proc, MessageType.Call, serial, Status.Ok, args).catch((e: unknown) => {
        clearTimeout(timer);
        this.#pending.delete(serial);
        reject(e instanceof Error ? e : new Error(String(e)));
      });
    });
  }

  async listAllDomains(): Promise<Domain[]> {
    const body = await this.call(
      Proc.ConnectListAllDomains,
      new XdrWriter().i32(1).u32(VIR_CONNECT_LIST_DOMAINS_ACTIVE | VIR_CONNECT_LIST_DOMAINS_INACTIVE).bytes(),
      'CONNECT_LIST_ALL_DOMAINS',
    );
    return new XdrReader(body).array(65536, readDomain);
  }

  async lookupDomain(name: string): Promise<Domain> {
    const body = await this.call(Proc.DomainLookupByName, new XdrWriter().string(name).bytes(), 'DOMAIN_LOOKUP_BY_NAME');
    return readDomain(new XdrReader(body));
  }

  async domainXml(dom: Domain): Promise<string> {
    const w = new XdrWriter();
    writeDomain(w, dom);
    return new XdrReader(await this.call(Proc.DomainGetXmlDesc, w.u32(0).bytes(), 'DOMAIN_GET_XML_DESC')).string(16 * 1024 * 1024);
  }

  async domainState(dom: Domain): Promise<number> {
    const w = new XdrWriter();
    writeDomain(w, dom);
    return new XdrReader(await this.call(Proc.DomainGetState, w.u32(0).bytes(), 'DOMAIN_GET_STATE')).i32();
  }

  async attachDevice(dom: Domain, xml: string, flags: number): Promise<void> {
    const w = new XdrWriter();
    writeDomain(w, dom);
    await this.call(Proc.DomainAttachDeviceFlags, w.string(xml).u32(flags).bytes(), 'DOMAIN_ATTACH_DEVICE_FLAGS');
  }

  async detachDevice(dom: Domain, xml: string, flags: number): Promise<void> {
    const w = new XdrWriter();
    writeDomain(w, dom);
    await this.call(Proc.DomainDetachDeviceFlags, w.string(xml).u32(flags).bytes(), 'DOMAIN_DETACH_DEVICE_FLAGS');
  }

  /** Open the guest channel `name` of `dom` as a stream. Rejects when libvirt refuses (e.g. another client has it). */
  async openChannel(dom: Domain, name: string): Promise<Channel> {
    const w = new XdrWriter();
    writeDomain(w, dom);
    const args = w.optional(name, (x, v) => x.string(v)).u32(0).bytes();
    const serial = this.#serial;
    const channel: Channel = {
      onData: () => undefined,
      onEnd: () => undefined,
      write: async (bytes) => {
        for (let at = 0; at < bytes.length; at += STREAM_CHUNK) {
          await this.#send(Proc.DomainOpenChannel, MessageType.Stream, serial, Status.Continue, bytes.subarray(at, at + STREAM_CHUNK));
        }
      },
      finish: async () => {
        const s = this.#streams.get(serial);
        if (s === undefined) return;
        const answered = new Promise<void>((resolve) => (s.finished = resolve));
        await this.#send(Proc.DomainOpenChannel, MessageType.Stream, serial, Status.Ok);
        await Promise.race([answered, new Promise((r) => setTimeout(r, this.timeoutMs).unref())]);
      },
      pause: () => this.#socket.pause(),
      resume: () => this.#socket.resume(),
    };
    // Registered before the call: libvirt may send data right after its reply.
    this.#streams.set(serial, { channel, finished: null });
    try {
      await this.call(Proc.DomainOpenChannel, args, 'DOMAIN_OPEN_CHANNEL');
    } catch (e) {
      this.#streams.delete(serial);
      throw e;
    }
    return channel;
  }

  async close(): Promise<void> {
    if (this.#closed === null) await this.call(Proc.ConnectClose, new Uint8Array(0), 'CONNECT_CLOSE').catch(() => undefined);
    this.#closed ??= new LibvirtError('closed');
    this.#socket.destroy();
  }
}

/** A domain's guest channels as its XML lists them. */
export interface ChannelInfo {
  readonly name: string;
  /** `connected` once the guest opened its end, `disconnected`, or null when libvirt says nothing. */
  readonly state: string | null;
  readonly path: string | null;
  /** The `<channel>` element as libvirt wrote it (what a detach must name). */
  readonly xml: string;
}

export function channelsOf(xml: string): ChannelInfo[] {
  const out: ChannelInfo[] = [];
  for (const m of xml.matchAll(/<channel\b[\s\S]*?<\/channel>/g)) {
    const block = m[0];
    const target = /<target\b[^>]*>/.exec(block)?.[0] ?? '';
    const attr = (tag: string, name: string) => new RegExp(`\\b${name}=['"]([^'"]*)['"]`).exec(tag)?.[1] ?? null;
    const name = attr(target, 'name');
    if (name === null || attr(target, 'type') !== 'virtio') continue;
    out.push({ name, state: attr(target, 'state'), path: attr(/<source\b[^>]*>/.exec(block)?.[0] ?? '', 'path'), xml: block });
  }
  return out;
}

export const STAPSH_PORT = /^org\.systemtap\.stapsh\.(\d+)$/;
