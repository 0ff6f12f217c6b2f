#!/usr/bin/env node
// @ts-nocheck
import { launch } from '../dist/cli/common/launch.js';
import { main } from '../dist/cli/diagrams/main.js';

launch('diagrams', main);
