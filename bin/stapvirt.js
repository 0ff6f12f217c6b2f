#!/usr/bin/env node
import { main } from "../dist/cli/stapvirt/main.js";
import { launch } from "./launch.js";

launch("stapvirt", main);
