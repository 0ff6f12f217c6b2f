/**
 * libvirt's RPC framing and the XDR types stapvirt uses (pure): messages
 * survive any chunking; lengths are checked before anything is allocated.
 */
// @ts-nocheck


import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { decodeError, encodeMessage, MessageFramer, readDomain, REMOTE_PROGRAM, writeDomain, type Header } from '../../libvirt/rpc.js';
import { XdrError, XdrReader, XdrWriter } from '../../libvirt/xdr.js';

const header = (serial: number): Header => ({ prog: REMOTE_PROGRAM, vers: 1, proc: 296, type: 3, serial, status: 2 });

describe('libvirt RPC messages', () => {
  it('a message is a u32 length counting itself, six header words, then the body', () => {
    const m = encodeMessage(header(7), new Uint8Array([1, 2, 3]));
    expect(Buffer.from(m).toString('hex')).toBe(
      ['0000001f', '20008086', '00000001', '00000128', '00000003', '00000007', '00000002', '010203'].join(''),
    );
  });

  test.prop([fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 })])(
    'the framer returns every message whole, however the bytes are cut',
    (bodies, cuts) => {
      const wire = Buffer.concat(bodies.map((b, i) => encodeMessage(header(i + 1), b)));
      const framer = new MessageFramer();
      const got: Uint8Array[] = [];
      let at = 0;
      for (let i = 0; at < wire.length; i++) {
        const n = cuts[i % cuts.length]!;
        for (const m of framer.push(wire.subarray(at, at + n))) got.push(m.body);
        at += n;
      }
      expect(got.map((b) => Buffer.from(b).toString('hex'))).toEqual(bodies.map((b) => Buffer.from(b).toString('hex')));
      expect(framer.pending).toBe(0);
    },
  );

  it('a length below a header or above 32 MiB is an error, not an allocation', () => {
    expect(() => new MessageFramer().push(new Uint8Array([0, 0, 0, 8]))).toThrow(/bad message length 8/);
    expect(() => new MessageFramer().push(new Uint8Array([0x7f, 0xff, 0xff, 0xff]))).toThrow(/bad message length/);
  });
});

describe('XDR', () => {
  test.prop([fc.string({ maxLength: 100 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: -1, max: 1 << 30 })])(
    'a domain reference round-trips (string padded to 4, fixed uuid, int id)',
    (name, uuid, id) => {
      const w = new XdrWriter();
      writeDomain(w, { name, uuid, id });
      const bytes = w.bytes();
      expect(bytes.length % 4).toBe(0);
      const r = new XdrReader(bytes);
      expect(readDomain(r)).toEqual({ name, uuid, id });
      expect(r.remaining).toBe(0);
    },
  );

  it('optional strings, arrays and their bounds', () => {
    const bytes = new XdrWriter().optional('x', (w, v) => w.string(v)).optional(null, (w, v: string) => w.string(v)).u32(2).i32(-1).i32(2).bytes();
    const r = new XdrReader(bytes);
    expect(r.optional((x) => x.string())).toBe('x');
    expect(r.optional((x) => x.string())).toBeNull();
    expect(r.array(2, (x) => x.i32())).toEqual([-1, 2]);
    expect(() => new XdrReader(new XdrWriter().u32(3).bytes()).array(2, (x) => x.i32())).toThrow(XdrError);
    expect(() => new XdrReader(new XdrWriter().u32(1 << 30).bytes()).string(1024)).toThrow(/over its maximum/);
    expect(() => new XdrReader(new Uint8Array([0, 0, 0, 5, 1])).string()).toThrow(/needs/);
  });

  it("libvirt's error body: its message is what we show", () => {
    const body = new XdrWriter().i32(42).i32(10).optional("Domain not found: no domain with matching name 'x'", (w, v) => w.string(v)).i32(2).bytes();
    expect(decodeError(body)).toEqual({ code: 42, domain: 10, message: "Domain not found: no domain with matching name 'x'", level: 2 });
  });
});
