/**
 * `stapflow/testing`: helpers for testing code built on stapflow, kept out
 * of the library's own entry point: scripted children and an in-memory
 * guest for the machines, the guest's input pump, an Observable that
 * reports its subscription, a pty-like stream, and the virtio-serial port
 * stand-in (needs socat).
 */
// @ts-nocheck


export { memoryGuestEffects, memoryGuestMachine, scriptedProcess, scriptedRunner } from './memory/actors.js';
export type { ChildScript, MemoryWorld } from './memory/actors.js';
export { pumpInto } from './guest/pump.js';
export type { GuestPump, GuestPumpOptions } from './guest/pump.js';
export { onSubscribe } from './transports/streamTransport.js';
export { ttyStream } from './transports/ttyStream.js';
export { startVirtioStandin } from './standins/virtio.js';
export type { VirtioStandin, VirtioStandinOptions, VirtioStandinStats } from './standins/virtio.js';
