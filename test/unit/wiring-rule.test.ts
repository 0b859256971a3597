// The wiring rule is enforced by `npm run lint` (eslint.config.js): these fake sources, linted as if
// they lived at each path, show that the rule catches what it names and lets the rest through.
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const eslint = new ESLint({ cwd: new URL("../..", import.meta.url).pathname });

async function problems(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path });
  return result!.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

describe("the wiring rule", () => {
  it.each([
    ["functions/core/x.ts", 'import { FsBlobStore } from "../adapters/local/fs-blob-store.js";', /ports/],
    ["functions/core/git/x.ts", 'import { Storage } from "@google-cloud/storage";', /no SDK/],
    ["functions/core/x.ts", 'import { openApp } from "../wiring.js";', /never imports wiring/],
    ["functions/core/x.ts", 'import { log } from "../handlers/http.js";', /domain/],
    [
      "functions/handlers/x.ts",
      'import { parsePushDelivery } from "../adapters/github/webhook.js";',
      /never an adapter/,
    ],
    ["functions/jobs/x.ts", 'import { PubSub } from "@google-cloud/pubsub";', /wiring.ts builds clients/],
    ["functions/jobs/x.ts", 'import { cloudApp } from "../wiring.js";', /entry points/],
    ["functions/cli/commands/x.ts", 'import Database from "better-sqlite3";', /no SDK/],
    [
      "functions/config/x.ts",
      'import { KeyFileWrapper } from "../adapters/local/keyfile-wrapper.js";',
      /never an adapter/,
    ],
    ["functions/adapters/gcp/x.ts", 'import { cloudApp } from "../../wiring.js";', /never import it/],
  ])("%s may not %s", async (path, code, message) => {
    const found = await problems(path, `${code}\nexport const x = 1;\n`);
    expect(found.length, `no problem reported for ${path}`).toBe(1);
    expect(found[0]).toMatch(message);
  });

  it.each([
    ["functions/core/x.ts", 'import { z } from "zod";'],
    ["functions/handlers/x.ts", 'import type { Request } from "@google-cloud/functions-framework";'],
    ["functions/handlers/x.ts", 'import type { CloudApp } from "../app.js";'],
    ["functions/wiring.ts", 'import { FsBlobStore } from "./adapters/local/fs-blob-store.js";'],
    ["functions/cli/main.ts", 'import { openApp } from "../wiring.js";'],
    ["functions/adapters/gcp/x.ts", 'import { Storage } from "@google-cloud/storage";'],
  ])("%s may %s", async (path, code) => {
    expect(await problems(path, `${code}\nexport const x = 1;\n`)).toEqual([]);
  });
});
