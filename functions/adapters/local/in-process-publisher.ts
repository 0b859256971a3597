// Publisher for the local mode: validated messages wait in memory, per topic, until a subscriber
// takes them or a caller drains them. It is how one local step hands work to the next.
import { UserInputError } from "../../core/errors.js";
import { parseMessage, topicSchemas } from "../../core/messages.js";
import type { Publisher, Topic } from "../../core/ports.js";

export interface InProcessMessage {
  id: string;
  topic: Topic;
  /** The message as the schema parsed it (defaults filled in), as JSON would carry it. */
  data: unknown;
  /** Set when a subscriber threw on it: the message stays queued until drained. */
  error?: unknown;
}

export type MessageHandler = (message: InProcessMessage) => void | Promise<void>;

interface Entry {
  message: InProcessMessage;
  state: "queued" | "delivering" | "failed";
}

export class InProcessPublisher implements Publisher {
  private readonly queues = new Map<Topic, Entry[]>();
  private readonly handlers = new Map<Topic, MessageHandler>();
  /** The delivery loop running for each topic, if one is. */
  private readonly pumps = new Map<Topic, Promise<void>>();
  private lastId = 0;

  async publish(topic: Topic, messages: readonly unknown[]): Promise<string[]> {
    const schema = topicSchemas[topic];
    if (schema === undefined) throw new UserInputError(`unknown topic ${JSON.stringify(topic)}`);
    if (!Array.isArray(messages)) throw new UserInputError(`messages for topic ${topic} must be an array`);
    // Every message is checked before any is queued: one bad message means none is accepted. The
    // JSON round trip gives a consumer what Pub/Sub would give it, and detaches it from the caller.
    const parsed = messages.map(
      (message, i) =>
        JSON.parse(
          JSON.stringify(parseMessage(schema, message, `message ${i} for topic ${topic}`)),
        ) as unknown,
    );
    const queue = this.queue(topic);
    const ids = parsed.map((data) => {
      const id = String(++this.lastId);
      queue.push({ message: { id, topic, data }, state: "queued" });
      return id;
    });
    if (ids.length > 0) this.deliver(topic);
    return ids;
  }

  /**
   * Hands every queued and future message of `topic` to `handler`, one at a time, in publish order.
   * A message whose handler resolves is removed; one whose handler throws stays queued, with the
   * error, and is not offered again (there is no redelivery): `drain` returns it. One handler per
   * topic. Returns a function that unsubscribes.
   */
  subscribe(topic: Topic, handler: MessageHandler): () => void {
    if (topicSchemas[topic] === undefined) throw new UserInputError(`unknown topic ${JSON.stringify(topic)}`);
    if (this.handlers.has(topic)) throw new Error(`topic ${topic} already has a subscriber`);
    this.handlers.set(topic, handler);
    this.deliver(topic);
    return () => {
      if (this.handlers.get(topic) === handler) this.handlers.delete(topic);
    };
  }

  /** Removes and returns what is queued for `topic` (failed ones included), in publish order. */
  drain(topic: Topic): InProcessMessage[] {
    const queue = this.queue(topic);
    const taken = queue.filter((e) => e.state !== "delivering");
    this.queues.set(
      topic,
      queue.filter((e) => e.state === "delivering"),
    );
    return taken.map((e) => ({ ...e.message }));
  }

  /** Resolves once no handler is running, including for messages published by handlers meanwhile. */
  async idle(): Promise<void> {
    while (this.pumps.size > 0) await Promise.all(this.pumps.values());
  }

  private queue(topic: Topic): Entry[] {
    let queue = this.queues.get(topic);
    if (queue === undefined) this.queues.set(topic, (queue = []));
    return queue;
  }

  /** Starts the topic's delivery loop unless it runs already; handlers never run inside `publish`. */
  private deliver(topic: Topic): void {
    if (this.pumps.has(topic)) return;
    const pump = (async () => {
      await Promise.resolve();
      for (;;) {
        const handler = this.handlers.get(topic);
        const entry = this.queue(topic).find((e) => e.state === "queued");
        if (handler === undefined || entry === undefined) {
          // In the same turn as the check, so a message queued after it starts a new loop.
          this.pumps.delete(topic);
          return;
        }
        entry.state = "delivering";
        try {
          await handler({ ...entry.message });
          const queue = this.queue(topic);
          queue.splice(queue.indexOf(entry), 1);
        } catch (err) {
          entry.state = "failed";
          entry.message.error = err;
        }
      }
    })();
    this.pumps.set(topic, pump);
  }
}
