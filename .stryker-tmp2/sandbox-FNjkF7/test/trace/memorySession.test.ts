/** A traced in-memory session: frames, both machines' states, child events and the scripted fault, in one stream. */
// @ts-nocheck

import { describe, expect, it } from 'vitest';
import { runMemorySession } from '../../memory/session.js';
import type { TraceEvent } from '../../trace/format.js';
import { createTrace } from '../../trace/recorder.js';
import { renderMermaid, renderText } from '../../trace/render.js';

async function traced(options: Parameters<typeof runMemorySession>[0]) {
  const trace = createTrace({ source: 'memory test' });
  const events: TraceEvent[] = [];
  trace.events$.subscribe((e) => events.push(e));
  const r = await runMemorySession({ ...options, trace });
  trace.close();
  return { r, events };
}

describe('runMemorySession with a trace', () => {
  it('records a complete session: frames both ways, both machines, the child', async () => {
    const { r, events } = await traced({ child: { start: [['stdout', 'hi\n']], exitCode: 0 } });
    expect(r.host.ok).toBe(true);
    const frames = events.filter((e) => e.kind === 'frame').map((e) => `${e.direction} ${e.summary}`);
    expect(frames[0]).toMatch(/^host->guest stap 4\.8/);
    expect(frames.some((f) => /^guest->host stapsh 4\.8 x86_64 6\.1\.0-memory nonce=[\w-]+$/.test(f))).toBe(true);
    expect(frames).toContain('host->guest option status');
    expect(frames).toContain('guest->host data stdout 3');
    expect(frames.slice(-2)).toEqual(['guest->host status 0', 'guest->host quit']);
    const machines = new Set(events.flatMap((e) => (e.kind === 'state' ? [e.machine] : [])));
    // The child's lane comes from its lifecycle events (its machine's states are not recorded).
    expect(machines).toEqual(new Set(['hostSession', 'guestStapsh']));
    expect(events.filter((e) => e.kind === 'child').map((e) => e.what)).toEqual(['spawned', 'exited']);
    expect(events.some((e) => e.kind === 'transport' && e.what === 'fault')).toBe(false);
  });

  it('records a cut as an injected fault where it happened, and the failure after it', async () => {
    const { r, events } = await traced({
      child: { start: [['stdout', 'x'.repeat(100)]], hupExitCode: 0 },
      guestToHost: { cut: { bytes: 60, mode: 'reset' } },
    });
    expect(r.host.ok).toBe(false);
    const faults = events.filter((e) => e.kind === 'transport' && e.what === 'fault');
    expect(faults).toEqual([expect.objectContaining({ actor: 'proxy', direction: 'guest->host', message: 'reset after 60 bytes' })]);
    // Every frame the host decoded came before the cut.
    const at = events.indexOf(faults[0]!);
    const bytesBefore = events.slice(0, at).reduce((n, e) => n + (e.kind === 'frame' && e.direction === 'guest->host' ? e.bytes : 0), 0);
    expect(bytesBefore).toBeLessThanOrEqual(60);
    expect(events.slice(at + 1).some((e) => e.kind === 'state' && e.machine === 'hostSession' && e.to === 'failed')).toBe(true);
    const text = renderText(events);
    expect(text).toContain('reset after 60 bytes');
    expect(renderMermaid(events)).toContain('reset after 60 bytes');
  });
});
