#!/usr/bin/env node
import { main } from "../dist/cli/stapsh/main.js";
import { launch } from "./launch.js";

launch("stapsh", main);
