// Named health checks, each with a status (ok / warning / failed) and a reason: the store is
// reachable and writable, the key wraps and unwraps, the index answers, GitHub takes the App's
// token and has rate budget left, there is room (budget and disk), and the per-repository problems
// counted (stale repositories, failed verifications). Each check gets a time limit so one hung
// dependency cannot hang the report; one that throws is failed with the scrubbed reason. The
// wiring decides which checks a workload can run by the ports it passes.
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { describeError } from "./errors.js";
import { capacityFindings, type CapacityRules } from "./capacity.js";
import { isStale, type HealthReport } from "./health.js";
import { HEALTH_PROBE_PREFIX } from "./object-keys.js";
import type { BlobStore, DeadLetters, KeyWrapper, RateLimit, SnapshotIndex } from "./ports.js";

export type { RateLimit };
import { scrub } from "./redact.js";

export type CheckStatus = "ok" | "warning" | "failed";

export type CheckName =
  "storage" | "key" | "index" | "github" | "capacity" | "dead-letters" | "stale" | "verification";

/** What a person is told about, from a check that ran to its end: a subject and why. */
export interface CheckIncident {
  /** The capacity rule ("capacity.budgetBytes") or the dead-letter subscription. */
  subject: string;
  why: string;
}

export interface HealthCheck {
  name: CheckName;
  status: CheckStatus;
  reason: string;
  /** How long the check took, in milliseconds. */
  ms: number;
  /**
   * capacity and dead-letters: every incident the check found, present only when the check ran to
   * its end (so an empty list means each of them cleared, and a check that threw clears none).
   */
  incidents?: CheckIncident[];
}

/** Free space of the disk holding the data folder. */
export interface DiskSpace {
  freeBytes: number;
  totalBytes: number;
}

export interface CheckPorts {
  index: Pick<SnapshotIndex, "get">;
  /** The store to probe (put, stat, read back, delete); absent where the workload may not write it. */
  store?: BlobStore;
  /** The store is opened for reading only: the check reads (lists the probe prefix), writes nothing. */
  storeReadOnly?: boolean;
  /** The key wrapper to probe; absent where the workload has no keys wired. */
  keys?: KeyWrapper;
  /** The GitHub App's rate limit, read with its installation token; absent with no GitHub source. */
  rateLimit?: () => Promise<RateLimit>;
  /** Free space of the data folder's disk (local mode). */
  diskSpace?: () => Promise<DiskSpace>;
  /** The dead-letter subscriptions (the cloud's backupHealth). */
  deadLetters?: DeadLetters;
  /** Bytes prunes freed within the capacity growth window (from the audit trail). */
  freedBytes?: () => Promise<number>;
}

export interface CheckOptions {
  /** Stored bytes above 80 % of this warn, at 100 % fail. */
  budgetBytes?: number;
  /** The other capacity rules (config capacity:); budgetBytes above wins over theirs. */
  capacity?: CapacityRules;
  /** Each check's time limit; 10 s by default. */
  timeoutMs?: number;
}

export const CHECK_TIMEOUT_MS = 10_000;
export { BUDGET_WARNING } from "./capacity.js";
export const RATE_LIMIT_WARNING = 0.1;
export const DISK_WARNING = 0.1;

const PROBE_BYTES = 64;
/** Dead letters are counted up to this many per subscription. */
export const DEAD_LETTER_COUNT_LIMIT = 100;

type Verdict = { status: CheckStatus; reason: string; incidents?: CheckIncident[] };

/**
 * Runs every check the ports allow, at once, each under its time limit. `report` may still be in the
 * making: the probes of the ports (storage, key, index, GitHub, dead letters) start at once, beside
 * it, and the checks that read it (capacity, stale, verification) when it is there; their time limits
 * start then.
 */
export async function runHealthChecks(
  ports: CheckPorts,
  reported: HealthReport | Promise<HealthReport>,
  options: CheckOptions = {},
): Promise<HealthCheck[]> {
  const timeoutMs = options.timeoutMs ?? CHECK_TIMEOUT_MS;
  const report = Promise.resolve(reported);
  // A probe runs now; a check of the report once it is made.
  const checks: [CheckName, () => Promise<Verdict>, "report"?][] = [];
  if (ports.store) {
    const store = ports.store;
    checks.push(["storage", () => (ports.storeReadOnly ? readOnlyStorageCheck(store) : storageCheck(store))]);
  }
  if (ports.keys) {
    const keys = ports.keys;
    checks.push(["key", () => keyCheck(keys)]);
  }
  checks.push(["index", () => indexCheck(ports.index)]);
  if (ports.rateLimit) {
    const read = ports.rateLimit;
    checks.push(["github", () => githubCheck(read)]);
  }
  const rules: CapacityRules = {
    growthWindowDays: 7,
    warnDays: 30,
    ...options.capacity,
    ...(options.budgetBytes !== undefined ? { budgetBytes: options.budgetBytes } : {}),
  };
  checks.push([
    "capacity",
    async () => capacityCheck(await report, rules, ports.diskSpace, ports.freedBytes),
    "report",
  ]);
  if (ports.deadLetters) {
    const deadLetters = ports.deadLetters;
    checks.push(["dead-letters", () => deadLetterCheck(deadLetters)]);
  }
  checks.push(["stale", async () => staleCheck(await report), "report"]);
  checks.push(["verification", async () => verificationCheck(await report), "report"]);
  return Promise.all(
    checks.map(([name, run, after]) =>
      after === undefined ? timed(name, run, timeoutMs) : report.then(() => timed(name, run, timeoutMs)),
    ),
  );
}

/** One check under its time limit; a throw or a timeout is `failed` with a scrubbed reason. */
export async function timed(
  name: CheckName,
  run: () => Promise<Verdict>,
  timeoutMs: number,
): Promise<HealthCheck> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<Verdict>((resolve) => {
    timer = setTimeout(
      () => resolve({ status: "failed", reason: `no answer within ${timeoutMs / 1000} s` }),
      timeoutMs,
    );
    timer.unref?.();
  });
  let verdict: Verdict;
  try {
    verdict = await Promise.race([run(), limit]);
  } catch (err) {
    verdict = { status: "failed", reason: describeError(err) };
  } finally {
    clearTimeout(timer);
  }
  return {
    name,
    status: verdict.status,
    reason: scrub(verdict.reason),
    ms: Date.now() - started,
    ...(verdict.incidents ? { incidents: verdict.incidents.map((i) => ({ ...i, why: scrub(i.why) })) } : {}),
  };
}

/** Put, stat, read back and delete a small probe under the reserved prefix; the probe is always deleted. */
export async function storageCheck(store: BlobStore): Promise<Verdict> {
  const key = `${HEALTH_PROBE_PREFIX}probe-${randomBytes(8).toString("hex")}`;
  const body = randomBytes(PROBE_BYTES);
  let step = "write";
  try {
    await store.put(key, Readable.from([body]));
    step = "stat";
    const info = await store.stat(key);
    if (!info) return { status: "failed", reason: `the probe ${key} was written but is not there` };
    if (info.size !== body.length)
      return { status: "failed", reason: `the probe reads ${info.size} bytes, ${body.length} were written` };
    step = "read";
    const chunks: Buffer[] = [];
    for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer);
    if (!Buffer.concat(chunks).equals(body))
      return { status: "failed", reason: "the probe read back differs from what was written" };
    step = "delete";
    await store.delete(key);
    step = "done";
    return { status: "ok", reason: "a probe object was written, read back and deleted" };
  } catch (err) {
    return { status: "failed", reason: `could not ${step} a probe object: ${describeError(err)}` };
  } finally {
    // Deleted even when a step failed (deleting a missing key is not an error).
    if (step !== "done" && step !== "write") await store.delete(key).catch(() => undefined);
  }
}

/** A store opened for reading only: a list answers; a warning says writes were not tried. */
export async function readOnlyStorageCheck(store: BlobStore): Promise<Verdict> {
  for await (const object of store.list(HEALTH_PROBE_PREFIX)) void object;
  return { status: "warning", reason: "opened read-only: the store answers reads, writes were not tried" };
}

/** Wrap and unwrap a random 32-byte key and compare. */
export async function keyCheck(keys: KeyWrapper): Promise<Verdict> {
  const dataKey = randomBytes(32);
  const wrapped = await keys.wrap(dataKey);
  const back = await keys.unwrap(wrapped);
  if (!Buffer.isBuffer(back) || !back.equals(dataKey))
    return { status: "failed", reason: `key ${wrapped.keyRef} unwrapped other bytes than it wrapped` };
  return { status: "ok", reason: `key ${wrapped.keyRef} wraps and unwraps` };
}

/** A repository name and snapshot id no backup has: the index probe reads this one record. */
const PROBE = { repo: "infinity-backup/health-probe", id: "health-probe" } as const;

/**
 * One read of one record (absent, so nothing is decoded): the index answers, and how fast. Not a
 * listing of every repository, which at thousands costs as much as the report it runs beside.
 */
export async function indexCheck(index: Pick<SnapshotIndex, "get">): Promise<Verdict> {
  const started = Date.now();
  await index.get(PROBE.repo, PROBE.id);
  return { status: "ok", reason: `answered a one-record read in ${Date.now() - started} ms` };
}

export async function githubCheck(read: () => Promise<RateLimit>): Promise<Verdict> {
  const rate = await read();
  const share = rate.limit > 0 ? rate.remaining / rate.limit : 0;
  const left = `${rate.remaining} of ${rate.limit} REST requests left${rate.resetAt ? ` until ${rate.resetAt}` : ""}`;
  if (share < RATE_LIMIT_WARNING) return { status: "warning", reason: `the App's token works; only ${left}` };
  return { status: "ok", reason: `the App's token works; ${left}` };
}

export async function capacityCheck(
  report: HealthReport,
  rules: CapacityRules,
  diskSpace: (() => Promise<DiskSpace>) | undefined,
  freedBytes?: () => Promise<number>,
): Promise<Verdict> {
  const stored = report.repos.reduce((sum, r) => sum + r.storedBytes, 0);
  const findings = capacityFindings(
    report,
    rules,
    rules.growthBytesPerDay ? await (freedBytes?.() ?? 0) : 0,
    size,
  );
  const verdicts: Verdict[] = findings.map((f) => ({ status: f.status, reason: f.reason }));
  if (rules.budgetBytes === undefined)
    verdicts.unshift({ status: "ok", reason: `${size(stored)} stored, no budget set` });
  const incidents = findings
    .filter((f) => f.status !== "ok")
    .map((f) => ({ subject: f.rule, why: f.reason }));
  if (diskSpace) {
    const disk = await diskSpace();
    const largest = Math.max(0, ...report.snapshots.flat().map((s) => s.size));
    const low = disk.freeBytes < disk.totalBytes * DISK_WARNING || disk.freeBytes < 2 * largest;
    verdicts.push({
      status: low ? "warning" : "ok",
      reason:
        `${size(disk.freeBytes)} free on the data folder's disk` +
        (low
          ? ` (under 10 % of ${size(disk.totalBytes)} or under twice the largest archive, ${size(largest)})`
          : ""),
    });
  }
  const status = verdicts.some((v) => v.status === "failed")
    ? "failed"
    : verdicts.some((v) => v.status === "warning")
      ? "warning"
      : "ok";
  return { status, reason: verdicts.map((v) => v.reason).join("; "), incidents };
}

/** Requests that failed every delivery and wait in a dead-letter subscription: failed, per subscription. */
export async function deadLetterCheck(deadLetters: DeadLetters): Promise<Verdict> {
  const counts = await deadLetters.count(DEAD_LETTER_COUNT_LIMIT);
  const waiting = counts.filter((c) => c.messages > 0);
  const many = (n: number) => (n >= DEAD_LETTER_COUNT_LIMIT ? `${n} or more` : String(n));
  const incidents = waiting.map((c) => ({
    subject: c.subscription,
    why: `${many(c.messages)} request${c.messages === 1 ? "" : "s"} failed every delivery attempt and wait in ${c.subscription}`,
  }));
  if (!waiting.length)
    return { status: "ok", reason: `${counts.length} dead-letter subscriptions empty`, incidents };
  return { status: "failed", reason: incidents.map((i) => i.why).join("; "), incidents };
}

export function staleCheck(report: HealthReport): Verdict {
  const stale = report.repos.filter((r) => r.problems.some(isStale)).map((r) => r.repo);
  if (!stale.length)
    return { status: "ok", reason: `all ${report.repos.length} repositories within the promise` };
  return { status: "failed", reason: `${stale.length} stale: ${names(stale)}` };
}

export function verificationCheck(report: HealthReport): Verdict {
  const failed = report.repos
    .filter((r) => r.problems.some((p) => p.kind === "verification-failed"))
    .map((r) => r.repo);
  const unverified = report.repos.filter((r) => r.problems.some((p) => p.kind === "unverified")).length;
  if (failed.length)
    return { status: "failed", reason: `${failed.length} failed verification: ${names(failed)}` };
  if (unverified) return { status: "warning", reason: `${unverified} latest snapshots not verified yet` };
  return { status: "ok", reason: "every latest snapshot verified" };
}

/** Bytes for a person: "3.8 KiB", "62.7 GiB". */
export function size(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i ? n.toFixed(1) : String(n)} ${units[i]}`;
}

function names(repos: string[]): string {
  return repos.length > 5 ? `${repos.slice(0, 5).join(", ")} and ${repos.length - 5} more` : repos.join(", ");
}

/** The worst status of the checks: what `ok` of the whole report follows. */
export function worstStatus(checks: readonly HealthCheck[]): CheckStatus {
  if (checks.some((c) => c.status === "failed")) return "failed";
  if (checks.some((c) => c.status === "warning")) return "warning";
  return "ok";
}

/** The report with its checks: not ok when a check failed (a warning is said, not failed). */
export function withChecks(report: HealthReport, checks: HealthCheck[]): HealthReport {
  return { ...report, checks, ok: report.ok && !checks.some((c) => c.status === "failed") };
}
