// `npm run bench -- metadata`: a snapshot with the GitHub metadata of a repository with 5,000 issues
// and 20,000 comments (test/helpers/github-metadata-fixture.ts's fillMetadata), through snapshotRepo
// with the GitHub metadata source on the stand-in: API calls against the page minimum, wall time and
// peak RSS, against a 10x smaller repository in the same run (peak RSS should not grow with it);
// then the follow-up snapshot after one new comment, and a quiet one (nothing changed).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createDemoRepo } from "../functions/cli/demo-repo.js";
import { at, fillMetadata } from "../test/helpers/github-metadata-fixture.js";
import type { RepoMetadata } from "../test/helpers/github-standin-metadata.js";
import { APP_ID, ORG, startGitHub, tally, type BenchGitHub, type RequestTally } from "./github.js";
import { ROOT, timed } from "./measure.js";
import type { MetadataWorkerRequest, MetadataWorkerResult } from "./metadata-worker.js";
import { benchLog, goalRow, goalTable, machineLine, writeResult, type GoalRow } from "./summary.js";

const USAGE = `usage: npm run bench -- metadata [--issues 5000] [--comments 20000] [--baseline-issues 500] [--baseline-comments 2000]
         [--skip-live-heap] [--max-old-space MiB] [--cpu-prof DIR] [--out FILE]
  --issues, --comments                    the large repository (default 5000 issues, 20000 comments)
  --baseline-issues, --baseline-comments  the small one, benched first in the same run (default 500, 2000)
  --skip-live-heap                        leave out the second full snapshot that samples the live heap
  --max-old-space MiB                     run each snapshot's node with --max-old-space-size=MiB
  --cpu-prof DIR                          write each snapshot's CPU profile (.cpuprofile) into DIR
  --out                                   JSON figures (default bench/results/metadata.json)`;

const log = benchLog("metadata");

interface Step {
  step: "full" | "one new comment" | "nothing changed" | "full, live heap sampled";
  worker: MetadataWorkerResult;
  /** Wall time of the worker process (node + tsx start-up included). */
  wallSeconds: number;
  calls: RequestTally;
}

interface SizeRun {
  issues: number;
  comments: number;
  minimum: PageMinimum;
  steps: Step[];
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      issues: { type: "string", default: "5000" },
      comments: { type: "string", default: "20000" },
      "baseline-issues": { type: "string", default: "500" },
      "baseline-comments": { type: "string", default: "2000" },
      "max-old-space": { type: "string" },
      "cpu-prof": { type: "string" },
      "skip-live-heap": { type: "boolean" },
      out: { type: "string", default: "bench/results/metadata.json" },
      help: { type: "boolean", short: "h" },
    },
  });
  const sizes = [
    { issues: Number(values["baseline-issues"]), comments: Number(values["baseline-comments"]) },
    { issues: Number(values.issues), comments: Number(values.comments) },
  ];
  if (values.help || sizes.some((s) => !(s.issues >= 10) || !(s.comments >= 0))) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const work = await mkdtemp(join(tmpdir(), "infinity-bench-metadata-"));
  const github = await startGitHub();
  try {
    const source = join(work, "source.git");
    await createDemoRepo(source);
    const runs: SizeRun[] = [];
    const heap = values["max-old-space"] ? [`--max-old-space-size=${Number(values["max-old-space"])}`] : [];
    if (values["cpu-prof"]) heap.push("--cpu-prof", `--cpu-prof-dir=${values["cpu-prof"]}`);
    for (const size of sizes)
      runs.push(await benchSize(github, work, source, size, heap, !values["skip-live-heap"]));
    const [small, large] = runs as [SizeRun, SizeRun];
    console.log(report(small, large));
    const rows = goals(small, large);
    console.log(
      `\n${goalTable(
        ["what", "figure", "goal", "met?"],
        rows.map((r) => [r.what, r.figure, r.goal, r.met]),
      )}`,
    );
    console.log(`\n  ${machineLine()}`);
    await writeResult(values.out!, { bench: "metadata", runs, goals: rows });
    return 0;
  } finally {
    await github.standin.close();
    await rm(work, { recursive: true, force: true });
  }
}

async function benchSize(
  github: BenchGitHub,
  work: string,
  source: string,
  size: { issues: number; comments: number },
  nodeFlags: string[],
  liveHeap: boolean,
): Promise<SizeRun> {
  const repo = `${ORG}/tracker-${size.issues}`;
  const meta = github.standin.addRepo(repo);
  fillMetadata(meta, { repo, issues: size.issues, comments: size.comments });
  const dataDir = await mkdtemp(join(work, "data-"));
  const run: SizeRun = { ...size, minimum: pageMinimum(meta), steps: [] };
  const step = async (name: Step["step"], dir = dataDir) => {
    const from = github.standin.requests.length;
    const sampled = name === "full, live heap sampled";
    const request: MetadataWorkerRequest = {
      dataDir: dir,
      repo,
      source,
      apiUrl: github.standin.url,
      appId: APP_ID,
      ...(sampled ? { liveHeapEveryMs: 1000 } : {}),
    };
    const proc = await timed(
      process.execPath,
      [
        ...nodeFlags,
        ...(sampled ? ["--expose-gc"] : []),
        "--import",
        "tsx",
        join(ROOT, "bench", "metadata-worker.ts"),
        JSON.stringify(request),
      ],
      { env: { ...process.env, BENCH_APP_PRIVATE_KEY: github.privateKey } },
    );
    const worker = JSON.parse(proc.stdout.trim().split("\n").at(-1) ?? "") as MetadataWorkerResult;
    const calls = tally(github.standin.requests, from);
    run.steps.push({ step: name, worker, wallSeconds: proc.seconds, calls });
    log(
      `${size.issues} issues, ${name}: ${worker.outcome} (${worker.kind}) in ${worker.seconds.toFixed(2)} s, ` +
        `${calls.rateLimited} rate-limited calls + ${calls.notModified} 304s, peak RSS ${(worker.maxRssKiB / 1024).toFixed(0)} MiB`,
    );
    return worker;
  };
  const full = await step("full");
  if (full.outcome !== "created" || full.items["issue-comments"] !== size.comments)
    throw new Error(
      `the full snapshot holds ${full.items["issue-comments"]} comments, expected ${size.comments}`,
    );
  addComment(meta, repo);
  const next = await step("one new comment");
  if (next.outcome !== "created" || next.kind !== "incremental" || !(next.items["issue-comments"]! >= 1))
    throw new Error(`the follow-up snapshot did not store the new comment: ${JSON.stringify(next)}`);
  const quiet = await step("nothing changed");
  if (quiet.outcome !== "unchanged")
    throw new Error(`a quiet repository made a new snapshot: ${JSON.stringify(quiet)}`);
  // The same full snapshot again (a fresh data dir), a full GC every second: how much is live.
  if (liveHeap) await step("full, live heap sampled", await mkdtemp(join(work, "data-")));
  return run;
}

/** One new comment on issue 1, as GitHub records it: the comment, and the issue's updated_at and count. */
function addComment(meta: RepoMetadata, repo: string): void {
  const when = at(1_000_000);
  const issue = meta.issues.find((i) => i.number === 1)!;
  issue.updated_at = when;
  issue.comments = Number(issue.comments ?? 0) + 1;
  meta.comments.push({
    url: `https://api.github.com/repos/${repo}/issues/comments/999999`,
    html_url: "x",
    issue_url: `https://api.github.com/repos/${repo}/issues/1`,
    id: 999_999,
    node_id: "IC_new",
    user: { login: "dave", id: 4 },
    body: "A comment after the backup",
    author_association: "MEMBER",
    created_at: when,
    updated_at: when,
  });
}

interface PageMinimum {
  /** Pages of every list (100 a page; Actions variables 30) and the per-item details (protections, rulesets, assets). */
  lists: number;
  /**
   * Timelines and reviews through GraphQL, 100 issues or pull requests a query (a longer list's
   * further pages one alias each, 100 a query too).
   */
  perItem: number;
  total: number;
}

/** The fewest requests any client needs to read everything the stand-in holds for this repository. */
function pageMinimum(meta: RepoMetadata): PageMinimum {
  const pages = (n: number, per = 100) => Math.max(1, Math.ceil(n / per));
  const assets = meta.releases.reduce((n, r) => n + ((r.assets as unknown[]) ?? []).length, 0);
  const protections = Object.keys(meta.protections).length;
  const lists =
    1 + // the repository
    pages(protections) +
    protections +
    pages(meta.rulesets.length) +
    meta.rulesets.length +
    1 + // autolinks (not paged)
    pages(meta.labels.length) +
    pages(meta.milestones.length) +
    pages(meta.issues.length) +
    pages(meta.comments.length) +
    pages(meta.pulls.length) +
    pages(meta.reviewComments.length) +
    pages(meta.releases.length) +
    assets +
    pages(meta.collaborators.length) +
    pages(meta.teams.length) +
    pages(meta.hooks.length) +
    pages(meta.keys.length) +
    pages(meta.variables.length, 30) +
    pages(meta.secrets.length) +
    pages(meta.environments.length);
  const furtherTimelinePages = meta.issues.reduce(
    (n, i) => n + pages(meta.timelines[Number(i.number)]?.length ?? 0) - 1,
    0,
  );
  const furtherReviewPages = meta.pulls.reduce(
    (n, p) => n + pages(meta.reviews[Number(p.number)]?.length ?? 0) - 1,
    0,
  );
  const perItem =
    pages(meta.issues.length) +
    Math.ceil(furtherTimelinePages / 100) +
    pages(meta.pulls.length) +
    Math.ceil(furtherReviewPages / 100);
  return { lists, perItem, total: lists + perItem };
}

const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

function report(small: SizeRun, large: SizeRun): string {
  const rows: string[][] = [];
  for (const run of [small, large])
    for (const s of run.steps)
      rows.push([
        `${run.issues} issues / ${run.comments} comments`,
        s.step,
        `${s.worker.outcome} (${s.worker.kind})`,
        `${s.worker.seconds.toFixed(2)} s`,
        s.worker.cpuSeconds.toFixed(2),
        String(s.calls.rateLimited),
        String(s.calls.notModified),
        String(s.calls.app),
        s.step === "full" ? String(run.minimum.total) : "—",
        s.step === "full" ? (s.calls.rateLimited / run.minimum.total).toFixed(3) : "—",
        mib(s.worker.maxRssKiB),
        mib(s.worker.bootRssKiB),
        s.worker.liveHeapPeakKiB === undefined ? "—" : mib(s.worker.liveHeapPeakKiB),
      ]);
  const table = goalTable(
    [
      "repository",
      "snapshot",
      "outcome",
      ">time",
      ">CPU s",
      ">rate-limited calls",
      ">304s",
      ">app-JWT calls",
      ">page minimum",
      ">calls/minimum",
      ">peak RSS",
      ">RSS at start",
      ">live heap peak",
    ],
    rows,
  );
  const fullOf = (r: SizeRun) => r.steps[0]!;
  const routes = Object.entries(fullOf(large).calls.byRoute)
    .sort((a, b) => b[1] - a[1])
    .map(([route, n]) => `    ${String(n).padStart(6)}  ${route}`);
  return [
    `Metadata snapshots through snapshotRepo (local app) and the GitHub metadata source on the stand-in.`,
    "",
    table,
    "",
    `Page minimum of the ${large.issues}-issue repository: ${large.minimum.lists} list pages and details + ${large.minimum.perItem} per-item pages`,
    "(timelines and reviews through GraphQL, 100 issues or pull requests a query).",
    `Peak RSS, full snapshot: ${mib(fullOf(small).worker.maxRssKiB)} (${small.issues} issues) -> ${mib(fullOf(large).worker.maxRssKiB)} (${large.issues} issues), ratio ${(fullOf(large).worker.maxRssKiB / fullOf(small).worker.maxRssKiB).toFixed(2)}; heap used at the peak ${mib(fullOf(small).worker.heapAtPeakKiB)} -> ${mib(fullOf(large).worker.heapAtPeakKiB)}; external (Buffers) at the peak ${mib(fullOf(small).worker.externalAtPeakKiB ?? 0)} -> ${mib(fullOf(large).worker.externalAtPeakKiB ?? 0)}, largest ${mib(fullOf(small).worker.externalPeakKiB ?? 0)} -> ${mib(fullOf(large).worker.externalPeakKiB ?? 0)}.`,
    ...liveHeapLine(small, large),
    `Full snapshot time: ${fullOf(small).worker.seconds.toFixed(1)} s -> ${fullOf(large).worker.seconds.toFixed(1)} s (ratio ${(fullOf(large).worker.seconds / fullOf(small).worker.seconds).toFixed(2)} for ${(large.minimum.total / small.minimum.total).toFixed(1)}x the pages).`,
    `Requests of the ${large.issues}-issue full snapshot by route:`,
    ...routes,
    "Notes:",
    "  time = snapshotRepo inside its own node process (start-up excluded); CPU s = that process's user + system",
    "  CPU seconds in that time (git children not included: steadier than wall time on a busy machine);",
    "  peak RSS = that process's maxRSS.",
    "  rate-limited calls = installation requests answered other than 304 (what GitHub counts); 304s are free;",
    "  app-JWT calls = installation lookup and token minting (the App's budget). The stand-in runs in the",
    "  bench's own process, so its serving time is in the wall time (it pages from in-memory arrays).",
    "  live heap peak = the largest heap used right after a forced full GC (once a second, --expose-gc), in a",
    "  separate run of the same full snapshot: what is really held, apart from garbage not yet collected.",
  ].join("\n");
}

const liveOf = (r: SizeRun) =>
  r.steps.find((s) => s.step === "full, live heap sampled")?.worker.liveHeapPeakKiB;

function liveHeapLine(small: SizeRun, large: SizeRun): string[] {
  const [a, b] = [liveOf(small), liveOf(large)];
  if (a === undefined || b === undefined) return [];
  return [
    `Live heap (after a full GC), full snapshot: ${mib(a)} (${small.issues} issues) -> ${mib(b)} (${large.issues} issues), ratio ${(b / a).toFixed(2)}.`,
  ];
}

function goals(small: SizeRun, large: SizeRun): GoalRow[] {
  const [full, next, quiet] = large.steps as [Step, Step, Step];
  const rss = full.worker.maxRssKiB / small.steps[0]!.worker.maxRssKiB;
  return [
    goalRow(
      `full snapshot, ${large.issues} issues / ${large.comments} comments: API calls`,
      `${full.calls.rateLimited} (page minimum ${large.minimum.total}, ratio ${(full.calls.rateLimited / large.minimum.total).toFixed(3)})`,
      "near the page minimum",
      full.calls.rateLimited <= large.minimum.total * 1.05,
    ),
    goalRow(`full snapshot: wall time`, `${full.worker.seconds.toFixed(1)} s`, "(none set)"),
    goalRow(
      `full snapshot: peak RSS vs ${small.issues} issues`,
      `${mib(full.worker.maxRssKiB)} vs ${mib(small.steps[0]!.worker.maxRssKiB)} (x${rss.toFixed(2)})`,
      "flat",
      rss <= 1.25,
    ),
    ...(liveOf(small) !== undefined && liveOf(large) !== undefined
      ? [
          goalRow(
            `full snapshot: live heap (after GC) vs ${small.issues} issues`,
            `${mib(liveOf(large)!)} vs ${mib(liveOf(small)!)} (x${(liveOf(large)! / liveOf(small)!).toFixed(2)})`,
            "flat",
            liveOf(large)! / liveOf(small)! <= 1.25,
          ),
        ]
      : []),
    goalRow(
      "follow-up after one new comment: rate-limited calls",
      `${next.calls.rateLimited} (+ ${next.calls.notModified} 304s)`,
      "<= 5",
      next.calls.rateLimited <= 5,
    ),
    goalRow(
      "follow-up after one new comment: time",
      `${next.worker.seconds.toFixed(2)} s`,
      "< 2 s",
      next.worker.seconds < 2,
    ),
    goalRow(
      "nothing changed: rate-limited calls",
      `${quiet.calls.rateLimited} (+ ${quiet.calls.notModified} 304s), ${quiet.worker.seconds.toFixed(2)} s`,
      "(none set)",
    ),
  ];
}

export { main };
