// Counts the messages waiting in the dead-letter subscriptions (<topic>-dead-letter-drain), for
// backupHealth's check and alert. Pub/Sub's API has no message count (Cloud Monitoring has one,
// minutes late), so each subscription is pulled, up to `atMost`, and everything pulled is handed
// back at the end (ack deadline 0): nothing is acknowledged, the messages stay for inspection.
import { v1, type PubSub } from "@google-cloud/pubsub";
import type { DeadLetters } from "../../core/ports.js";

/** How long one pull waits for messages; an empty subscription answers nothing within it. */
const PULL_WAIT_MS = 4_000;
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
  try {
    // A pull may answer fewer than wait: pulled messages are held (not redelivered) while we pull again.
    for (let round = 0; round < 10 && seen.size < atMost; round++) {
      const answer = await client
        .pull(
          { subscription, maxMessages: atMost - seen.size },
          { timeout: PULL_WAIT_MS, retry: null as never },
        )
        .then(([a]) => a.receivedMessages ?? [])
        .catch((err: { code?: number }) => {
          if (err.code === DEADLINE_EXCEEDED) return [];
          throw err;
        });
      const before = seen.size;
      for (const m of answer) {
        if (m.ackId) ackIds.push(m.ackId);
        if (m.message?.messageId) seen.add(m.message.messageId);
      }
      if (seen.size === before) break;
    }
  } finally {
    if (ackIds.length) await client.modifyAckDeadline({ subscription, ackIds, ackDeadlineSeconds: 0 });
  }
  return Math.min(seen.size, atMost);
}
