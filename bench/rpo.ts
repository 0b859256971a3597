// `npm run bench -- rpo`: the recovery point end to end. The deployment runs locally as the tests run
// it (test/helpers/cloud-stack.ts: the seven functions served by the Functions Framework, the GitHub
// stand-in, the git smart-HTTP server, the KMS stand-in, the Pub/Sub and Firestore emulators and
// fake-gcs-server), except that Pub/Sub delivers by itself: snapshot-requests and verify-requests get
// real push subscriptions to the functions' URLs (ack deadline and retry policy as infra/pubsub.tf),
// and nothing pulls or pumps. Then pushes (commits pushed to the git server over smart HTTP, then a
// signed push webhook) and issue comments (a new comment on the stand-in, then a signed
// issue_comment webhook) arrive at random times over a few minutes; each is timed from the
// webhook's 202 to the moment the Firestore index holds a committed snapshot that covers it.
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { parseArgs } from "node:util";
import { createDemoRepo } from "../functions/cli/demo-repo.js";
import { git } from "../functions/core/git/exec.js";
import { readMetadata } from "../functions/core/metadata/read.js";
import type { Snapshot } from "../functions/core/model.js";
import { setLogWriter } from "../functions/log.js";
import { startCloudStack, type CloudStack } from "../test/helpers/cloud-stack.js";
import { fillMetadata } from "../test/helpers/github-metadata-fixture.js";
import { benchLog, goalRow, goalTable, machineLine, writeResult } from "./summary.js";
import { startServices, type BenchServices } from "./services.js";

const USAGE = `usage: npm run bench -- rpo [--pushes 20] [--comments 20] [--spread 120] [--repos 4] [--seed 1] [--timeout 300]
         [--backoff cloud|emulator] [--out FILE]
  --pushes    pushes (a commit pushed over smart HTTP, then a signed push webhook); default 20
  --comments  issue comments (a new comment on the stand-in, then a signed issue_comment webhook); default 20
  --spread    seconds over which the events arrive, at seeded random times (default 120: ~3 min in all)
  --repos     repositories the events are spread over (default 4)
  --seed      seed of the event times and repositories (default 1)
  --timeout   seconds to wait for the last event's snapshot before giving up (default 300)
  --backoff   cloud (default): a redelivery waits infra/pubsub.tf's retry backoff (10 s, 20 s, … 600 s),
              which the emulator ignores, so the recorder in front of each function holds it back;
              emulator: redeliveries pass as the emulator sends them (about 1 s)
  --out       JSON figures (default bench/results/rpo.json)`;

const log = benchLog("rpo");
const POLL_MS = 250;

interface BenchEvent {
  kind: "push" | "comment";
  repo: string;
  /** Seconds after the start of the measured period it is due. */
  due: number;
  /** Push: the commit and its place in main's history (1 = the first push of the run). */
  sha?: string;
  seq?: number;
  /** Epoch ms: the change is visible at the source (after the git push / the comment is served). */
  changedAt?: number;
  /** Epoch ms: the webhook answered 202. */
  acceptedAt?: number;
  status?: number;
  /** Epoch ms: the first poll that found a committed snapshot covering the change. */
  coveredAt?: number;
  /** The snapshot that covered it; a comment's was created after it, or confirmed unchanged after it. */
  coveredBy?: string;
  coveredHow?: "created" | "confirmed";
  /** Comment: its id on the stand-in. */
  commentId?: number;
}

/** mulberry32: a small seeded PRNG, so a run's schedule can be repeated. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      pushes: { type: "string", default: "20" },
      comments: { type: "string", default: "20" },
      spread: { type: "string", default: "120" },
      repos: { type: "string", default: "4" },
      seed: { type: "string", default: "1" },
      timeout: { type: "string", default: "300" },
      backoff: { type: "string", default: "cloud" },
      out: { type: "string", default: "bench/results/rpo.json" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [pushes, comments, spread, repoCount, seed, timeout] = [
    values.pushes,
    values.comments,
    values.spread,
    values.repos,
    values.seed,
    values.timeout,
  ].map(Number) as [number, number, number, number, number, number];
  const backoff = values.backoff as "cloud" | "emulator";
  if (
    values.help ||
    (backoff !== "cloud" && backoff !== "emulator") ||
    !(pushes >= 0 && comments >= 0 && pushes + comments > 0 && spread >= 0 && repoCount >= 1 && timeout > 0)
  ) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }

  // The functions log JSON lines; keep them for the tallies instead of flooding the terminal.
  const logLines: { event?: string; severity?: string; message?: string; repo?: string; t: number }[] = [];
  const previousWriter = setLogWriter((line) => {
    try {
      logLines.push({ ...(JSON.parse(line) as object), t: Date.now() });
    } catch {
      logLines.push({ message: line, t: Date.now() });
    }
  });
  // The Functions Framework prints a function's error (a held lease, retried) with its stack: count them.
  const consoleErrors: Record<string, number> = {};
  const previousConsoleError = console.error;
  console.error = (...args: unknown[]) => {
    const first = String(args[0] instanceof Error ? args[0].message : args[0])
      .split("\n")[0]!
      .slice(0, 120);
    consoleErrors[first] = (consoleErrors[first] ?? 0) + 1;
  };
  let services: BenchServices | undefined;
  let stack: CloudStack | undefined;
  let recorders: Server[] = [];
  const deliveries: Delivery[] = [];
  const work = await mkdtemp(join(tmpdir(), "infinity-bench-rpo-"));
  try {
    services = await startServices(["pubsub", "firestore", "gcs"], log);
    log(`emulators ready in ${(services.startupMs / 1000).toFixed(1)} s`);
    stack = await startCloudStack();
    recorders = await pushDelivery(stack, services.projectId, deliveries, backoff);
    log("functions served; snapshot-requests and verify-requests delivered by push subscriptions");

    // The repositories: git data on the git server, a little metadata on the stand-in.
    const repos = Array.from({ length: repoCount }, (_, i) => `acme/rpo-${i + 1}`);
    const clones = new Map<string, string>();
    const history = new Map<string, string[]>();
    for (const name of repos) {
      stack.github.addRepo(name);
      fillMetadata(stack.github.metadata(name), { repo: name, issues: 40, comments: 60 });
      await createDemoRepo(join(stack.root, `${name}.git`));
      clones.set(name, await workClone(stack, name, work));
      history.set(name, [await headOf(clones.get(name)!)]);
    }
    const index = (await stack.app()).index;

    // Warm-up (not measured): a first, full snapshot of each repository through the same path, verified.
    const warmStarted = Date.now();
    for (const name of repos) {
      const res = await stack.signedPush(name);
      if (res.status !== 202) throw new Error(`warm-up webhook for ${name} answered ${res.status}`);
    }
    for (const name of repos) {
      for (;;) {
        const latest = await index.latest(name);
        if (latest?.verification) break;
        if (Date.now() - warmStarted > timeout * 1000)
          throw new Error(`warm-up: no verified snapshot of ${name} after ${timeout} s`);
        await sleep(POLL_MS);
      }
    }
    log(
      `warm-up: ${repos.length} full snapshots, verified, in ${((Date.now() - warmStarted) / 1000).toFixed(1)} s`,
    );
    const logsFrom = logLines.length;

    // The schedule: seeded times over the spread, kinds shuffled, repositories at random.
    const random = prng(seed);
    const kinds: BenchEvent["kind"][] = [...Array(pushes).fill("push"), ...Array(comments).fill("comment")];
    for (let i = kinds.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
    }
    const dues = kinds.map(() => random() * spread).sort((a, b) => a - b);
    const events: BenchEvent[] = kinds.map((kind, i) => ({
      kind,
      repo: repos[Math.floor(random() * repos.length)]!,
      due: dues[i]!,
    }));

    // Git work on one repository is serialized (one work clone each); events otherwise overlap freely.
    const lanes = new Map<string, Promise<unknown>>();
    const inLane = <T>(repo: string, job: () => Promise<T>): Promise<T> => {
      const next = (lanes.get(repo) ?? Promise.resolve()).then(job);
      lanes.set(
        repo,
        next.catch(() => undefined),
      );
      return next;
    };
    let commentId = 5_000_000;
    const fire = async (e: BenchEvent) => {
      if (e.kind === "push") {
        await inLane(e.repo, async () => {
          const clone = clones.get(e.repo)!;
          e.sha = await commitAndPush(stack!, e.repo, clone, `bench-${randomBytes(4).toString("hex")}.txt`);
          history.get(e.repo)!.push(e.sha);
          e.seq = history.get(e.repo)!.length - 1;
          e.changedAt = Date.now();
        });
      } else {
        e.commentId = ++commentId;
        addComment(stack!, e.repo, e.commentId);
        e.changedAt = Date.now();
      }
      const res = await stack!.signedPush(e.repo, e.kind === "push" ? "push" : "issue_comment");
      e.acceptedAt = Date.now();
      e.status = res.status;
      await res.arrayBuffer();
    };

    // The watcher: polls the index of every repository with an event not yet covered.
    let watching = true;
    const covers = (e: BenchEvent, s: Snapshot): boolean => {
      if (e.kind === "push") {
        const main = s.refs["refs/heads/main"];
        return main !== undefined && history.get(e.repo)!.indexOf(main) >= e.seq!;
      }
      // Created after the comment was served, or confirmed unchanged by a check begun after it
      // (which the content check below holds to account: the comment must be in that snapshot).
      return s.metadata !== undefined && Date.parse(s.confirmedAt) > e.changedAt!;
    };
    const coveringSnapshots = new Map<string, Snapshot>();
    const watcher = (async () => {
      while (watching) {
        const open = events.filter((e) => e.acceptedAt !== undefined && e.coveredAt === undefined);
        for (const repo of new Set(open.map((e) => e.repo))) {
          const snapshots = await index.list(repo);
          const now = Date.now();
          for (const e of open.filter((o) => o.repo === repo)) {
            const s = snapshots.find((x) => covers(e, x));
            if (s) {
              e.coveredAt = now;
              e.coveredBy = s.id;
              if (e.kind === "comment")
                e.coveredHow = Date.parse(s.takenAt) > e.changedAt! ? "created" : "confirmed";
              coveringSnapshots.set(s.id, s);
              log(
                `${e.kind} on ${e.repo}: covered ${((now - e.acceptedAt!) / 1000).toFixed(1)} s after its 202 by ${s.id} ${e.coveredHow ? ` (${e.coveredHow})` : ""}`,
              );
            }
          }
        }
        await sleep(POLL_MS);
      }
    })();

    const started = Date.now();
    log(
      `measuring: ${pushes} pushes and ${comments} comments over ${spread} s on ${repos.length} repositories`,
    );
    const fired: Promise<void>[] = [];
    for (const e of events) {
      const wait = started + e.due * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
      fired.push(
        fire(e).catch((err: unknown) => {
          e.status = -1;
          log(`${e.kind} on ${e.repo} failed: ${(err as Error).message}`);
        }),
      );
    }
    await Promise.all(fired);
    const deadline = Date.now() + timeout * 1000;
    while (events.some((e) => e.status === 202 && e.coveredAt === undefined) && Date.now() < deadline)
      await sleep(POLL_MS);
    watching = false;
    await watcher;
    const measuredSeconds = (Date.now() - started) / 1000;
    const logsTo = logLines.length;

    // The content check: every covered comment is in the snapshot that covered it (read back from
    // its archives, the chain replayed), so no confirmation claimed a change it had missed.
    const app = await stack.app();
    const missing: BenchEvent[] = [];
    for (const [id, snapshot] of coveringSnapshots) {
      const wanted = events.filter((e) => e.kind === "comment" && e.coveredBy === id);
      if (!wanted.length) continue;
      const ids = new Set(wanted.map((e) => e.commentId!));
      const read = await readMetadata(
        app,
        snapshot,
        {
          kinds: ["issue-comments"],
          keep: (_kind, line) => ids.has(Number(line.id)),
          project: (_kind, line) => Number(line.id),
        },
        { actor: "bench", purpose: "rpo bench content check" },
      );
      const found = new Set(read.lines["issue-comments"] ?? []);
      missing.push(...wanted.filter((e) => !found.has(e.commentId!)));
    }
    const checked = events.filter((e) => e.kind === "comment" && e.coveredBy).length;
    log(`content check: ${checked - missing.length} of ${checked} covered comments found in their snapshots`);

    // Figures.
    const latency = (e: BenchEvent) => (e.coveredAt! - e.acceptedAt!) / 1000;
    const done = events.filter((e) => e.coveredAt !== undefined);
    const lost = events.filter((e) => e.coveredAt === undefined);
    const all = done.map(latency).sort((a, b) => a - b);
    const of = (kind: BenchEvent["kind"]) =>
      done
        .filter((e) => e.kind === kind)
        .map(latency)
        .sort((a, b) => a - b);
    const tallies: Record<string, number> = {};
    for (const l of logLines.slice(logsFrom, logsTo))
      if (l.event) tallies[l.event] = (tallies[l.event] ?? 0) + 1;
    const measured = deliveries.filter((d) => d.start >= started);
    const delivered = (fn: string) => measured.filter((d) => d.fn === fn);
    const retried = redeliveries(measured);
    const busiest = maxOverlap(delivered("snapshotRepo"));
    const row = (label: string, xs: number[]) => [
      label,
      String(xs.length),
      xs.length ? `${percentile(xs, 50).toFixed(1)} s` : "—",
      xs.length ? `${percentile(xs, 99).toFixed(1)} s` : "—",
      xs.length ? `${xs.at(-1)!.toFixed(1)} s` : "—",
      xs.length ? `${xs[0]!.toFixed(1)} s` : "—",
    ];
    const p99 = percentile(all, 99);
    const goals = [
      goalRow(
        "RPO p50, webhook 202 -> committed snapshot",
        `${percentile(all, 50).toFixed(1)} s`,
        "(none set)",
      ),
      goalRow(
        "RPO p99, webhook 202 -> committed snapshot",
        `${p99.toFixed(1)} s${lost.length ? ` (${lost.length} never covered)` : ""}`,
        "< 60 s",
        lost.length === 0 && p99 < 60,
      ),
      goalRow(
        "covered comments found in the covering snapshot's archives",
        `${checked - missing.length} of ${checked}`,
        "all",
        missing.length === 0,
      ),
    ];
    const confirmed = done.filter((e) => e.coveredHow === "confirmed").length;
    console.log(
      [
        `RPO end to end: ${pushes} pushes and ${comments} issue comments over ${spread} s on ${repos.length} repositories (seed ${seed}),`,
        "delivered by Pub/Sub emulator push subscriptions to the functions (Functions Framework, local ports);",
        backoff === "cloud"
          ? "redeliveries held back to infra/pubsub.tf's retry backoff (10 s, 20 s, …), which the emulator ignores."
          : "redeliveries as the emulator makes them (it ignores the retry policy: about 1 s, not 10 s).",
        "",
        goalTable(
          [">", ">events", ">p50", ">p99", ">max", ">min"],
          [row("all", all), row("pushes", of("push")), row("comments", of("comment"))],
        ),
        "",
        goalTable(
          ["what", "figure", "goal", "met?"],
          goals.map((g) => [g.what, g.figure, g.goal, g.met]),
        ),
        "",
        `Push deliveries during the measured ${measuredSeconds.toFixed(0)} s: snapshotRepo ${delivered("snapshotRepo").length}` +
          ` (${new Set(delivered("snapshotRepo").map((d) => d.messageId)).size} messages, at most ${busiest} at once),` +
          ` verifySnapshot ${delivered("verifySnapshot").length}; ${retried.failed} answered other than 2xx` +
          (retried.delays.length
            ? `, redelivered after ${percentile(retried.delays, 50).toFixed(1)} s (median; ${retried.delays[0]!.toFixed(1)} to ${retried.delays.at(-1)!.toFixed(1)} s)`
            : ""),
        "What the functions logged (event: count):",
        ...Object.entries(tallies)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `  ${k}: ${v}`),
        ...(Object.keys(consoleErrors).length
          ? [
              "What the Functions Framework printed as errors (first line: count):",
              ...Object.entries(consoleErrors).map(([k, v]) => `  ${k}: ${v}`),
            ]
          : []),
        "Notes:",
        `  timed from the webhook's 202 to the first poll of the index (every ${POLL_MS} ms) that finds a committed`,
        "  snapshot covering the change: a push is covered by a snapshot whose main is that commit or a later one;",
        "  a comment by a snapshot with metadata created after the comment was served, or confirmed unchanged by a",
        `  check begun after it (${confirmed} of ${checked} comments were covered by such a confirmation; each`,
        "  comment was then read back from the covering snapshot's archives).",
        "  p99 of 40 samples is their maximum (nearest rank). Everything runs on this one machine: the functions,",
        "  the stand-ins and three emulators share its CPUs (and deep verification runs after each snapshot).",
        `  ${machineLine()}`,
      ].join("\n"),
    );
    if (lost.length)
      console.log(
        `\nNever covered within ${timeout} s:\n${lost.map((e) => `  ${e.kind} on ${e.repo} (status ${e.status})`).join("\n")}`,
      );
    await writeResult(values.out!, {
      bench: "rpo",
      options: { pushes, comments, spread, repos: repoCount, seed, backoff },
      p50: percentile(all, 50),
      p99,
      lost: lost.length,
      contentCheck: { checked, missing: missing.map((e) => e.commentId) },
      events: events.map((e) => ({ ...e, latency: e.coveredAt ? latency(e) : null })),
      logEvents: tallies,
      consoleErrors,
      deliveries: measured,
      redeliveryDelays: retried.delays,
      goals,
    });
    // Goals missed are reported, not failed on; a webhook refused or a comment a snapshot claimed but lacks is broken.
    return lost.some((e) => e.status !== 202) || missing.length > 0 ? 1 : 0;
  } finally {
    for (const r of recorders) {
      r.closeAllConnections();
      r.close();
    }
    await stack?.close().catch(() => undefined);
    setLogWriter(previousWriter);
    console.error = previousConsoleError;
    await services?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** One push delivery, as the recorder in front of a function saw it. */
interface Delivery {
  fn: string;
  messageId: string;
  /** Epoch ms: the emulator pushed it; the recorder passed it on (later when it held it back); the function answered. */
  start: number;
  forwarded: number;
  end: number;
  status: number;
}

/**
 * infra/pubsub.tf's retry policy: a message answered other than 2xx comes back after an
 * exponential backoff from 10 s to 600 s. The emulator ignores a subscription's retry policy (it
 * redelivers within about a second), so with `cloud` the recorder holds a redelivery back until
 * the backoff has passed since the previous answer, as Pub/Sub would.
 */
export function cloudBackoffMs(failedAttempts: number): number {
  return Math.min(600, 10 * 2 ** Math.max(0, failedAttempts - 1)) * 1000;
}

/**
 * Turns the stack's pull subscriptions of snapshot-requests and verify-requests into push
 * subscriptions to the functions, with the deployment's ack deadline and retry policy
 * (infra/pubsub.tf); the push URL ends in the topic's path, as the deployment's does. A recorder in
 * front of each function (a plain pass-through on a local port) notes every delivery: when, which
 * message, and the answer, so redeliveries and their delays can be read afterwards (and, with
 * `cloud`, holds a redelivery back to the retry policy's backoff).
 */
async function pushDelivery(
  stack: CloudStack,
  projectId: string,
  deliveries: Delivery[],
  backoff: "cloud" | "emulator",
): Promise<Server[]> {
  const servers: Server[] = [];
  /** Per message: answers other than 2xx so far, and when the last one was given. */
  const failures = new Map<string, { count: number; at: number }>();
  for (const [topic, fn] of [
    ["snapshot-requests", "snapshotRepo"],
    ["verify-requests", "verifySnapshot"],
  ] as const) {
    const target = stack.url(fn).replace(/\/$/, "");
    const recorder = createServer((req, res) => {
      const start = Date.now();
      void (async () => {
        const body = await text(req);
        let messageId = "?";
        try {
          messageId = String((JSON.parse(body) as { message?: { messageId?: string } }).message?.messageId);
        } catch {
          /* not JSON: forwarded as it is */
        }
        const failed = failures.get(`${fn}:${messageId}`);
        if (backoff === "cloud" && failed) {
          const wait = failed.at + cloudBackoffMs(failed.count) - Date.now();
          if (wait > 0) await sleep(wait);
        }
        const forwardedAt = Date.now();
        let status = 502;
        let answer = "";
        try {
          const forwarded = await fetch(`${target}${req.url ?? "/"}`, {
            method: req.method ?? "POST",
            headers: { "content-type": req.headers["content-type"] ?? "application/json" },
            body,
          });
          status = forwarded.status;
          answer = await forwarded.text();
        } catch (err) {
          answer = (err as Error).message;
        }
        const end = Date.now();
        if (status < 200 || status >= 300)
          failures.set(`${fn}:${messageId}`, { count: (failed?.count ?? 0) + 1, at: end });
        deliveries.push({ fn, messageId, start, forwarded: forwardedAt, end, status });
        res.writeHead(status, { "content-type": "text/plain" }).end(answer);
      })();
    });
    recorder.listen(0, "127.0.0.1");
    await once(recorder, "listening");
    servers.push(recorder);
    const port = (recorder.address() as AddressInfo).port;
    const subscription = stack.pubsub.subscription(stack.subscription[topic]);
    await subscription.setMetadata({
      ackDeadlineSeconds: 600,
      retryPolicy: { minimumBackoff: { seconds: 10 }, maximumBackoff: { seconds: 600 } },
    });
    await subscription.modifyPushConfig({
      pushEndpoint: `http://127.0.0.1:${port}/projects/${projectId}/topics/${stack.topic[topic]}`,
    });
  }
  return servers;
}

/** The most deliveries in progress at one moment. */
function maxOverlap(deliveries: Delivery[]): number {
  const edges = deliveries.flatMap((d) => [
    [d.start, 1],
    [d.end, -1],
  ]);
  edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let most = 0;
  for (const [, step] of edges) most = Math.max(most, (now += step!));
  return most;
}

/** Redeliveries: for each answer other than 2xx, the wait until the same message reached the function again. */
function redeliveries(deliveries: Delivery[]): { failed: number; delays: number[] } {
  const sorted = [...deliveries].sort((a, b) => a.start - b.start);
  const delays: number[] = [];
  let failed = 0;
  for (const [i, d] of sorted.entries()) {
    if (d.status >= 200 && d.status < 300) continue;
    failed++;
    const again = sorted.slice(i + 1).find((x) => x.fn === d.fn && x.messageId === d.messageId);
    if (again) delays.push((again.forwarded - d.end) / 1000);
  }
  return { failed, delays: delays.sort((a, b) => a - b) };
}

const IDENTITY = {
  GIT_AUTHOR_NAME: "Bench",
  GIT_AUTHOR_EMAIL: "bench@example.invalid",
  GIT_COMMITTER_NAME: "Bench",
  GIT_COMMITTER_EMAIL: "bench@example.invalid",
};

/** git against the git server with an installation token in a header (never in argv or a URL). */
async function gitHttp(stack: CloudStack, repo: string, args: string[], cwd: string): Promise<string> {
  const app = await stack.app();
  const remote = await app.sources.gitRemote({ name: repo, url: "" });
  return git(args, {
    cwd,
    env: {
      ...IDENTITY,
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.extraHeader",
      GIT_CONFIG_VALUE_0: `Authorization: ${remote.headers!.Authorization}`,
    },
  });
}

async function workClone(stack: CloudStack, repo: string, work: string): Promise<string> {
  const dir = join(work, repo.replace("/", "--"));
  await gitHttp(stack, repo, ["clone", "--quiet", stack.git.remoteUrl(repo), dir], work);
  return dir;
}

async function headOf(clone: string): Promise<string> {
  return (await git(["rev-parse", "HEAD"], { cwd: clone })).trim();
}

async function commitAndPush(stack: CloudStack, repo: string, clone: string, file: string): Promise<string> {
  await writeFile(join(clone, file), `${file}\n${new Date().toISOString()}\n`);
  await git(["add", file], { cwd: clone, env: IDENTITY });
  await git(["commit", "--quiet", "-m", `Add ${file}`], { cwd: clone, env: IDENTITY });
  await gitHttp(stack, repo, ["push", "--quiet", "origin", "HEAD:refs/heads/main"], clone);
  return headOf(clone);
}

/** A new comment on issue 1, as GitHub records it: the comment, and the issue's updated_at and count. */
function addComment(stack: CloudStack, repo: string, id: number): void {
  const meta = stack.github.metadata(repo);
  const when = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const issue = meta.issues.find((i) => i.number === 1)!;
  issue.updated_at = when;
  issue.comments = Number(issue.comments ?? 0) + 1;
  meta.comments.push({
    url: `https://api.github.com/repos/${repo}/issues/comments/${id}`,
    html_url: "x",
    issue_url: `https://api.github.com/repos/${repo}/issues/1`,
    id,
    node_id: `IC_${id}`,
    user: { login: "dave", id: 4 },
    body: `Comment ${id}`,
    author_association: "MEMBER",
    created_at: when,
    updated_at: when,
  });
}

export { main };
