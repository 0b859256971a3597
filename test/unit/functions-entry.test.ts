// The deployment's entry module registers every function by the name Terraform deploys it under.
import { readFile } from "node:fs/promises";
import { getFunction } from "@google-cloud/functions-framework/testing";
import { describe, expect, it } from "vitest";
import { FUNCTION_NAMES } from "../../functions/register.js";

describe("functions/index.ts", () => {
  it("registers every function without building the app (no cloud call at import)", async () => {
    await import("../../functions/index.js");
    for (const name of FUNCTION_NAMES) expect(getFunction(name), name).toBeTypeOf("function");
  });

  it("registers exactly the entry points infra/functions.tf deploys", async () => {
    // infra/functions.tf keys a for_each map by entry point (`entry_point = each.key`).
    const terraform = await readFile("infra/functions.tf", "utf8");
    expect(terraform).toMatch(/entry_point\s*=\s*each\.key/);
    const keys = [...terraform.matchAll(/^ {4}(\w+) = \{$/gm)]
      .map((m) => m[1])
      .filter((k) => k !== "environment_variables");
    expect(keys.sort()).toEqual([...FUNCTION_NAMES].sort());
  });
});
