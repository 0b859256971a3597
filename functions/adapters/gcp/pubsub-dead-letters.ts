// Counts the messages waiting in the dead-letter subscriptions (<topic>-dead-letter-drain), for
// backupHealth's check and alert. Pub/Sub's API has no message count (Cloud Monitoring has one,
// minutes late), so each subscription is pulled, up to `atMost`, and everything pulled is handed
// back at the end (ack deadline 0): nothing is acknowledged, the messages stay for inspection.
// Pulls answer at once (returnImmediately); an empty answer is checked by one pull that waits
// CONFIRM_WAIT_MS, since Pub/Sub may answer an immediate pull empty while messages wait. An empty
// subscription so costs backupHealth about a second (the subscriptions are counted in parallel),
// where one pull waiting 4 s per round did before.
import { v1, type PubSub } from "@google-cloud/pubsub";
import type { DeadLetters } from "../../core/ports.js";

/** How long the pull that confirms an empty subscription waits for a message. */
export const CONFIRM_WAIT_MS = 1_000;
/** The deadline of a pull that answers at once: a slow service, not an empty subscription. */
const IMMEDIATE_DEADLINE_MS = 10_000;
const DEADLINE_EXCEEDED = 4;

export class PubSubDeadLetters implements DeadLetters {
  constructor(
    private readonly pubsub: PubSub,
    private readonly subscriptions: readonly string[],
  ) {}

  async count(atMost: number): Promise<{ subscription: string; messages: number }[]> {
    // The cast: ClientConfig types `port` as string | number, the gax options as number; the value
    // is the PubSub client's own (the emulator's port, or none), which gax accepts either way.
    const config = (await this.pubsub.getClientConfig()) as ConstructorParameters<
      typeof v1.SubscriberClient
    >[0];
    const client = new v1.SubscriberClient(config);
    const project = await client.getProjectId().catch(() => this.pubsub.projectId);
    try {
      return await Promise.all(
        this.subscriptions.map(async (name) => ({
          subscription: name,
          messages: await countOne(client, `projects/${project}/subscriptions/${name}`, atMost),
        })),
      );
    } finally {
      await client.close();
    }
  }
}

async function countOne(client: v1.SubscriberClient, subscription: string, atMost: number): Promise<number> {
  const seen = new Set<string>();
  const ackIds: string[] = [];
  // Pulled messages are held (not redelivered) while we pull again, so each round sees new ones.
  const pull = async (immediately: boolean) => {
    const answer = await client
      .pull(
        // returnImmediately is deprecated for subscribers that stream, not for a one-off count.
        { subscription, maxMessages: atMost - seen.size, returnImmediately: immediately },
        { timeout: immediately ? IMMEDIATE_DEADLINE_MS : CONFIRM_WAIT_MS, retry: null as never },
      )
      .then(([a]) => a.receivedMessages ?? [])
      .catch((err: { code?: number }) => {
        if (!immediately && err.code === DEADLINE_EXCEEDED) return [];
        throw err;
      });
    const before = seen.size;
    for (const m of answer) {
      if (m.ackId) ackIds.push(m.ackId);
      if (m.message?.messageId) seen.add(m.message.messageId);
    }
    return seen.size > before;
  };
  try {
    if ((await pull(true)) || (await pull(false)))
      for (let round = 1; round < 10 && seen.size < atMost; round++) if (!(await pull(true))) break;
  } finally {
    if (ackIds.length) await client.modifyAckDeadline({ subscription, ackIds, ackDeadlineSeconds: 0 });
  }
  return Math.min(seen.size, atMost);
}
