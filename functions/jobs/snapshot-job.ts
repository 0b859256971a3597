// The Cloud Run snapshot job: the same snapshot code as snapshotRepo, for repositories too big
// for a function's time and memory limits. It drains the snapshot-large subscription and exits.
import { drainSubscription, type MessageOutcome } from "../adapters/gcp/pubsub-drain.js";
import { BackupError, describeError } from "../core/errors.js";
import { parseMessage, snapshotRequestSchema } from "../core/messages.js";
import { runSnapshotRequest } from "../handlers/snapshot.js";
import { log } from "../log.js";
import { cloudAppFromEnv, type CloudOverrides } from "../wiring.js";

const DAY_MS = 24 * 3600 * 1000;

export async function runSnapshotJob(
  env: NodeJS.ProcessEnv,
  overrides: CloudOverrides = {},
  idleMs = 30_000,
): Promise<number> {
  const subscription = env.LARGE_SNAPSHOT_SUBSCRIPTION;
  if (!subscription) throw new Error("LARGE_SNAPSHOT_SUBSCRIPTION must name the subscription to drain");
  const app = await cloudAppFromEnv(env, overrides);
  const { PubSub } = await import("@google-cloud/pubsub");
  const pubsub = overrides.pubsub ?? new PubSub({ projectId: env.GOOGLE_CLOUD_PROJECT });
  let failures = 0;
  const handle = async (data: Buffer, messageId: string): Promise<MessageOutcome> => {
    try {
      const request = parseMessage(
        snapshotRequestSchema,
        JSON.parse(data.toString("utf8")),
        "snapshot request",
      );
      await runSnapshotRequest(app, request, `job:${messageId}`, DAY_MS - 10 * 60_000);
      return "ack";
    } catch (err) {
      const permanent = err instanceof BackupError ? err.permanent : err instanceof SyntaxError;
      failures++;
      log(permanent ? "ERROR" : "WARNING", `snapshot job: ${describeError(err)}`, {
        event: "snapshot_failed",
        messageId,
        permanent,
      });
      return permanent ? "ack" : "nack";
    }
  };
  const { handled } = await drainSubscription(pubsub, subscription, handle, { idleMs, maxHoldMs: DAY_MS });
  log("INFO", `snapshot job: ${handled} requests handled, ${failures} failed`, {
    event: "snapshot_job_done",
    handled,
    failures,
  });
  return failures ? 1 : 0;
}
