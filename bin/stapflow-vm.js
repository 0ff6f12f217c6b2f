#!/usr/bin/env node
import { main } from "../dist/cli/stapflow-vm/main.js";
import { launch } from "./launch.js";

launch("stapflow-vm", main);
