// The Publisher contract (functions/core/ports.ts), as one suite every adapter runs:
// publisherContract("InProcessPublisher", async () => ({ publisher, received, cleanup })).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UserInputError } from "../../functions/core/errors.js";
import { topicSchemas } from "../../functions/core/messages.js";
import type { Publisher, Topic } from "../../functions/core/ports.js";

/** One message as a consumer of the topic got it: its id, and its body parsed back from the wire. */
export interface Delivered {
  id: string;
  data: unknown;
}

export interface PublisherFixture {
  publisher: Publisher;
  /**
   * Everything delivered to `topic` so far, once at least `expected` messages have arrived (or a
   * bounded wait has passed; the suite's assertions then say what is missing). Order is free.
   */
  received(topic: Topic, expected: number): Promise<Delivered[]>;
  cleanup(): Promise<void>;
}

const snapshotRequest = (i: number) => ({
  v: 1,
  repo: `acme/repo-${i}`,
  reason: "schedule",
  requestedAt: "2026-11-27T00:00:00Z",
});

/** What each topic's schema makes of a message: the form a consumer must receive. */
const parsed = (topic: Topic, message: unknown) => topicSchemas[topic].parse(message);

/** JSON with object keys sorted, so that key order (the schema's, or the sender's) does not count. */
const canonical = (value: unknown) =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );

/** Order-free comparison: Pub/Sub does not keep publish order without ordering keys. */
const sorted = (values: unknown[]) => values.map(canonical).sort();

export function publisherContract(name: string, factory: () => Promise<PublisherFixture>): void {
  describe(`Publisher contract: ${name}`, () => {
    let fixture: PublisherFixture;
    let publisher: Publisher;
    beforeEach(async () => {
      fixture = await factory();
      publisher = fixture.publisher;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    /** Publishes a sentinel and returns what arrived with it: only the sentinel, if nothing leaked. */
    async function afterSentinel(topic: Topic, sentinel: unknown): Promise<Delivered[]> {
      const [id] = await publisher.publish(topic, [sentinel]);
      const delivered = await fixture.received(topic, 1);
      expect(delivered.map((d) => d.id)).toContain(id);
      return delivered;
    }

    it("delivers a batch intact, as the schema parsed it, with one unique id per message", async () => {
      const messages = [
        { ...snapshotRequest(1), reason: "push", deliveryId: "délivery-✓-42", sizeBytes: 0 },
        { ...snapshotRequest(2), url: "https://example.test/acme/repo-2.git", sizeBytes: 123_456_789 },
        { ...snapshotRequest(3), reason: "manual", requestedAt: "2026-11-27T10:44:55.123+02:00" },
      ];
      const ids = await publisher.publish("snapshot-requests", messages);
      expect(ids).toHaveLength(3);
      expect(new Set(ids).size).toBe(3);
      const delivered = await fixture.received("snapshot-requests", 3);
      expect(sorted(delivered.map((d) => d.id))).toEqual(sorted(ids));
      const expected = messages.map((m) => parsed("snapshot-requests", m));
      expect(sorted(delivered.map((d) => d.data))).toEqual(sorted(expected));
      // Each id is the id of the message it was returned for.
      const byId = new Map(delivered.map((d) => [d.id, d.data]));
      ids.forEach((id, i) => expect(byId.get(id)).toEqual(expected[i]));
    });

    it("sends every topic's message in its parsed form, defaults filled in", async () => {
      const cases: [Topic, unknown][] = [
        ["verify-requests", { v: 1, repo: "acme/w", snapshotId: "20261127T104455123Z-1a2b3c4d" }],
        ["prune-requests", { v: 1 }],
        ["snapshot-large", { ...snapshotRequest(7), reason: "rpo-sweep", sizeBytes: 40 * 2 ** 30 }],
      ];
      for (const [topic, message] of cases) await publisher.publish(topic, [message]);
      for (const [topic, message] of cases) {
        const delivered = await fixture.received(topic, 1);
        expect(delivered.map((d) => d.data)).toEqual([parsed(topic, message)]);
      }
      expect((await fixture.received("verify-requests", 1))[0]?.data).toMatchObject({ level: "deep" });
      expect((await fixture.received("prune-requests", 1))[0]?.data).toEqual({ v: 1, dryRun: false });
    });

    const invalid: [string, number, Record<string, unknown>, RegExp][] = [
      ["a repo without owner, first", 0, { ...snapshotRequest(0), repo: "no-slash" }, /repo: /],
      ["an unknown reason, in the middle", 2, { ...snapshotRequest(2), reason: "whim" }, /reason: /],
      ["a missing requestedAt, last", 4, { v: 1, repo: "acme/x", reason: "push" }, /requestedAt: /],
      ["an unknown field", 3, { ...snapshotRequest(3), token: "x" }, /"token"/],
      ["a future version", 1, { ...snapshotRequest(1), v: 2 }, /\bv: /],
    ];
    it.each(invalid)(
      "refuses a batch with %s, naming it, and delivers none of it",
      async (_, at, bad, field) => {
        const batch: unknown[] = Array.from({ length: 5 }, (_, i) => snapshotRequest(i));
        batch[at] = bad;
        const err = await publisher.publish("snapshot-requests", batch).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(UserInputError);
        expect((err as Error).message).toContain("snapshot-requests");
        expect((err as Error).message).toMatch(field);
        const delivered = await afterSentinel("snapshot-requests", snapshotRequest(999));
        expect(delivered.map((d) => d.data)).toEqual([snapshotRequest(999)]);
      },
    );

    it("refuses a message that is not an object at all", async () => {
      await expect(publisher.publish("prune-requests", ["prune everything"])).rejects.toBeInstanceOf(
        UserInputError,
      );
      await expect(publisher.publish("prune-requests", [null])).rejects.toBeInstanceOf(UserInputError);
      expect((await afterSentinel("prune-requests", { v: 1 })).map((d) => d.data)).toEqual([
        { v: 1, dryRun: false },
      ]);
    });

    it("refuses an unknown topic, naming it", async () => {
      const err = publisher.publish("snapshot-requestz" as Topic, [snapshotRequest(1)]);
      await expect(err).rejects.toBeInstanceOf(UserInputError);
      await expect(err).rejects.toThrow("snapshot-requestz");
    });

    it("resolves an empty batch with no ids", async () => {
      expect(await publisher.publish("snapshot-requests", [])).toEqual([]);
      const delivered = await afterSentinel("snapshot-requests", snapshotRequest(1));
      expect(delivered).toHaveLength(1);
    });

    it("publishes 1,200 messages in one call, one id each, and every one arrives", async () => {
      const messages = Array.from({ length: 1200 }, (_, i) => snapshotRequest(i));
      const ids = await publisher.publish("snapshot-requests", messages);
      expect(ids).toHaveLength(1200);
      expect(new Set(ids).size).toBe(1200);
      const delivered = await fixture.received("snapshot-requests", 1200);
      expect(delivered).toHaveLength(1200);
      expect(new Set(delivered.map((d) => d.id))).toEqual(new Set(ids));
      const repos = new Set(delivered.map((d) => (d.data as { repo: string }).repo));
      expect(repos).toEqual(new Set(messages.map((m) => m.repo)));
    });

    it("keeps topics apart: a message reaches only the topic it was published to", async () => {
      const small = [snapshotRequest(1), snapshotRequest(2)];
      const large = [{ ...snapshotRequest(3), sizeBytes: 50 * 2 ** 30 }];
      const verify = [{ v: 1, repo: "acme/repo-1", snapshotId: "s1", level: "quick" }];
      await Promise.all([
        publisher.publish("snapshot-requests", small),
        publisher.publish("snapshot-large", large),
        publisher.publish("verify-requests", verify),
      ]);
      const data = async (topic: Topic, n: number) => (await fixture.received(topic, n)).map((d) => d.data);
      expect(sorted(await data("snapshot-requests", 2))).toEqual(sorted(small));
      expect(await data("snapshot-large", 1)).toEqual(large);
      expect(await data("verify-requests", 1)).toEqual(verify);
      expect(await afterSentinel("prune-requests", { v: 1, dryRun: true })).toHaveLength(1);
    });
  });
}
