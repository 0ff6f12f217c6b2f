#!/usr/bin/env node
// @ts-nocheck
import { launch } from '../dist/cli/common/launch.js';
import { main } from '../dist/cli/stap-remote/main.js';

launch('stap-remote', main);
