#!/usr/bin/env node
import { main } from "../dist/agents/virtio/standin.js";
import { launch } from "./launch.js";

launch("virtio-standin", main);
