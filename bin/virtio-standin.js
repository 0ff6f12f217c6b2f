#!/usr/bin/env node
import { main } from "../dist/cli/virtio-standin/main.js";
import { launch } from "./launch.js";

launch("virtio-standin", main);
