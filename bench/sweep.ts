// `npm run bench -- sweep`: the sweep use case over an org of 10,000 repositories on the GitHub
// stand-in, with the real GitHubAppSource and @octokit clients: API calls, wall time, requests
// published. Baseline (same run): the bare listing, the same pages fetched with plain fetch.
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { PubSub, v1 } from "@google-cloud/pubsub";
import { GitHubAppSource } from "../functions/adapters/github/app-source.js";
import { PubSubPublisher } from "../functions/adapters/gcp/pubsub-publisher.js";
import { parseMessage, topicSchemas, type SnapshotRequest } from "../functions/core/messages.js";
import { SqliteSnapshotIndex } from "../functions/adapters/local/sqlite-index.js";
import { LineageIndex } from "../functions/core/lineage/lineage-index.js";
import type { Publisher, SnapshotIndex, Topic } from "../functions/core/ports.js";
import { systemClock } from "../functions/core/ports.js";
import { sweep } from "../functions/core/sweep.js";
import { ORG, startGitHub, tally, type BenchGitHub } from "./github.js";
import { median } from "./measure.js";
import { startServices, type BenchServices } from "./services.js";
import { benchLog, goalRow, goalTable, machineLine, writeResult, type GoalRow } from "./summary.js";

const USAGE = `usage: npm run bench -- sweep [--repos 10000] [--rounds 3] [--publisher memory|pubsub|both] [--out FILE]
  --repos      repositories in the org (default 10000)
  --rounds     rounds per publisher (medians reported; default 3)
  --publisher  memory: an in-process publisher that validates each message like the real one;
               pubsub: the Pub/Sub publisher on the emulator (started and stopped by the bench);
               both (default)
  --out        JSON figures (default bench/results/sweep.json)`;

const log = benchLog("sweep");

/** Validates like PubSubPublisher (the topic's schema, all before any), then keeps the messages. */
class MemoryPublisher implements Publisher {
  readonly sent: unknown[] = [];
  async publish(topic: Topic, messages: readonly unknown[]): Promise<string[]> {
    const parsed = messages.map((m, i) => parseMessage(topicSchemas[topic], m, `message ${i} for ${topic}`));
    this.sent.push(...parsed);
    return parsed.map((_, i) => String(this.sent.length - parsed.length + i));
  }
}

/**
 * The schedule sweep reads the repository registry once and writes what changed (the first round
 * registers every repository, later rounds none): a SQLite index in memory, its registry timed.
 */
/** From the first registry call's start to the last one's end (writes overlap: not a sum). */
const registry = { first: 0, last: 0, writes: 0, seconds: () => (registry.last - registry.first) / 1000 };
const registryIndex = (() => {
  const inner = new SqliteSnapshotIndex({ path: ":memory:" });
  const timed = <T>(work: () => Promise<T>) => {
    const t = performance.now();
    if (!registry.first) registry.first = t;
    return work().finally(() => (registry.last = performance.now()));
  };
  return new LineageIndex(
    Object.assign(Object.create(inner) as SqliteSnapshotIndex, {
      repositories: () => timed(() => inner.repositories()),
      repositoriesNamed: (name: string) => timed(() => inner.repositoriesNamed(name)),
      updateRepository: (id: number, change: Parameters<SnapshotIndex["updateRepository"]>[1]) => {
        registry.writes++;
        return timed(() => inner.updateRepository(id, change));
      },
    }),
  );
})();

interface Round {
  publisher: "memory" | "pubsub" | "baseline";
  seconds: number;
  listSeconds: number;
  publishSeconds: number;
  /** Installation-token API calls (the hourly budget), app-JWT calls and listing pages apart. */
  apiCalls: number;
  appCalls: number;
  listingCalls: number;
  published: number;
  uniqueRepos: number;
  missing: number;
  duplicates: number;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      repos: { type: "string", default: "10000" },
      rounds: { type: "string", default: "3" },
      publisher: { type: "string", default: "both" },
      out: { type: "string", default: "bench/results/sweep.json" },
      help: { type: "boolean", short: "h" },
    },
  });
  const repoCount = Number(values.repos);
  const rounds = Number(values.rounds);
  const kinds = values.publisher === "both" ? ["memory", "pubsub"] : [values.publisher];
  if (
    values.help ||
    !(repoCount >= 1) ||
    !(rounds >= 1) ||
    kinds.some((k) => k !== "memory" && k !== "pubsub")
  ) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  let services: BenchServices | undefined;
  const github = await startGitHub();
  try {
    const names: string[] = [];
    for (let i = 0; i < repoCount; i++) {
      const name = `${ORG}/repo-${String(i).padStart(5, "0")}`;
      names.push(name);
      github.standin.addRepo(name, { size: 100 + (i % 50) * 1000, hasWiki: i % 10 === 0 });
    }
    log(`stand-in: ${repoCount} repositories in ${ORG}`);
    let pubsub: { client: PubSub; sub: v1.SubscriberClient; topic: string; subPath: string } | undefined;
    if (kinds.includes("pubsub")) {
      services = await startServices(["pubsub"], log);
      const client = new PubSub({ projectId: services.projectId });
      const topic = `snapshot-requests-${randomBytes(4).toString("hex")}`;
      const [created] = await client.createTopic(topic);
      await created.createSubscription(`${topic}-sub`, { ackDeadlineSeconds: 600 });
      const [host, port] = services.pubsubHost!.split(":");
      const sub = new v1.SubscriberClient({
        servicePath: host,
        port: Number(port),
        sslCreds: grpc.credentials.createInsecure(),
      });
      pubsub = { client, sub, topic, subPath: `projects/${services.projectId}/subscriptions/${topic}-sub` };
    }

    const results: Round[] = [];
    for (let round = 1; round <= rounds; round++) {
      results.push(await baseline(github, repoCount));
      log(`round ${round}: baseline listing ${results.at(-1)!.seconds.toFixed(2)} s`);
      for (const kind of kinds) {
        const r =
          kind === "memory"
            ? await oursRound(github, names, new MemoryPublisher(), "memory")
            : await oursRound(
                github,
                names,
                new PubSubPublisher({
                  pubsub: pubsub!.client,
                  topicNames: { "snapshot-requests": pubsub!.topic },
                }),
                "pubsub",
                () => drain(pubsub!.sub, pubsub!.subPath, repoCount),
              );
        results.push(r);
        log(
          `round ${round}: sweep (${kind}) ${r.seconds.toFixed(2)} s, ${r.apiCalls} API calls, ${r.published} published` +
            (kind === "baseline"
              ? ""
              : `, registry ${registry.seconds().toFixed(2)} s (${registry.writes} writes)`),
        );
      }
    }
    await pubsub?.sub.close();
    await pubsub?.client.close();

    const rows: GoalRow[] = [];
    const med = (kind: Round["publisher"], pick: (r: Round) => number) =>
      median(results.filter((r) => r.publisher === kind).map(pick));
    const base = med("baseline", (r) => r.seconds);
    const lines: string[] = [
      `Sweep of ${repoCount} repositories (${rounds} rounds, medians); API calls are the stand-in's count.`,
      "",
    ];
    const table: string[][] = [];
    for (const kind of ["baseline", ...kinds] as Round["publisher"][]) {
      const s = med(kind, (r) => r.seconds);
      table.push([
        kind === "baseline" ? "baseline: listing pages, plain fetch" : `sweep, ${kind} publisher`,
        `${s.toFixed(2)} s`,
        kind === "baseline" ? "1.00" : (s / base).toFixed(2),
        `${med(kind, (r) => r.listSeconds).toFixed(2)} s`,
        kind === "baseline" ? "—" : `${med(kind, (r) => r.publishSeconds).toFixed(2)} s`,
        String(med(kind, (r) => r.apiCalls)),
        String(med(kind, (r) => r.listingCalls)),
        String(med(kind, (r) => r.appCalls)),
        kind === "baseline" ? "—" : String(med(kind, (r) => r.published)),
      ]);
    }
    lines.push(
      goalTable(
        [
          "run",
          ">wall",
          ">x baseline",
          ">listing",
          ">publishing",
          ">API calls",
          ">listing calls",
          ">app-JWT calls",
          ">published",
        ],
        table,
      ),
    );
    for (const kind of kinds as ("memory" | "pubsub")[]) {
      const mine = results.filter((r) => r.publisher === kind);
      const worst = (pick: (r: Round) => number) => Math.max(...mine.map(pick));
      const once = mine.every((r) => r.published === repoCount && r.missing === 0 && r.duplicates === 0);
      rows.push(
        goalRow(
          `every repository published once (${kind})`,
          `${worst((r) => r.published)} published, ${worst((r) => r.missing)} missing, ${worst((r) => r.duplicates)} duplicated (worst round)`,
          `${repoCount} once each`,
          once,
        ),
        goalRow(
          `listing calls per 100 repositories (${kind})`,
          ((worst((r) => r.listingCalls) / repoCount) * 100).toFixed(2),
          "about 1",
          worst((r) => r.listingCalls) <= Math.ceil(repoCount / 100) + 1,
        ),
        goalRow(
          `sweep wall time (${kind})`,
          `${med(kind, (r) => r.seconds).toFixed(2)} s`,
          "< 15 s",
          worst((r) => r.seconds) < 15,
        ),
      );
    }
    lines.push(
      "",
      goalTable(
        ["what", "figure", "goal", "met?"],
        rows.map((r) => [r.what, r.figure, r.goal, r.met]),
      ),
    );
    lines.push(
      "",
      "Notes:",
      "  memory = an in-process publisher that checks every message against the topic's schema, as the",
      "  Pub/Sub publisher does; pubsub = the real PubSubPublisher on the emulator (batches of 500),",
      "  whose messages are then pulled back and counted (untimed).",
      "  API calls = installation-token requests (the hourly budget); app-JWT calls (installation list,",
      "  token minting) are the App's own. Each round builds a new App (a cold function instance).",
      `  ${machineLine()}`,
    );
    console.log(lines.join("\n"));
    await writeResult(values.out, { bench: "sweep", repos: repoCount, rounds, results, goals: rows });
    // Goals missed are reported, not failed on; a sweep that lost or repeated a repository is broken.
    return results.every((r) => r.publisher === "baseline" || (r.missing === 0 && r.duplicates === 0))
      ? 0
      : 1;
  } finally {
    await github.standin.close();
    await services?.stop();
  }
}

/** The floor: the same listing pages, fetched with plain fetch and an installation token. */
async function baseline(github: BenchGitHub, repoCount: number): Promise<Round> {
  const app = github.app();
  const { token } = (await app.octokit.auth({
    type: "installation",
    installationId: github.installationId,
  })) as {
    token: string;
  };
  const from = github.standin.requests.length;
  const started = performance.now();
  let seen = 0;
  for (
    let url: string | undefined = `${github.standin.url}/installation/repositories?per_page=100&page=1`;
    url;
  ) {
    const res: Response = await fetch(url, {
      headers: { authorization: `token ${token}`, accept: "application/vnd.github+json" },
    });
    const body = (await res.json()) as { repositories: unknown[] };
    seen += body.repositories.length;
    url = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get("link") ?? "")?.[1];
  }
  const seconds = (performance.now() - started) / 1000;
  if (seen !== repoCount) throw new Error(`baseline listed ${seen} repositories, expected ${repoCount}`);
  const t = tally(github.standin.requests, from);
  return {
    publisher: "baseline",
    seconds,
    listSeconds: seconds,
    publishSeconds: 0,
    apiCalls: t.rateLimited,
    appCalls: t.app,
    listingCalls: t.byRoute["GET /installation/repositories"] ?? 0,
    published: 0,
    uniqueRepos: seen,
    missing: 0,
    duplicates: 0,
  };
}

async function oursRound(
  github: BenchGitHub,
  names: string[],
  publisher: Publisher,
  kind: "memory" | "pubsub",
  received?: () => Promise<unknown[]>,
): Promise<Round> {
  const source = new GitHubAppSource({ app: github.app(), gitBaseUrl: "http://127.0.0.1:9" });
  let listSeconds = 0;
  let publishSeconds = 0;
  const timedSource = Object.assign(Object.create(source) as GitHubAppSource, {
    listRepos: async () => {
      const t = performance.now();
      try {
        return await source.listRepos();
      } finally {
        listSeconds = (performance.now() - t) / 1000;
      }
    },
  });
  const timedPublisher: Publisher = {
    publish: async (topic, messages) => {
      const t = performance.now();
      try {
        return await publisher.publish(topic, messages);
      } finally {
        publishSeconds += (performance.now() - t) / 1000;
      }
    },
  };
  const from = github.standin.requests.length;
  const started = performance.now();
  [registry.first, registry.last, registry.writes] = [0, 0, 0];
  const outcome = await sweep(
    { index: registryIndex, clock: systemClock, sources: timedSource, publisher: timedPublisher },
    { v: 1, reason: "schedule" },
  );
  const seconds = (performance.now() - started) / 1000;
  const t = tally(github.standin.requests, from);
  const messages = received ? await received() : (publisher as MemoryPublisher).sent;
  const repos = (messages as SnapshotRequest[]).map((m) => m.repo);
  const unique = new Set(repos);
  const expected = new Set(names);
  return {
    publisher: kind,
    seconds,
    listSeconds,
    publishSeconds,
    apiCalls: t.rateLimited,
    appCalls: t.app,
    listingCalls: t.byRoute["GET /installation/repositories"] ?? 0,
    published: outcome.published,
    uniqueRepos: unique.size,
    missing: [...expected].filter((n) => !unique.has(n)).length,
    duplicates: repos.length - unique.size,
  };
}

/** Pulls (and acknowledges) what the subscription holds until `expected` came or it stays empty. */
async function drain(sub: v1.SubscriberClient, subscription: string, expected: number): Promise<unknown[]> {
  const got: unknown[] = [];
  for (let empty = 0; empty < 5;) {
    const [response] = await sub.pull({ subscription, maxMessages: 1000, returnImmediately: true });
    const received = response.receivedMessages ?? [];
    if (!received.length) {
      empty++;
      if (got.length >= expected) break;
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    empty = 0;
    for (const r of received)
      got.push(JSON.parse(Buffer.from(r.message!.data as Uint8Array).toString("utf8")));
    await sub.acknowledge({ subscription, ackIds: received.map((r) => r.ackId!) });
  }
  return got;
}

export { main };
