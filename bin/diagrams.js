#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { writeDiagrams } from '../dist/cli/diagrams/generate.js';

const dir = fileURLToPath(new URL('../diagrams', import.meta.url));
for (const f of await writeDiagrams(dir)) console.log(`wrote ${f}`);
