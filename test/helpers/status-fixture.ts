// Many repositories in an index, for the status page at scale (test/browser/status-page-scale.test.ts
// and bench/status-page.ts): index records only (no archives), in a fixed mix of states, so what
// the page must show is known from the plan. Repository i of n:
//   i % 10 in 0..5: healthy (a full and an incremental snapshot, verified ok, an hour old);
//   6: stale (one verified snapshot, 3 days old); 7: failing (the latest's verification failed);
//   8: unverified (one fresh snapshot, never verified); 9: stale, never backed up (no snapshot).
import type { Snapshot } from "../../functions/core/model.js";
import type { RepoState } from "../../functions/core/status-view.js";
import type { SnapshotIndex } from "../../functions/core/ports.js";
import { snapshot } from "../contract/snapshot-index.js";

export interface PlannedRepo {
  repo: string;
  state: RepoState;
  snapshots: number;
  storedBytes: number;
}

export const scaleRepoName = (i: number) =>
  `${i % 2 ? "umbrella" : "acme"}/repo-${String(i).padStart(5, "0")}`;

/**
 * Ages in days of the older snapshots a repository keeps under the default retention (daily for 30
 * days, weekly to 90, monthly to a year, yearly to 7), the `history` newest of them: the bench's
 * realistic depth (about 55 in all), where the tests keep the plan's one or two.
 */
export function historyAges(history: number): number[] {
  const ages = [
    ...Array.from({ length: 29 }, (_, d) => d + 2),
    ...Array.from({ length: 9 }, (_, w) => 35 + w * 7),
    ...Array.from({ length: 9 }, (_, m) => 120 + m * 30),
    ...Array.from({ length: 6 }, (_, y) => 365 * (y + 1) + 30),
  ];
  return ages.slice(0, history);
}

export function statusPlan(n: number, history = 0): PlannedRepo[] {
  const older = historyAges(history).length;
  return Array.from({ length: n }, (_, i) => {
    const kind = i % 10;
    const state: RepoState =
      kind <= 5 ? "healthy" : kind === 7 ? "failing" : kind === 8 ? "unverified" : "stale";
    const snapshots = kind <= 5 ? 2 + older : kind === 9 ? 0 : 1 + older;
    return { repo: scaleRepoName(i), state, snapshots, storedBytes: snapshots ? sizeOf(i) * snapshots : 0 };
  });
}

/** Archive sizes differ per repository so that sorting or summing mistakes show. */
const sizeOf = (i: number) => 10_000 + ((i * 7919) % 5_000_000);

/**
 * Writes the plan's snapshots into `index`, times counted back from `now`. `from`: only repositories
 * from that one on (the first ones are in already: a larger plan starts with a smaller one's
 * repositories); `lanes`: repositories written at once (a remote index: one round trip per commit).
 */
export async function seedStatusIndex(
  index: SnapshotIndex,
  n: number,
  now: Date,
  options: { from?: number; lanes?: number; history?: number } = {},
): Promise<PlannedRepo[]> {
  const plan = statusPlan(n, options.history);
  const older = historyAges(options.history ?? 0);
  const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
  const id = (s: number, i: number) =>
    `${ago(s).replace(/[-:.]/g, "").slice(0, 18)}Z-${i.toString(16).padStart(8, "0")}`;
  let next = options.from ?? 0;
  const lane = async () => {
    for (let i = next++; i < n; i = next++) await seedRepo(i, plan[i]!);
  };
  const seedRepo = async (i: number, p: PlannedRepo) => {
    const kind = i % 10;
    if (kind === 9) return;
    const age = kind === 6 ? 3 * 86_400 : 3_600;
    const base = (at: number, n2: number): Snapshot =>
      snapshot({
        id: id(at, i * 2 + n2),
        repo: p.repo,
        takenAt: ago(at),
        confirmedAt: ago(at),
        objectKey: `repos/${p.repo}/${id(at, i * 2 + n2)}.ibk`,
        size: sizeOf(i),
      });
    const verification =
      kind === 8
        ? undefined
        : {
            verdict: kind === 7 ? ("failed" as const) : ("ok" as const),
            level: "deep" as const,
            at: ago(age - 60),
          };
    // The older history first (oldest first, each verified when it was taken), as a repository
    // keeps it under the retention policy; 3 days further back, behind the plan's own snapshots
    // (a stale repository's is 3 days old), so no state of the plan changes.
    for (const [k, days] of [...older].reverse().entries()) {
      const at = (days + 3) * 86_400;
      await index.commit({
        ...base(at, 2 * n + k),
        verification: { verdict: "ok", level: "quick", at: ago(at - 600) },
      });
    }
    if (kind <= 5) {
      const full = base(age + 86_400, 0);
      await index.commit({ ...full, verification: { verdict: "ok", level: "deep", at: ago(age + 86_000) } });
      await index.commit({
        ...base(age, 1),
        kind: "incremental",
        parentId: full.id,
        verification: verification!,
      });
    } else {
      await index.commit({ ...base(age, 1), ...(verification ? { verification } : {}) });
    }
  };
  await Promise.all(Array.from({ length: options.lanes ?? 1 }, lane));
  return plan;
}
