#!/usr/bin/env node
import { main } from "../dist/standins/virtio.js";
import { launch } from "./launch.js";

launch("virtio-standin", main);
