// @ts-nocheck
// Preloaded into a guest by bench/run.mjs (`node -r bench/lag-probe.cjs bin/stapsh.js …`)
// to measure the guest's own event-loop lag at negligible cost: a libuv-timer
// histogram (perf_hooks.monitorEventLoopDelay). On SIGWINCH it writes
// {maxMs, p99Ms, meanMs, count} (lag beyond the 10 ms timer interval) since the last SIGWINCH to $STAPFLOW_LAG_FILE and
// resets. The guest ignores SIGWINCH (SIGUSR1/2 end its sessions). Bench use only.
'use strict';
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { writeFileSync, renameSync } = require('node:fs');
const out = process.env.STAPFLOW_LAG_FILE;
if (out) {
  const RESOLUTION_MS = 10;
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  process.on('SIGWINCH', () => {
    // The histogram holds whole timer intervals (10 ms when idle): lag is what exceeds the resolution.
    const lag = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
    const r = { maxMs: lag(h.max), p99Ms: lag(h.percentile(99)), meanMs: lag(h.mean), count: h.count };
    writeFileSync(`${out}.tmp`, JSON.stringify(r));
    renameSync(`${out}.tmp`, out);
    h.reset();
  });
}
