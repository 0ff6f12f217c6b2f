#!/usr/bin/env node
import { launch } from '../dist/cli/common/launch.js';
import { main } from '../dist/cli/stapvirt/main.js';

launch('stapvirt', main);
