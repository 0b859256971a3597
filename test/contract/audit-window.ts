// The contract of AuditReader.entriesSince, run against every audit trail (the JSON Lines log and
// Firestore): the entries of the actions asked for, at or after the moment, equal to what reading
// the whole trail and filtering it gives (the old calculation); nothing older, no other action.
import { describe, expect, it } from "vitest";
import type { AuditEntry } from "../../functions/core/audit-chain.js";
import type { AuditLog, AuditReader } from "../../functions/core/ports.js";
import type { ManualClock } from "./snapshot-index.js";

export interface AuditWindowSubject {
  log: AuditLog & AuditReader;
  clock: ManualClock;
  cleanup?: () => Promise<void>;
}

const DAY = 86_400_000;
const ACTIONS = ["restore.completed", "snapshot.failed", "verify.failed", "drill.failed", "snapshot.created"];

/** Entries over `days` days, a few a day, several repositories and actions; returns when each was. */
export async function recordDays(subject: AuditWindowSubject, days: number): Promise<void> {
  for (let day = 0; day < days; day++) {
    for (let i = 0; i < 3; i++) {
      const action = ACTIONS[(day + i) % ACTIONS.length]!;
      await subject.log.record({
        action,
        ...(i === 2 ? {} : { repo: `acme/r${(day + i) % 3}` }),
        actor: "test",
        outcome: action.endsWith(".failed") ? "failure" : "success",
        details: { day, i, seconds: day + i },
      });
      subject.clock.advance(DAY / 3);
    }
  }
}

/** The old calculation: every stored entry, filtered. */
export async function filteredTrail(
  reader: AuditReader,
  actions: readonly string[],
  since: string,
): Promise<AuditEntry[]> {
  const all: AuditEntry[] = [];
  for await (const stored of reader.stored()) {
    const e = stored.value as AuditEntry;
    if (actions.includes(e.action) && e.at >= since) all.push(e);
  }
  return all;
}

const byTime = (entries: AuditEntry[]) =>
  [...entries].sort((a, b) => a.at.localeCompare(b.at) || (a.repo ?? "").localeCompare(b.repo ?? ""));

export function auditWindowContract(name: string, make: () => Promise<AuditWindowSubject>): void {
  describe(`AuditReader.entriesSince: ${name}`, () => {
    it("answers the actions asked for at or after the moment, as filtering the whole trail does", async () => {
      const subject = await make();
      try {
        await recordDays(subject, 20);
        const wanted = ["restore.completed", "snapshot.failed", "drill.failed"];
        for (const back of [1, 5, 12.5, 30]) {
          const since = new Date(subject.clock.now().getTime() - back * DAY).toISOString();
          const window = await subject.log.entriesSince(wanted, since);
          const old = await filteredTrail(subject.log, wanted, since);
          expect(old.length, `${back} days`).toBeGreaterThan(0);
          expect(byTime(window), `${back} days`).toEqual(byTime(old));
          expect(window.every((e) => e.at >= since && wanted.includes(e.action))).toBe(true);
        }
        // The moment exactly: an entry recorded at it is in.
        const last = byTime(await filteredTrail(subject.log, ["verify.failed"], "")).at(-1)!;
        expect((await subject.log.entriesSince(["verify.failed"], last.at)).map((e) => e.hash)).toEqual([
          last.hash,
        ]);
        expect(await subject.log.entriesSince([], "2000-01-01T00:00:00.000Z")).toEqual([]);
      } finally {
        await subject.cleanup?.();
      }
    });

    it("finds what was recorded after an earlier window read", async () => {
      const subject = await make();
      try {
        await recordDays(subject, 4);
        const since = new Date(subject.clock.now().getTime() - 2 * DAY).toISOString();
        const before = await subject.log.entriesSince(ACTIONS, since);
        subject.clock.advance(3 * DAY);
        await recordDays(subject, 2);
        const after = await subject.log.entriesSince(ACTIONS, since);
        expect(after.length).toBe(before.length + 6);
        expect(byTime(after)).toEqual(byTime(await filteredTrail(subject.log, ACTIONS, since)));
      } finally {
        await subject.cleanup?.();
      }
    });

    it("answers nothing for an empty trail", async () => {
      const subject = await make();
      try {
        expect(await subject.log.entriesSince(ACTIONS, "2000-01-01T00:00:00.000Z")).toEqual([]);
      } finally {
        await subject.cleanup?.();
      }
    });
  });
}
