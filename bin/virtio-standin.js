#!/usr/bin/env node
import { main } from '../dist/agents/virtio/standin.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`virtio-standin: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
