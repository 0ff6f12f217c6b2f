#!/usr/bin/env node
import { launch } from '../dist/cli/common/launch.js';
import { main } from '../dist/cli/stap-remote/main.js';

launch('stap-remote', main);
