/** Run catalogue scenarios against a guest command, each in a fresh process with a private TMPDIR. */
// @ts-nocheck


import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scenario, ScenarioContext, Verdict } from './catalogue.js';
import { runSteps } from './stepper.js';

export interface RunOptions extends ScenarioContext {
  readonly argv: readonly string[];
  /** The guest runs the conformance child as staprun; else scenarios needing it are skipped. */
  readonly childWrapper: boolean;
  /** Bound per scenario (ms). */
  readonly timeoutMs: number;
  readonly startupMs: number;
  readonly quietMs: number;
  readonly jobs: number;
  readonly onResult?: (r: ScenarioResult) => void;
}

export interface ScenarioResult {
  readonly name: string;
  readonly group: string;
  readonly verdict: Verdict;
  readonly durationMs: number;
}

export async function runScenario(sc: Scenario, o: RunOptions): Promise<ScenarioResult> {
  const started = Date.now();
  if (sc.needsChild && !o.childWrapper) {
    return { name: sc.name, group: sc.group, verdict: { verdict: 'SKIP', reason: 'needs the conformance child (--child-wrapper)' }, durationMs: 0 };
  }
  const tmp = mkdtempSync(join(tmpdir(), 'stapsh-conformance-'));
  try {
    const run = await runSteps(o.argv, sc.steps, {
      env: { ...process.env, TMPDIR: tmp },
      timeoutMs: o.timeoutMs,
      startupMs: o.startupMs,
      quietMs: o.quietMs,
      untilMs: Math.max(3_000, o.startupMs * 4),
    });
    let verdict: Verdict;
    try {
      verdict = sc.judge({ ...run, leftovers: readdirSync(tmp) }, { release: o.release });
    } catch (e) {
      verdict = { verdict: 'FAIL', reason: `judge error: ${e instanceof Error ? e.message : String(e)}` };
    }
    return { name: sc.name, group: sc.group, verdict, durationMs: Date.now() - started };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Run scenarios with at most `jobs` at a time; results in catalogue order. */
export async function runCatalogue(scenarios: readonly Scenario[], o: RunOptions): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = new Array<ScenarioResult>(scenarios.length);
  let next = 0;
  const worker = async () => {
    while (next < scenarios.length) {
      const i = next++;
      const r = await runScenario(scenarios[i]!, o);
      results[i] = r;
      o.onResult?.(r);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.jobs) }, worker));
  return results;
}
