#!/usr/bin/env node
import { main } from '../dist/agents/demo/main.js';

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`stapflow demo: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
