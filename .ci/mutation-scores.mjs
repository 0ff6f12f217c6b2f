#!/usr/bin/env node
// Per-folder mutation scores from Stryker's JSON report (`npm run mutate` writes
// reports/mutation/mutation.json): killed, timeout, survived, no coverage and the
// score, killed+timeout over all valid mutants, as Stryker counts it. With
// `--check`, exits 1 when a folder is under its goal (docs/mutation.md).
import { readFileSync } from 'node:fs';

const GOALS = { protocol: 90, machines: 85 };
const file = process.argv.find((a) => a.endsWith('.json')) ?? 'reports/mutation/mutation.json';
const report = JSON.parse(readFileSync(file, 'utf8'));
const folders = new Map();
for (const [path, { mutants }] of Object.entries(report.files)) {
  const folder = path.split('/')[0];
  const c = folders.get(folder) ?? { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, other: 0, survivors: [] };
  for (const m of mutants) {
    if (m.status in c && m.status !== 'survivors') c[m.status]++;
    else c.other++;
    if (m.status === 'Survived' || m.status === 'NoCoverage') c.survivors.push(`${path}:${m.location.start.line} ${m.mutatorName} ${m.status}`);
  }
  folders.set(folder, c);
}
let under = false;
for (const [folder, c] of folders) {
  const valid = c.Killed + c.Timeout + c.Survived + c.NoCoverage;
  const score = valid === 0 ? 100 : (100 * (c.Killed + c.Timeout)) / valid;
  const goal = GOALS[folder];
  if (goal !== undefined && score < goal) under = true;
  console.log(
    `${folder}/: ${score.toFixed(2)}% (killed ${c.Killed}, timeout ${c.Timeout}, survived ${c.Survived}, no coverage ${c.NoCoverage}, ` +
      `other ${c.other})${goal === undefined ? '' : `, goal ${goal}%`}`,
  );
  if (process.argv.includes('--list')) for (const s of c.survivors) console.log(`  ${s}`);
}
if (process.argv.includes('--check') && under) {
  console.log('mutation: a folder is under its goal');
  process.exitCode = 1; // not process.exit(): the lines above may still be queued for a pipe
}
