// The read-only wrappers (core/read-only.ts): reads pass, notes are skipped with a word, changes
// are refused by name; an audit entry the log cannot take goes whole to the fallback.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { FsBlobStore } from "../../functions/adapters/local/fs-blob-store.js";
import { JsonlAuditLog } from "../../functions/adapters/local/jsonl-audit-log.js";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { UserInputError } from "../../functions/core/errors.js";
import { auditOrElse, readOnlyIndex, readOnlyStore } from "../../functions/core/read-only.js";

describe("core/read-only", () => {
  it("an audit entry the log cannot take (its path is a folder) goes whole to the fallback", async () => {
    const dir = await mkdtemp(join(tmpdir(), "infinity-ro-unit-"));
    try {
      const lines: string[] = [];
      const audit = auditOrElse(new JsonlAuditLog({ path: dir }), (l) => lines.push(l));
      await audit.record({
        action: "restore.completed",
        repo: "acme/app",
        actor: "cli:me",
        outcome: "success",
      });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^audit entry not written \(.+\): \{"action":"restore\.completed","repo":"acme\/app"/,
      );
      const none: string[] = [];
      await auditOrElse(undefined, (l) => none.push(l)).record({
        action: "verify.passed",
        actor: "x",
        outcome: "success",
      });
      expect(none[0]).toMatch(/read-only.*verify\.passed/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("an index: reads pass, a verdict is skipped with a word, a commit or a lease is refused naming the folder", async () => {
    const told: string[] = [];
    const index = readOnlyIndex(new SqliteSnapshotIndex({ path: ":memory:" }), "/backups/data", (l) =>
      told.push(l),
    );
    expect(await index.repos()).toEqual([]);
    await index.recordVerification("acme/app", "s1", {
      verdict: "ok",
      level: "quick",
      at: new Date().toISOString(),
    });
    expect(told).toEqual([
      "read-only data folder /backups/data: recordVerification of acme/app not recorded",
    ]);
    await expect(index.acquireLease("acme/app", "me", 60_000)).rejects.toThrow(
      /\/backups\/data is read-only: acquireLease/,
    );
    await expect(index.remove("acme/app", "s1")).rejects.toBeInstanceOf(UserInputError);
    await index.releaseLease("acme/app", "me");
    index.close();
  });

  it("a store: reads pass, a put, delete or lifecycle change is refused", async () => {
    const dir = await mkdtemp(join(tmpdir(), "infinity-ro-unit-"));
    try {
      const store = readOnlyStore(new FsBlobStore({ root: dir }), dir);
      expect(await store.stat("repos/acme/app/x.ibk")).toBeUndefined();
      await expect(store.put("repos/acme/app/x.ibk", Readable.from([Buffer.from("x")]))).rejects.toThrow(
        /read-only: cannot put/,
      );
      await expect(store.delete("repos/acme/app/x.ibk")).rejects.toBeInstanceOf(UserInputError);
      await expect(store.setLifecycle("repos/acme/app/x.ibk", {})).rejects.toBeInstanceOf(UserInputError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
