#!/usr/bin/env node
// The `datasafe` command, run from the TypeScript sources without a build step: tsx compiles
// cli/main.ts and what it imports (the SDK, the TypeChain types) as Node loads them.
import { register } from "tsx/esm/api";

register();
const { run } = await import("../main.ts");
const code = await run(process.argv);
// A provider or socket left open must not keep the command running after its result is printed.
process.exit(code);
