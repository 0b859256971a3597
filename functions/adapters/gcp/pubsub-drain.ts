// Drains a Pub/Sub subscription one message at a time, for the Cloud Run snapshot job: the
// client keeps extending the ack deadline while a long snapshot runs; the drain ends once the
// subscription has been quiet for `idleMs`.
import { Duration, type Message, type PubSub } from "@google-cloud/pubsub";
import type { QueueDrain } from "../../core/ports.js";

/** The QueueDrain of one Pub/Sub subscription. */
export class PubSubQueueDrain implements QueueDrain {
  constructor(
    private readonly pubsub: PubSub,
    private readonly subscription: string,
  ) {}

  drain(handle: (data: Buffer, messageId: string) => Promise<MessageOutcome>, options: DrainOptions) {
    return drainSubscription(this.pubsub, this.subscription, handle, options);
  }
}

export interface DrainOptions {
  /** Stop after this long without a message (and with none in progress). */
  idleMs: number;
  /** How long one message may be held (the client extends the ack deadline up to this). */
  maxHoldMs: number;
}

export type MessageOutcome = "ack" | "nack";

export async function drainSubscription(
  pubsub: PubSub,
  subscriptionName: string,
  handle: (data: Buffer, messageId: string) => Promise<MessageOutcome>,
  options: DrainOptions,
): Promise<{ handled: number }> {
  const subscription = pubsub.subscription(subscriptionName, {
    flowControl: { maxMessages: 1, allowExcessMessages: false },
    maxExtensionTime: Duration.from({ milliseconds: options.maxHoldMs }),
  });
  let handled = 0;
  let busy = false;
  let lastActivity = Date.now();
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (!busy && Date.now() - lastActivity >= options.idleMs) finish();
    }, 250);
    const finish = (err?: Error) => {
      clearInterval(timer);
      subscription.removeAllListeners();
      subscription.close().then(() => (err ? reject(err) : resolve()), reject);
    };
    subscription.on("error", (err: Error) => finish(err));
    subscription.on("message", (message: Message) => {
      busy = true;
      handle(message.data, message.id)
        .then(
          (outcome) => (outcome === "ack" ? message.ack() : message.nack()),
          () => message.nack(),
        )
        .finally(() => {
          handled++;
          busy = false;
          lastActivity = Date.now();
        });
    });
  });
  return { handled };
}
