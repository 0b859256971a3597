// The JSON Lines audit log's window reads (AuditReader.entriesSince) and the day index beside the
// log that keeps them from reading what lies before the window.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { dayNotePath } from "../../functions/adapters/local/jsonl-audit-days.js";
import { JsonlAuditLog } from "../../functions/adapters/local/jsonl-audit-log.js";
import { verifyChain } from "../../functions/core/audit-chain.js";
import { auditWindowContract, filteredTrail, recordDays } from "../contract/audit-window.js";
import { ManualClock } from "../contract/snapshot-index.js";

async function subject() {
  const dir = await mkdtemp(path.join(tmpdir(), "infinity-audit-window-"));
  const clock = new ManualClock("2026-09-01T00:00:00.000Z");
  const file = path.join(dir, "audit.jsonl");
  return {
    dir,
    file,
    clock,
    log: new JsonlAuditLog({ path: file, clock }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

auditWindowContract("JsonlAuditLog", subject);

const DAY = 86_400_000;
const WANTED = ["restore.completed", "snapshot.failed", "verify.failed", "drill.failed"];

describe("JsonlAuditLog's day index", () => {
  it("reads no line before the window's first day: lines there, made to look recent, stay unread", async () => {
    const s = await subject();
    try {
      await recordDays(s, 30);
      const since = new Date(s.clock.now().getTime() - 10 * DAY).toISOString();
      const first = await s.log.entriesSince(WANTED, since); // reads the log once, notes its days
      expect(JSON.parse(await readFile(dayNotePath(s.file), "utf8")).days.length).toBe(30);
      // Every line of the first 15 days rewritten in place, same length, as a failure "now": a
      // reader of those lines would answer them.
      const text = await readFile(s.file, "utf8");
      const lines = text.split("\n");
      const now = s.clock.now().toISOString();
      const forged = lines.map((line, i) => {
        if (i >= 45 || !line) return line;
        const fake = JSON.stringify({ action: "snapshot.failed", at: now, actor: "x", pad: "" });
        return fake.replace('"pad":""', `"pad":"${"p".repeat(line.length - fake.length)}"`);
      });
      expect(forged.join("\n").length).toBe(text.length);
      await writeFile(s.file, forged.join("\n"));
      expect(await s.log.entriesSince(WANTED, since)).toEqual(first);
      // The whole trail read and filtered, the old way, does see them: they were only not read.
      expect((await filteredTrail(s.log, WANTED, since)).length).toBe(first.length + 45);
    } finally {
      await s.cleanup();
    }
  });

  it("notes what writers appended since, old code included (they do not keep the index)", async () => {
    const s = await subject();
    try {
      await recordDays(s, 5);
      const since = new Date(s.clock.now().getTime() - 20 * DAY).toISOString();
      await s.log.entriesSince(WANTED, since);
      const noted = JSON.parse(await readFile(dayNotePath(s.file), "utf8")) as { size: number };
      await recordDays(s, 3);
      expect(await s.log.entriesSince(WANTED, since)).toEqual(await filteredTrail(s.log, WANTED, since));
      const renoted = JSON.parse(await readFile(dayNotePath(s.file), "utf8")) as {
        size: number;
        days: unknown[];
      };
      expect(renoted.size).toBeGreaterThan(noted.size);
      expect(renoted.days.length).toBe(8);
      expect(await verifyChain(s.log.stored())).toMatchObject({ ok: true });
    } finally {
      await s.cleanup();
    }
  });

  it("drops a note that does not fit the log (replaced by another) and reads the log whole", async () => {
    const s = await subject();
    try {
      await recordDays(s, 6);
      const since = new Date(s.clock.now().getTime() - 3 * DAY).toISOString();
      await s.log.entriesSince(WANTED, since);
      const note = await readFile(dayNotePath(s.file), "utf8");
      // Another log in its place: shorter, other days.
      await rm(s.file);
      s.clock.set("2026-10-01T00:00:00.000Z");
      await recordDays(s, 4);
      const later = new Date(s.clock.now().getTime() - 3 * DAY).toISOString();
      await writeFile(dayNotePath(s.file), note);
      expect(await s.log.entriesSince(WANTED, later)).toEqual(await filteredTrail(s.log, WANTED, later));
      // A damaged note is no note.
      await writeFile(dayNotePath(s.file), "{ not json");
      expect(await s.log.entriesSince(WANTED, later)).toEqual(await filteredTrail(s.log, WANTED, later));
    } finally {
      await s.cleanup();
    }
  });

  it("leaves out a torn last line and a damaged line, and answers the rest", async () => {
    const s = await subject();
    try {
      await recordDays(s, 3);
      const since = "2026-01-01T00:00:00.000Z";
      const whole = await s.log.entriesSince(WANTED, since);
      await writeFile(s.file, `${await readFile(s.file, "utf8")}not json\n{"action":"snapshot.fa`);
      expect(await s.log.entriesSince(WANTED, since)).toEqual(whole);
    } finally {
      await s.cleanup();
    }
  });
});
