// An HTTP function's input from its query string as well as its body, read by the body's own schema
// (handlers/http.ts requestInput, handlers/query.ts): booleans and numbers from text where the schema
// wants them, lists comma-separated or repeated, nested fields by their path, and a clear error
// naming the field for a value that cannot be what it wants, a field given twice, or one unknown.
import type { Request } from "@google-cloud/functions-framework";
import { describe, expect, it } from "vitest";
import { UserInputError } from "../../functions/core/errors.js";
import {
  drillRequestSchema,
  restoreOrgRequestSchema,
  restoreRequestSchema,
  rotateKeysRequestSchema,
} from "../../functions/core/messages.js";
import { repoNamed, requestInput } from "../../functions/handlers/http.js";

const T = "2026-11-30T12:00:00.000Z";
/** What Express 5's simple query parser hands a function for `search`. */
const req = (search: string, body?: unknown) =>
  ({
    method: "GET",
    query: Object.fromEntries(
      [...new URLSearchParams(search).keys()].map((k) => {
        const all = new URLSearchParams(search).getAll(k);
        return [k, all.length > 1 ? all : all[0]];
      }),
    ),
    body,
  }) as unknown as Request;

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserInputError);
    return (err as Error).message;
  }
  throw new Error("not refused");
};

describe("a request's input from its query string", () => {
  it("reads restoreOrg's booleans, time and list as its body would give them", () => {
    const query = requestInput(
      req(`at=${T}&toOrg=restored&dryRun=true&private=false&include=acme/api,acme/web`),
      restoreOrgRequestSchema,
      "restoreOrg query",
    );
    const body = requestInput(
      req("", { at: T, toOrg: "restored", dryRun: true, private: false, include: ["acme/api", "acme/web"] }),
      restoreOrgRequestSchema,
      "restoreOrg request",
    );
    expect(query).toEqual(body);
    expect(query).toEqual({
      v: 1,
      at: T,
      toOrg: "restored",
      dryRun: true,
      private: false,
      include: ["acme/api", "acme/web"],
    });
    // A repeated key is a list too; "0" and "1" are booleans.
    expect(
      requestInput(
        req(`at=${T}&prefix=r-&include=acme/api&include=acme/web&dryRun=1&private=0`),
        restoreOrgRequestSchema,
        "q",
      ),
    ).toMatchObject({ include: ["acme/api", "acme/web"], dryRun: true, private: false, prefix: "r-" });
  });

  it("reads restoreRepo's nested target by its path, and numbers where the schema wants one", () => {
    expect(
      requestInput(
        req("repo=acme/app&target.kind=github&target.name=restored/app&target.private=false&v=1"),
        restoreRequestSchema,
        "restore request",
      ),
    ).toEqual({
      v: 1,
      repo: "acme/app",
      target: { kind: "github", name: "restored/app", private: false },
    });
    expect(requestInput(req("sample=3"), drillRequestSchema, "drill request")).toEqual({ v: 1, sample: 3 });
    // Text stays text where the schema wants text: a prefix of digits is not a number.
    expect(requestInput(req(`at=${T}&prefix=2024`), restoreOrgRequestSchema, "q").prefix).toBe("2024");
  });

  it("merges the query with a body, and reads an empty body as no body", () => {
    expect(
      requestInput(req("dryRun=true", { at: T, toOrg: "restored" }), restoreOrgRequestSchema, "q"),
    ).toMatchObject({ at: T, toOrg: "restored", dryRun: true });
    expect(requestInput(req("", { data: { repo: "acme/app" } }), rotateKeysRequestSchema, "r")).toEqual({
      v: 1,
      repo: "acme/app",
    });
    expect(requestInput(req("", ""), rotateKeysRequestSchema, "r")).toEqual({ v: 1 });
    expect(requestInput(req("repo=acme/app", {}), rotateKeysRequestSchema, "r")).toEqual({
      v: 1,
      repo: "acme/app",
    });
  });

  it("refuses, naming the field: a value of the wrong type, a field given twice, an unknown one", () => {
    expect(
      refusal(() =>
        requestInput(req(`at=${T}&toOrg=o&dryRun=maybe`), restoreOrgRequestSchema, "restoreOrg query"),
      ),
    ).toBe('invalid restoreOrg query: dryRun: expected true or false, got "maybe"');
    expect(refusal(() => requestInput(req("sample=three"), drillRequestSchema, "drill request"))).toBe(
      'invalid drill request: sample: expected a number, got "three"',
    );
    expect(
      refusal(() =>
        requestInput(req(`at=${T}&toOrg=o&dryRun=true&dryRun=false`), restoreOrgRequestSchema, "q"),
      ),
    ).toMatch(/dryRun: given 2 times/);
    expect(
      refusal(() =>
        requestInput(req("toOrg=other", { at: T, toOrg: "restored" }), restoreOrgRequestSchema, "q"),
      ),
    ).toMatch(/toOrg given both in the query and in the body/);
    expect(
      refusal(() => requestInput(req(`at=${T}&toOrg=o&colour=red`), restoreOrgRequestSchema, "q")),
    ).toMatch(/colour/);
    expect(refusal(() => requestInput(req("__proto__.polluted=1"), drillRequestSchema, "q"))).toMatch(
      /is not a field name/,
    );
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(
      refusal(() =>
        requestInput(req("repo=a/b&target=github&target.kind=github"), restoreRequestSchema, "q"),
      ),
    ).toMatch(/target.kind: target is given as a value and as fields/);
    // The schema's own rules still hold: restoreOrg without a target says why.
    expect(refusal(() => requestInput(req(`at=${T}&dryRun=true`), restoreOrgRequestSchema, "q"))).toMatch(
      /toOrg or prefix/,
    );
  });

  it("names the repository for an audit entry, from the query or the body, without throwing on bad input", () => {
    expect(repoNamed(req("repo=acme/app"), restoreRequestSchema, "r")).toBe("acme/app");
    expect(repoNamed(req("", { repo: "acme/web" }), restoreRequestSchema, "r")).toBe("acme/web");
    expect(repoNamed(req("repo=a/b", { repo: "c/d" }), restoreRequestSchema, "r")).toBeUndefined();
  });
});
