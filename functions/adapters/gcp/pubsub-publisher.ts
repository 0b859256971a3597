// Publisher on Pub/Sub: every message checked against its topic's schema before any is sent, then
// published as JSON in batches sized for the sweep's fan-out of thousands of repos.
import type { PubSub, Topic as PubSubTopic } from "@google-cloud/pubsub";
import { UserInputError } from "../../core/errors.js";
import { parseMessage, topicSchemas } from "../../core/messages.js";
import type { Publisher, Topic } from "../../core/ports.js";
import { fromGrpc } from "./errors.js";

/**
 * Up to 500 messages or 50 ms per publish request: a sweep of thousands of repos goes out in a few
 * requests (Pub/Sub takes up to 1,000 messages or 10 MB in one), while a single push-triggered
 * request waits at most 50 ms.
 */
const BATCHING = { maxMessages: 500, maxMilliseconds: 50, maxBytes: 1024 * 1024 };

export interface PubSubPublisherOptions {
  /** A configured client; who builds it (project, credentials, emulator) is the caller's choice. */
  pubsub: PubSub;
  /** The Pub/Sub topic of each of our topics; by default a topic is named as ours is. */
  topicNames?: Partial<Record<Topic, string>>;
}

export class PubSubPublisher implements Publisher {
  private readonly pubsub: PubSub;
  private readonly topicNames: Partial<Record<Topic, string>>;
  /** One client-side Topic per topic, kept: its batcher is shared by every publish call. */
  private readonly topics = new Map<Topic, PubSubTopic>();

  constructor(options: PubSubPublisherOptions) {
    this.pubsub = options.pubsub;
    this.topicNames = { ...options.topicNames };
  }

  async publish(topic: Topic, messages: readonly unknown[]): Promise<string[]> {
    const schema = topicSchemas[topic];
    if (schema === undefined) throw new UserInputError(`unknown topic ${JSON.stringify(topic)}`);
    if (!Array.isArray(messages)) throw new UserInputError(`messages for topic ${topic} must be an array`);
    // All of them first: one bad message means none is sent. What is sent is the parsed form,
    // defaults filled in, so a consumer reads exactly what the schema describes.
    const parsed = messages.map((message, i) =>
      parseMessage(schema, message, `message ${i} for topic ${topic}`),
    );
    if (parsed.length === 0) return [];
    const target = this.topic(topic);
    const sent = parsed.map((json) => target.publishMessage({ json }));
    // Settle every publish before answering, so no rejection is left unhandled; flush sends the
    // last, partial batch now instead of after maxMilliseconds.
    const [results] = await Promise.all([Promise.allSettled(sent), target.flush().catch(() => undefined)]);
    const failed = results.flatMap((r, i) =>
      r.status === "rejected" ? [{ i, reason: r.reason as unknown }] : [],
    );
    if (failed.length > 0) {
      // Pub/Sub has no all-or-nothing publish: some may have gone out. Consumers are idempotent,
      // so the caller retries the whole batch.
      throw fromGrpc(
        failed[0]!.reason,
        `could not publish ${failed.length} of ${parsed.length} messages to ${target.name} (topic ${topic})`,
      );
    }
    return results.map((r) => (r as PromiseFulfilledResult<string>).value);
  }

  /** Sends whatever is still batched, for a process about to end. */
  async flush(): Promise<void> {
    await Promise.all([...this.topics.values()].map((t) => t.flush()));
  }

  private topic(topic: Topic): PubSubTopic {
    let target = this.topics.get(topic);
    if (target === undefined) {
      target = this.pubsub.topic(this.topicNames[topic] ?? topic, { batching: BATCHING });
      this.topics.set(topic, target);
    }
    return target;
  }
}
