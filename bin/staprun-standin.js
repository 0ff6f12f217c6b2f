#!/usr/bin/env node
import { runStandin } from '../dist/agents/standin/staprun.js';

runStandin(process.argv.slice(2));
