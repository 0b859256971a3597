// docs/SECURITY.md's table of roles says what core/roles.ts allows, role for role.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { ROLE_OPERATIONS, ROLES } from "../../functions/core/roles.js";

const doc = readFileSync(fileURLToPath(new URL("../../docs/SECURITY.md", import.meta.url)), "utf8");

it("the roles table in docs/SECURITY.md equals ROLE_OPERATIONS", () => {
  const table = doc.slice(doc.indexOf("<!-- roles-table"));
  const rows = Object.fromEntries(
    [...table.matchAll(/^\| (\w+) +\| (.+?) +\|$/gm)]
      .filter(([, role]) => (ROLES as readonly string[]).includes(role!))
      .slice(0, ROLES.length)
      .map(([, role, ops]) => [role, ops!.replace(/\\\*/g, "*").split("; ")]),
  );
  expect(rows).toEqual(ROLE_OPERATIONS);
});
