/** Encoders for both directions: how the protocol's words look on the wire. */

import { utf8 } from './bytes.js';
import { qpEncode } from './quotedPrintable.js';
import type { DataStream } from './replyDecoder.js';

// host → guest

export const encodeHello = (version: string, extra: readonly string[] = []): Uint8Array =>
  utf8(`stap ${[version, ...extra].join(' ')}\n`);
export const encodeOption = (name: string): Uint8Array => utf8(`option ${name}\n`);
/** The `file` header; the SIZE payload bytes follow it. */
export const encodeFileHeader = (size: number, name: string): Uint8Array => utf8(`file ${size} ${name}\n`);
/** `run` with each argument quoted-printable encoded (the guest picks argv[0]). */
export const encodeRun = (args: readonly Uint8Array[]): Uint8Array =>
  utf8(`run${args.map((a) => ` ${qpEncode(a)}`).join('')}\n`);
export const encodeQuit = (): Uint8Array => utf8('quit\n');

// guest → host

export const encodeHelloReply = (version: string, machine: string, release: string): Uint8Array =>
  utf8(`stapsh ${version} ${machine} ${release}\n`);
export const encodeOk = (): Uint8Array => utf8('OK\n');
export const encodeError = (message: string): Uint8Array => utf8(`ERROR: ${message}\n`);
export const encodeDataHeader = (stream: DataStream, size: number): Uint8Array => utf8(`data ${stream} ${size}\n`);
export const encodeQuitAnnouncement = (): Uint8Array => utf8('quit\n');
export const encodeDebug = (text: string): Uint8Array => utf8(`stapsh: ${text}\n`);
