#!/usr/bin/env node
// @ts-nocheck
import { runStandin } from '../dist/standins/staprun.js';

runStandin(process.argv.slice(2));
