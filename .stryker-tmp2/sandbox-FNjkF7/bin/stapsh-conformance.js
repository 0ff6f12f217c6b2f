#!/usr/bin/env node
// @ts-nocheck
import { launch } from '../dist/cli/common/launch.js';
import { main } from '../dist/cli/stapsh-conformance/main.js';

launch('stapsh-conformance', main);
