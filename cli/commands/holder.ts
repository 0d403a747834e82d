/*
 * Placeholder: the holder commands belong to helper "cliqr", whose branch replaces this file.
 */
import type { Command } from "commander";

import type { Runtime } from "../runtime.js";

export function register(_program: Command, _runtime: Runtime): void {}
