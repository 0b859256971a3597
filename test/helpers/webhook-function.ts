// The githubWebhook function as the deployment registers it (functions/register.ts), for a test
// that serves it with the Functions Framework's own main.js in a child process. Its app is real
// where the request path is tested (GitHub's signature check, the SQLite delivery log and index) and writes
// what it publishes to a file, one JSON line per message, so the test can count publishes.
import { appendFileSync } from "node:fs";
import { GitHubWebhookReceiver } from "../../functions/adapters/github/webhook.js";
import { SqliteDeliveryLog } from "../../functions/adapters/local/sqlite-delivery-log.js";
import { SqliteSnapshotIndex } from "../../functions/adapters/local/sqlite-index.js";
import { lineageIndex } from "../../functions/core/lineage/lineage-index.js";
import type { CloudApp } from "../../functions/app.js";
import type { Publisher, Topic } from "../../functions/core/ports.js";
import { systemClock } from "../../functions/core/ports.js";
import { registerFunctions } from "../../functions/register.js";

const { WEBHOOK_TEST_SECRET, WEBHOOK_TEST_DIR } = process.env;
if (!WEBHOOK_TEST_SECRET || !WEBHOOK_TEST_DIR)
  throw new Error("WEBHOOK_TEST_SECRET and WEBHOOK_TEST_DIR must be set");

let published = 0;
const publisher: Publisher = {
  publish(topic: Topic, messages: readonly unknown[]) {
    for (const m of messages)
      appendFileSync(`${WEBHOOK_TEST_DIR}/published.jsonl`, JSON.stringify({ topic, m }) + "\n");
    return Promise.resolve(messages.map(() => String(++published)));
  },
};

// Only the parts githubWebhook reads (WORKLOAD_PARTS.githubWebhook); the others are never touched.
const app = {
  clock: systemClock,
  webhooks: new GitHubWebhookReceiver(WEBHOOK_TEST_SECRET),
  deliveries: new SqliteDeliveryLog(`${WEBHOOK_TEST_DIR}/deliveries.sqlite`),
  // The repository registry inventory events are applied to, resolved as in the deployment.
  index: lineageIndex(new SqliteSnapshotIndex({ path: `${WEBHOOK_TEST_DIR}/index.sqlite` })),
  publisher,
} as Partial<CloudApp> as CloudApp;

registerFunctions(() => () => Promise.resolve(app));
