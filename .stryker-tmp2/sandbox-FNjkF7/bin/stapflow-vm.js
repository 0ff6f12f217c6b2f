#!/usr/bin/env node
// @ts-nocheck
import { launch } from '../dist/cli/common/launch.js';
import { main } from '../dist/cli/stapflow-vm/main.js';

launch('stapflow-vm', main);
