#!/usr/bin/env node
// The `infinity-backup` command. Runs the compiled JavaScript in dist/ (`npm run build`, which
// `npm ci` runs through the prepare script). In a development checkout whose sources changed
// since that build it runs the TypeScript sources through tsx instead (a dev dependency), so an
// edit needs no build step; production (the job image, an installed package) has dist/ only.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { distState } from "./dist-state.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
let cli;
if (distState(root) === "fresh") {
  cli = await import("../dist/functions/cli/main.js");
} else {
  let register;
  try {
    ({ register } = await import("tsx/esm/api"));
  } catch {
    process.stderr.write(
      "infinity-backup: no compiled code in dist/ (or it is older than the sources) and no tsx to run\n" +
        "the sources: run `npm run build` (or `npm ci`, which builds) in the package folder.\n",
    );
    process.exit(2);
  }
  register();
  cli = await import("../functions/cli/main.ts");
}
process.exitCode = await cli.main(process.argv.slice(2));
