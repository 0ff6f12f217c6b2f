#!/usr/bin/env node
// @ts-nocheck
import { launch } from '../dist/cli/common/launch.js';
import { main } from '../dist/cli/virtio-standin/main.js';

launch('virtio-standin', main);
