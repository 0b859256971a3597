// The dead-letter count (adapters/gcp/pubsub-dead-letters.ts) on the Pub/Sub emulator: an empty
// subscription counts 0 and answers soon (a pull waited 4 s per empty subscription before), N
// waiting messages count N, and counting acknowledges nothing: every message is delivered again.
import { v1, type PubSub } from "@google-cloud/pubsub";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PubSubDeadLetters } from "../../functions/adapters/gcp/pubsub-dead-letters.js";
import { emulators, pubsubClient, uniqueName } from "../helpers/emulators.js";

let pubsub: PubSub;
let subscriber: v1.SubscriberClient;

beforeAll(() => {
  pubsub = pubsubClient();
  const [host, port] = emulators().pubsubHost.split(":");
  subscriber = new v1.SubscriberClient({
    servicePath: host,
    port: Number(port),
    sslCreds: grpc.credentials.createInsecure(),
  });
});

afterAll(async () => {
  await subscriber?.close();
  await pubsub?.close();
});

/** A dead-letter topic and its drain subscription, holding `messages` messages. */
async function drain(messages: number): Promise<string> {
  const [topic] = await pubsub.createTopic(uniqueName("dead-letter"));
  const name = `${topic.name.split("/").pop()}-drain`;
  await topic.createSubscription(name, { ackDeadlineSeconds: 60 });
  for (let i = 0; i < messages; i++) await topic.publishMessage({ data: Buffer.from(`{"n":${i}}`) });
  return name;
}

/** The message ids waiting on a subscription, pulled at once and handed straight back. */
async function waiting(name: string): Promise<string[]> {
  const subscription = `projects/${emulators().projectId}/subscriptions/${name}`;
  const ids: string[] = [];
  const ackIds: string[] = [];
  for (;;) {
    const [answer] = await subscriber.pull({ subscription, maxMessages: 100, returnImmediately: true });
    const got = answer.receivedMessages ?? [];
    if (!got.length) break;
    for (const m of got) {
      ids.push(m.message!.messageId!);
      ackIds.push(m.ackId!);
    }
  }
  if (ackIds.length) await subscriber.modifyAckDeadline({ subscription, ackIds, ackDeadlineSeconds: 0 });
  return ids.sort();
}

describe("PubSubDeadLetters on the emulator", () => {
  it("counts 0 for empty subscriptions, all three well within the 4 s one pull used to wait", async () => {
    const names = [await drain(0), await drain(0), await drain(0)];
    const started = performance.now();
    const counts = await new PubSubDeadLetters(pubsub, names).count(100);
    const seconds = (performance.now() - started) / 1000;
    expect(counts).toEqual(names.map((subscription) => ({ subscription, messages: 0 })));
    // The confirming pull waits 1 s (in parallel); the old code took at least 4 s here.
    expect(seconds).toBeLessThan(3.5);
  });

  it("counts N waiting messages, and leaves every one of them for redelivery", async () => {
    const seven = await drain(7);
    const empty = await drain(0);
    const before = await waiting(seven);
    expect(before).toHaveLength(7);
    const letters = new PubSubDeadLetters(pubsub, [seven, empty]);
    expect(await letters.count(100)).toEqual([
      { subscription: seven, messages: 7 },
      { subscription: empty, messages: 0 },
    ]);
    // Nothing acknowledged: the same seven messages are delivered again, and counted again.
    expect(await waiting(seven)).toEqual(before);
    expect(await letters.count(100)).toEqual([
      { subscription: seven, messages: 7 },
      { subscription: empty, messages: 0 },
    ]);
  });

  it("stops at atMost, still acknowledging nothing", async () => {
    const twelve = await drain(12);
    expect(await new PubSubDeadLetters(pubsub, [twelve]).count(5)).toEqual([
      { subscription: twelve, messages: 5 },
    ]);
    expect(await waiting(twelve)).toHaveLength(12);
  });

  it("a subscription that does not exist is an error (NOT_FOUND), not a count of 0", async () => {
    const missing = uniqueName("no-such-drain");
    await expect(new PubSubDeadLetters(pubsub, [missing]).count(10)).rejects.toThrow(/not.?found|NOT_FOUND/i);
  });
});
