#!/usr/bin/env node
import { main } from "../dist/cli/stapsh-trace/main.js";
import { launch } from "./launch.js";

launch("stapsh-trace", main);
