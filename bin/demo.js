#!/usr/bin/env node
import { main } from "../dist/cli/demo/main.js";
import { launch } from "./launch.js";

launch("stapflow demo", () => main());
