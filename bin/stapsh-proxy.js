#!/usr/bin/env node
import { main } from "../dist/cli/stapsh-proxy/main.js";
import { launch } from "./launch.js";

launch("stapsh-proxy", main);
