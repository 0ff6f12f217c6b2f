#!/usr/bin/env node
import { main } from "../dist/agents/proxy/main.js";
import { launch } from "./launch.js";

launch("stapsh-proxy", main);
