// backupHealth `?audit`: the audit trail filtered as `infinity-backup audit` filters it (one core
// reader, selectAudit), capped to the newest entries, and a bad query refused naming the field.
import type { Request, Response } from "@google-cloud/functions-framework";
import { describe, expect, it } from "vitest";
import type { CloudApp } from "../../functions/app.js";
import type { StoredEntry } from "../../functions/core/audit-chain.js";
import { healthHandler } from "../../functions/handlers/health.js";

const entry = (seq: number, action: string, repo: string, at: string) => ({
  seq,
  at,
  action,
  repo,
  actor: "cli:ops",
  outcome: "success",
  prev: "0".repeat(64),
  hash: String(seq).padStart(64, "0"),
});

const TRAIL: StoredEntry[] = [
  { position: "line 1", value: entry(1, "snapshot.created", "acme/app", "2026-11-30T00:00:00.000Z") },
  { position: "line 2", value: entry(2, "restore.completed", "acme/app", "2026-11-30T06:00:00.000Z") },
  { position: "line 3", value: "not an entry" },
  { position: "line 4", value: entry(4, "restore.failed", "acme/web", "2026-12-01T00:00:00.000Z") },
  { position: "line 5", value: entry(5, "restore.completed", "acme/app", "2026-12-01T06:00:00.000Z") },
];

const app = {
  auditTrail: {
    async *stored() {
      yield* TRAIL;
    },
  },
} as unknown as CloudApp;

async function call(query: Record<string, unknown>) {
  const res = { code: 0, body: undefined as unknown };
  const response = {
    status(code: number) {
      res.code = code;
      return response;
    },
    json(body: unknown) {
      res.body = body;
    },
  };
  await healthHandler(async () => app)({ query } as unknown as Request, response as unknown as Response);
  return res as { code: number; body: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const seqs = (body: { entries: { seq: number }[] }) => body.entries.map((e) => e.seq);

describe("backupHealth ?audit", () => {
  it("answers every entry, oldest first, and names the damaged ones", async () => {
    const { code, body } = await call({ audit: "" });
    expect(code).toBe(200);
    expect(seqs(body as never)).toEqual([1, 2, 4, 5]);
    expect(body.damaged).toEqual(["line 3"]);
    expect(body.truncated).toBe(false);
  });

  it("filters by repository, action family and time, as the CLI does", async () => {
    expect(seqs((await call({ audit: "", repo: "acme/app" })).body as never)).toEqual([1, 2, 5]);
    expect(seqs((await call({ audit: "", action: "restore" })).body as never)).toEqual([2, 4, 5]);
    expect(seqs((await call({ audit: "", action: "restore.failed" })).body as never)).toEqual([4]);
    const since = await call({ audit: "", repo: "acme/app", since: "2026-11-30T12:00:00Z" });
    expect(seqs(since.body as never)).toEqual([5]);
    expect(since.body.filter).toEqual({ repo: "acme/app", since: "2026-11-30T12:00:00.000Z" });
  });

  it("keeps the newest entries when the limit cuts the list", async () => {
    const { body } = await call({ audit: "", limit: "2" });
    expect(seqs(body as never)).toEqual([4, 5]);
    expect(body.truncated).toBe(true);
  });

  it("refuses a bad query with a 400 naming the field", async () => {
    const since = await call({ audit: "", since: "yesterday-ish" });
    expect(since.code).toBe(400);
    expect(since.body.error).toMatch(/"since" is not a date/);
    const limit = await call({ audit: "", limit: "0" });
    expect(limit.code).toBe(400);
    expect(limit.body.error).toMatch(/"limit" must be a whole number/);
    const twice = await call({ audit: "", repo: ["a/b", "c/d"] });
    expect(twice.code).toBe(400);
    expect(twice.body.error).toMatch(/"repo" must be given once/);
  });
});
