// The DeliveryLog contract, run against every adapter (local.test.ts, gcp.test.ts): first sight
// is true once, a repeat within the window is false, concurrent first sights agree on one winner,
// an expired or forgotten id is new again.
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { DeliveryLog } from "../../functions/core/ports.js";

export interface DeliveryLogFixture {
  log: DeliveryLog;
  cleanup(): Promise<void>;
}

const DAY = 24 * 3600 * 1000;
const t0 = new Date("2026-12-01T10:00:00.000Z");
const later = (ms: number) => new Date(t0.getTime() + ms);

export function deliveryLogContract(name: string, open: () => Promise<DeliveryLogFixture>): void {
  describe(`DeliveryLog contract: ${name}`, () => {
    let fixture: DeliveryLogFixture | undefined;
    const log = async () => (fixture ??= await open()).log;
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    it("says first once, then duplicate for the rest of the window", async () => {
      const deliveries = await log();
      const id = randomUUID();
      expect(await deliveries.firstSeen(id, DAY, t0)).toBe(true);
      expect(await deliveries.firstSeen(id, DAY, later(1000))).toBe(false);
      expect(await deliveries.firstSeen(id, DAY, later(DAY - 1))).toBe(false);
      // Another id is its own.
      expect(await deliveries.firstSeen(randomUUID(), DAY, later(1000))).toBe(true);
    });

    it("counts an id whose window has passed as new again, with a new window", async () => {
      const deliveries = await log();
      const id = randomUUID();
      expect(await deliveries.firstSeen(id, DAY, t0)).toBe(true);
      expect(await deliveries.firstSeen(id, DAY, later(DAY))).toBe(true);
      expect(await deliveries.firstSeen(id, DAY, later(DAY + 1000))).toBe(false);
    });

    it("of twenty concurrent first sights of one id, exactly one is first", async () => {
      const deliveries = await log();
      const id = randomUUID();
      const answers = await Promise.all(Array.from({ length: 20 }, () => deliveries.firstSeen(id, DAY, t0)));
      expect(answers.filter(Boolean)).toHaveLength(1);
    });

    it("forgets an id on request, so its redelivery is first; forgetting twice is fine", async () => {
      const deliveries = await log();
      const id = randomUUID();
      expect(await deliveries.firstSeen(id, DAY, t0)).toBe(true);
      await deliveries.forget(id);
      await deliveries.forget(id);
      await deliveries.forget(randomUUID());
      expect(await deliveries.firstSeen(id, DAY, later(1000))).toBe(true);
      expect(await deliveries.firstSeen(id, DAY, later(2000))).toBe(false);
    });

    it("keeps ids that differ only in case or punctuation apart", async () => {
      const deliveries = await log();
      const base = randomUUID();
      expect(await deliveries.firstSeen(base, DAY, t0)).toBe(true);
      expect(await deliveries.firstSeen(base.toUpperCase(), DAY, t0)).toBe(true);
      expect(await deliveries.firstSeen(`${base}/x`, DAY, t0)).toBe(true);
      expect(await deliveries.firstSeen(`.${base}`, DAY, t0)).toBe(true);
      expect(await deliveries.firstSeen(`${base}/x`, DAY, t0)).toBe(false);
    });
  });
}
