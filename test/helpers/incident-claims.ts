// The notifier's cost over a ledger, run against each AlertLedger (memory and JSON in
// test/unit/incident-claims.test.ts, Firestore on its emulator in test/integration): with 500
// incidents open and sent, a report claims (on Firestore: a transaction) only what is new or past
// the reminder window, one message per incident, also when two instances race; a recovery once.
import { afterEach, describe, expect, it } from "vitest";
import { incidentNotifier } from "../../functions/core/incidents.js";
import type { Alert, AlertLedger, Incident } from "../../functions/core/ports.js";
import { manualClock } from "./local-app.js";

export interface IncidentLedgerFixture {
  ledger: AlertLedger;
  cleanup(): Promise<void>;
}

/** Counts the calls that cost (claims and releases are transactions on Firestore) and how many overlap. */
export class CountingLedger implements AlertLedger {
  claims = 0;
  releases = 0;
  reads = 0;
  private inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly inner: AlertLedger) {}

  reset(): void {
    this.claims = this.releases = this.reads = this.maxInFlight = 0;
  }

  private async counted<T>(call: () => Promise<T>): Promise<T> {
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      return await call();
    } finally {
      this.inFlight--;
    }
  }

  claim(key: string, at: string, resendBefore: string): Promise<boolean> {
    this.claims++;
    return this.counted(() => this.inner.claim(key, at, resendBefore));
  }

  release(key: string): Promise<string | undefined> {
    this.releases++;
    return this.counted(() => this.inner.release(key));
  }

  record(key: string, at: string): Promise<void> {
    return this.inner.record(key, at);
  }

  openIncidents(prefix: string): Promise<Map<string, string>> {
    this.reads++;
    return this.inner.openIncidents(prefix);
  }
}

const t0 = "2026-12-01T10:00:00.000Z";
const HOUR = 3600 * 1000;
const CHANNEL = "0:hook";
const stale = (i: number, why = "stale: last backed up 50 h ago"): Alert => ({
  kind: "repository-stale",
  repo: `acme/repo-${i}`,
  why,
  when: t0,
});
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const alertsFor = (ids: number[]) => ids.map((i) => stale(i));
const all = (_: Incident) => true;
const failOnSend = (name: string, err: unknown) => {
  throw new Error(`${name} failed: ${String(err)}`);
};

/** Opens incidents 0..n-1 on the channel as a report at `at` would have: ids sent then. */
async function seed(ledger: AlertLedger, ids: number[], at: string): Promise<void> {
  await Promise.all(ids.map((i) => ledger.record(`${CHANNEL}\nrepository-stale\nacme/repo-${i}`, at)));
}

export function incidentClaimScenarios(name: string, open: () => Promise<IncidentLedgerFixture>): void {
  describe(`incident claims: ${name}`, () => {
    let fixture: IncidentLedgerFixture | undefined;
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    /** A fresh ledger (counted), a clock at t0, and notifier instances whose messages land in `sent`. */
    async function world() {
      fixture = await open();
      const ledger = new CountingLedger(fixture.ledger);
      const clock = manualClock(t0);
      const sent: Alert[] = [];
      const instance = () =>
        incidentNotifier(
          [{ channel: { name: "hook", send: async (a) => void sent.push(a) }, id: CHANNEL }],
          ledger,
          clock,
          failOnSend,
        );
      return { base: fixture.ledger, ledger, clock, sent, instance };
    }

    it("500 incidents sent: the next report claims none and sends none; claims overlap, 8 at a time", async () => {
      const w = await world();
      const alerts = alertsFor(range(0, 500));
      await w.instance().report(alerts, all, t0);
      expect([w.ledger.claims, w.sent.length, w.ledger.reads]).toEqual([500, 500, 1]);
      expect(w.ledger.maxInFlight).toBe(8);
      w.ledger.reset();
      w.clock.advance(HOUR / 2);
      await w.instance().report(alerts, all, t0);
      expect([w.ledger.claims, w.ledger.releases, w.sent.length, w.ledger.reads]).toEqual([0, 0, 500, 1]);
    });

    it("10 new among 500 open: exactly 10 claims and 10 messages", async () => {
      const w = await world();
      await seed(w.base, range(0, 500), t0);
      w.clock.advance(HOUR);
      await w.instance().report(alertsFor(range(0, 510)), all, t0);
      expect(w.ledger.claims).toBe(10);
      expect(w.sent.map((a) => a.repo).sort()).toEqual(
        range(500, 510)
          .map((i) => `acme/repo-${i}`)
          .sort(),
      );
    });

    it("an incident past the resend window is claimed and sent again once", async () => {
      const w = await world();
      await seed(w.base, range(0, 500), t0);
      await seed(w.base, range(0, 5), new Date(Date.parse(t0) - 7 * HOUR).toISOString());
      w.clock.advance(HOUR);
      const alerts = alertsFor(range(0, 500));
      await w.instance().report(alerts, all, t0);
      expect(w.ledger.claims).toBe(5);
      expect(w.sent.map((a) => a.repo).sort()).toEqual(range(0, 5).map((i) => `acme/repo-${i}`));
      await w.instance().report(alerts, all, t0);
      expect([w.ledger.claims, w.sent.length]).toEqual([5, 5]);
    });

    it("two instances racing on one ledger send each new incident once, and a recovery once", async () => {
      const w = await world();
      await seed(w.base, range(0, 500), t0);
      w.clock.advance(HOUR);
      const alerts = alertsFor(range(0, 520));
      await Promise.all([w.instance().report(alerts, all, t0), w.instance().report(alerts, all, t0)]);
      expect(w.sent.map((a) => a.repo).sort()).toEqual(
        range(500, 520)
          .map((i) => `acme/repo-${i}`)
          .sort(),
      );
      // Both read before either claimed: the claim, not the read, chose who sends.
      expect(w.ledger.claims).toBeGreaterThanOrEqual(20);
      expect(w.ledger.claims).toBeLessThanOrEqual(40);
      w.sent.length = 0;
      const without7 = alerts.filter((a) => a.repo !== "acme/repo-7");
      await Promise.all([w.instance().report(without7, all, t0), w.instance().report(without7, all, t0)]);
      expect(w.sent.map((a) => [a.repo, a.resolved])).toEqual([["acme/repo-7", true]]);
    });

    it("a recovery comes from the same read, once; a run that did not check it clears nothing", async () => {
      const w = await world();
      await seed(w.base, range(0, 500), t0);
      w.clock.advance(HOUR);
      const without7 = alertsFor(range(0, 500).filter((i) => i !== 7));
      await w.instance().report(without7, (i) => i.repo !== "acme/repo-7", t0);
      expect([w.ledger.releases, w.sent.length]).toEqual([0, 0]);
      await w.instance().report(without7, all, t0);
      await w.instance().report(without7, all, t0);
      expect([w.ledger.reads, w.ledger.claims, w.ledger.releases]).toEqual([3, 0, 1]);
      expect(w.sent.map((a) => [a.repo, a.resolved])).toEqual([["acme/repo-7", true]]);
    });

    it("one incident twice in one run, in other words: one claim and one message", async () => {
      const w = await world();
      const alerts = range(0, 50).flatMap((i) => [stale(i, "first"), stale(i, "second")]);
      await w.instance().report(alerts, all, t0);
      expect(w.ledger.claims).toBe(50);
      expect(w.sent.map((a) => a.why)).toEqual(Array(50).fill("first"));
    });
  });
}
