#!/usr/bin/env node
import { main } from "../dist/cli/stap-remote/main.js";
import { launch } from "./launch.js";

launch("stap-remote", main);
