#!/usr/bin/env node
import { main } from "../dist/cli/stapsh-conformance/main.js";
import { launch } from "./launch.js";

launch("stapsh-conformance", main);
