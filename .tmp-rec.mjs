import { createTrace, traceSink } from '/work/main/dist/trace/recorder.js';
const trace = createTrace();
const sink = traceSink('/tmp/rec-bench.jsonl');
let n = 0; trace.events$.subscribe((e) => { n++; sink.write(e); });
const rec = trace.recorders('s', 'guest').onWire;
const enc = (s) => Buffer.from(s);
rec('host->guest', enc('stap 4.8\noption data\nrun\n'));
rec('guest->host', enc('stapsh 4.8 x y\nOK\nOK\n'));
const payload = Buffer.alloc(65536);
const header = enc('data stdout 65536\n');
const t0 = performance.now();
for (let i = 0; i < 4096; i++) { rec('guest->host', header); rec('guest->host', payload); }
const t1 = performance.now();
sink.close();
console.log('events', n, 'recorder+sink', (t1 - t0).toFixed(0), 'ms', ((t1 - t0) * 1000 / 4096).toFixed(1), 'us/frame');
