// The AlertLedger contract, run against every adapter (local.test.ts, gcp.test.ts): a claim opens an
// incident once and renews it only after the window; of concurrent claims or releases exactly one
// wins; release answers the last send and closes; record puts one back; openIncidents lists by
// prefix, each with its last send.
import { afterEach, describe, expect, it } from "vitest";
import type { AlertLedger } from "../../functions/core/ports.js";

export interface AlertLedgerFixture {
  ledger: AlertLedger;
  cleanup(): Promise<void>;
}

const t0 = "2026-12-01T10:00:00.000Z";
const at = (hours: number) => new Date(Date.parse(t0) + hours * 3600 * 1000).toISOString();
const KEY = "0:webhook hooks.example.com\nbackup-failed\nacme/app";

export function alertLedgerContract(name: string, open: () => Promise<AlertLedgerFixture>): void {
  describe(`AlertLedger contract: ${name}`, () => {
    let fixture: AlertLedgerFixture | undefined;
    const ledger = async () => (fixture ??= await open()).ledger;
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    it("claims an incident once; a later claim within the window is refused, after it renews", async () => {
      const l = await ledger();
      expect(await l.claim(KEY, t0, at(-6))).toBe(true);
      expect(await l.claim(KEY, at(1), at(-5))).toBe(false);
      expect(await l.claim(KEY, at(5.9), at(-0.1))).toBe(false);
      // Another incident, or the same one on another channel, is its own.
      expect(await l.claim(KEY.replace("acme/app", "acme/lib"), at(1), at(-5))).toBe(true);
      expect(await l.claim(KEY.replace("0:", "1:"), at(1), at(-5))).toBe(true);
      // The window passed (last send before resendBefore): renewed, and the renewal counts from now.
      expect(await l.claim(KEY, at(6.5), at(0.5))).toBe(true);
      expect(await l.claim(KEY, at(7), at(1))).toBe(false);
    });

    it("releases an open incident once, answering its last send; a closed one answers undefined", async () => {
      const l = await ledger();
      expect(await l.release(KEY)).toBeUndefined();
      await l.claim(KEY, t0, at(-6));
      expect(await l.release(KEY)).toBe(t0);
      expect(await l.release(KEY)).toBeUndefined();
      expect(await l.openIncidents("0:")).toEqual(new Map());
      // Closed: the next failure opens a new incident at once.
      expect(await l.claim(KEY, at(1), at(-5))).toBe(true);
    });

    it("record puts an incident back open with the given last send", async () => {
      const l = await ledger();
      await l.record(KEY, at(2));
      expect(await l.claim(KEY, at(3), at(-3))).toBe(false);
      expect(await l.release(KEY)).toBe(at(2));
    });

    it("lists the open incidents of a prefix only, each with its last send", async () => {
      const l = await ledger();
      const keys = [KEY, KEY.replace("acme/app", "acme/ünïcode name"), KEY.replace("0:", "1:")];
      for (const k of keys) await l.claim(k, t0, at(-6));
      await l.claim(keys[1]!, at(7), at(1)); // renewed
      // A key that only shares the start of the channel's name belongs to another channel.
      await l.claim("0:webhook hooks.example.com.evil\nbackup-failed\nacme/app", t0, at(-6));
      expect(await l.openIncidents("0:webhook hooks.example.com\n")).toEqual(
        new Map([
          [keys[0], t0],
          [keys[1], at(7)],
        ]),
      );
      expect(await l.openIncidents("1:")).toEqual(new Map([[keys[2], t0]]));
      expect(await l.openIncidents("2:")).toEqual(new Map());
      await l.release(keys[0]!);
      expect([...(await l.openIncidents("0:webhook hooks.example.com\n")).keys()]).toEqual([keys[1]]);
    });

    it("of twenty concurrent claims exactly one wins, and of twenty releases exactly one", async () => {
      const l = await ledger();
      const claims = await Promise.all(Array.from({ length: 20 }, () => l.claim(KEY, t0, at(-6))));
      expect(claims.filter(Boolean)).toHaveLength(1);
      const releases = await Promise.all(Array.from({ length: 20 }, () => l.release(KEY)));
      expect(releases.filter((r) => r !== undefined)).toEqual([t0]);
    });
  });
}
