#!/usr/bin/env node
import { runStandin } from '../dist/standins/staprun.js';

runStandin(process.argv.slice(2));
