// A whole organization as it was at one moment T: for every repository, the newest snapshot taken at
// or before T, restored into a target org or under a name prefix. The plan (and a dry run) says
// which snapshot each repository comes back from and how far behind T it is, and flags those with
// no snapshot at or before T. The restores run one by one here (the CLI) or are handed on one
// message per repository (the cloud's Pub/Sub fan-out); both report each repository's outcome.
import { orgOfRepo } from "./ids.js";
import { describeError, UserInputError } from "./errors.js";
import type { SnapshotIndex } from "./ports.js";

/**
 * How many repositories of an organization's restore run at once: restoreOrgRepo's max_instances
 * (infra/functions.tf; test/infra checks they agree). Each paces at this share of GitHub's content
 * limits, since they write with one App installation's token.
 */
export const ORG_RESTORES_AT_ONCE = 5;

export interface OrgRestoreRequest {
  /** ISO-8601: the moment to restore every repository as of. */
  at: string;
  /** The org (or user) to restore into; default each repository's own owner (needs `prefix`). */
  toOrg?: string;
  /** Put before each repository's name ("restored-" -> "restored-app"). */
  prefix?: string;
  /** Only the repositories whose owner at T is this one; default every repository in the index. */
  from?: string;
  /** Only these repositories (index keys, "owner/name"); default every one. */
  include?: readonly string[];
  /** List what would be restored, restore nothing. */
  dryRun?: boolean;
}

/** One repository's restore as planned: the snapshot and the target. */
export interface PlannedRestore {
  /** The index key (what `restore --repo` takes). */
  repo: string;
  /** "owner/name" at T: the name the snapshot was taken under. */
  name: string;
  target: string;
  snapshotId: string;
  takenAt: string;
  /** Seconds from the snapshot's time to T: how far behind T this repository comes back. */
  behindSeconds: number;
}

export type OrgRestoreItem =
  | ({ state: "planned" | "queued" | "restored" } & PlannedRestore & { note?: string })
  | ({ state: "failed" } & PlannedRestore & { error: string })
  /** No snapshot at or before T: `oldest` is its first snapshot's time when it has one after T. */
  | { state: "no-snapshot"; repo: string; oldest?: string }
  /** Two repositories would land on one target name (owners merged into one org). */
  | ({ state: "conflict" } & PlannedRestore & { error: string });

export interface OrgRestoreReport {
  at: string;
  dryRun: boolean;
  items: OrgRestoreItem[];
  /** How many items ended in each state. */
  counts: Partial<Record<OrgRestoreItem["state"], number>>;
}

/** How the planned restores are carried out. */
export type OrgRestoreExecutor =
  /** One after the other, here; resolves with a note for the report, rejects with why it failed. */
  | { kind: "inline"; restore(item: PlannedRestore): Promise<string | undefined> }
  /** Handed on (one message each); a failure to hand on rejects the whole call. */
  | { kind: "publish"; publish(items: readonly PlannedRestore[]): Promise<void> };

/** The target of `name` ("owner/repo"): into `toOrg` and/or under `prefix`. */
export function targetOf(name: string, request: Pick<OrgRestoreRequest, "toOrg" | "prefix">): string {
  const [owner, repo] = name.split("/") as [string, string];
  return `${request.toOrg ?? owner}/${request.prefix ?? ""}${repo}`;
}

function checkRequest(request: OrgRestoreRequest): void {
  if (!request.at || Number.isNaN(Date.parse(request.at)))
    throw new UserInputError(
      `restoring an organization needs --at TIME (ISO-8601), got ${JSON.stringify(request.at)}`,
    );
  if (!request.toOrg && !request.prefix)
    throw new UserInputError(
      "restoring an organization needs --to-org ORG or --prefix P: a restore never writes over the repositories it was taken of",
    );
  if (request.toOrg !== undefined && !/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(request.toOrg))
    throw new UserInputError(`--to-org must be an org or user login, got ${JSON.stringify(request.toOrg)}`);
  if (request.prefix !== undefined && !/^[A-Za-z0-9_.-]+$/.test(request.prefix))
    throw new UserInputError(
      `--prefix may hold letters, digits, "_", "." and "-", got ${JSON.stringify(request.prefix)}`,
    );
}

/** For each repository of the index, the snapshot at or before T and its target; none restored. */
export async function planOrgRestore(
  deps: { index: Pick<SnapshotIndex, "repos" | "atOrBefore" | "list"> },
  request: OrgRestoreRequest,
): Promise<OrgRestoreItem[]> {
  checkRequest(request);
  const at = new Date(Date.parse(request.at)).toISOString();
  const items: OrgRestoreItem[] = [];
  const targets = new Map<string, string>();
  const included = request.include && new Set(request.include.map((r) => r.toLowerCase()));
  for (const repo of await deps.index.repos()) {
    // An organization's own snapshot ("<org>/@org") is no repository to create.
    if (orgOfRepo(repo) !== undefined) continue;
    if (included && !included.has(repo.toLowerCase())) continue;
    const snapshot = await deps.index.atOrBefore(repo, at);
    if (!snapshot) {
      if (request.from && repo.split("/")[0]?.toLowerCase() !== request.from.toLowerCase()) continue;
      const oldest = (await deps.index.list(repo)).at(-1);
      items.push({ state: "no-snapshot", repo, ...(oldest ? { oldest: oldest.takenAt } : {}) });
      continue;
    }
    const name = snapshot.repo;
    if (request.from && name.split("/")[0]?.toLowerCase() !== request.from.toLowerCase()) continue;
    const planned: PlannedRestore = {
      repo,
      name,
      target: targetOf(name, request),
      snapshotId: snapshot.id,
      takenAt: snapshot.takenAt,
      behindSeconds: Math.round((Date.parse(at) - Date.parse(snapshot.takenAt)) / 1000),
    };
    const taken = targets.get(planned.target.toLowerCase());
    if (taken) {
      items.push({
        state: "conflict",
        ...planned,
        error: `${planned.target} is also the target of ${taken}`,
      });
      continue;
    }
    targets.set(planned.target.toLowerCase(), name);
    items.push({ state: "planned", ...planned });
  }
  return items;
}

/**
 * Restores every repository as of T (see planOrgRestore), or only plans when `dryRun`. One
 * repository's failure is reported and the others go on; the report lists every repository.
 */
export async function restoreOrg(
  deps: { index: Pick<SnapshotIndex, "repos" | "atOrBefore" | "list"> },
  request: OrgRestoreRequest,
  executor: OrgRestoreExecutor,
): Promise<OrgRestoreReport> {
  const planned = await planOrgRestore(deps, request);
  const items = [...planned];
  if (!request.dryRun) {
    const restorable = items.flatMap((item, i) => (item.state === "planned" ? [{ item, i }] : []));
    if (executor.kind === "publish") {
      await executor.publish(
        restorable.map(({ item }) => withoutState(item as PlannedRestore & { state: string })),
      );
      for (const { item, i } of restorable) items[i] = { ...(item as PlannedRestore), state: "queued" };
    } else {
      for (const { item, i } of restorable) {
        const plan = withoutState(item as PlannedRestore & { state: string });
        try {
          const note = await executor.restore(plan);
          items[i] = { ...plan, state: "restored", ...(note ? { note } : {}) };
        } catch (err) {
          items[i] = { ...plan, state: "failed", error: describeError(err) };
        }
      }
    }
  }
  const counts: OrgRestoreReport["counts"] = {};
  for (const item of items) counts[item.state] = (counts[item.state] ?? 0) + 1;
  return { at: new Date(Date.parse(request.at)).toISOString(), dryRun: !!request.dryRun, items, counts };
}

function withoutState(item: PlannedRestore & { state: string }): PlannedRestore {
  const { repo, name, target, snapshotId, takenAt, behindSeconds } = item;
  return { repo, name, target, snapshotId, takenAt, behindSeconds };
}

/** A planned repository's state afterwards, from its restore's journal (queued: no run has ended). */
export type OrgRestoreStatusItem =
  | Exclude<OrgRestoreItem, { state: "planned" | "queued" | "restored" | "failed" }>
  | (PlannedRestore & {
      state: "queued" | "continuing" | "restored" | "failed";
      note?: string;
      error?: string;
      /** When its last run ended. */
      endedAt?: string;
      done?: number;
      total?: number;
      /** A continuing one: the seconds its last run expected the rest to take. */
      etaSeconds?: number;
      /** A continuing one: where it goes on (restore-requests, or snapshot-large: the job). */
      handedTo?: string;
    });

/**
 * The report of an organization restore after the fact: the same plan (the newest snapshot at or
 * before T does not change), each planned repository with what its last run recorded (`outcomeOf`:
 * the journal's outcome of restoring that snapshot into that target).
 */
export async function orgRestoreStatus(
  deps: { index: Pick<SnapshotIndex, "repos" | "atOrBefore" | "list"> },
  request: OrgRestoreRequest,
  outcomeOf: (item: PlannedRestore) => Promise<
    | {
        state: "continuing" | "restored" | "failed";
        at: string;
        note?: string;
        error?: string;
        done?: number;
        total?: number;
        etaSeconds?: number;
        handedTo?: string;
      }
    | undefined
  >,
): Promise<{
  at: string;
  items: OrgRestoreStatusItem[];
  counts: Partial<Record<OrgRestoreStatusItem["state"], number>>;
}> {
  const items: OrgRestoreStatusItem[] = [];
  for (const item of await planOrgRestore(deps, { ...request, dryRun: true })) {
    if (item.state !== "planned") {
      items.push(item as OrgRestoreStatusItem);
      continue;
    }
    const plan = withoutState(item);
    const outcome = await outcomeOf(plan);
    items.push(
      outcome
        ? {
            ...plan,
            state: outcome.state,
            endedAt: outcome.at,
            ...(outcome.note ? { note: outcome.note } : {}),
            ...(outcome.error ? { error: outcome.error } : {}),
            ...(outcome.done === undefined ? {} : { done: outcome.done, total: outcome.total ?? 0 }),
            ...(outcome.state === "continuing" && outcome.etaSeconds !== undefined
              ? { etaSeconds: outcome.etaSeconds }
              : {}),
            ...(outcome.state === "continuing" && outcome.handedTo ? { handedTo: outcome.handedTo } : {}),
          }
        : { ...plan, state: "queued" },
    );
  }
  const counts: Partial<Record<OrgRestoreStatusItem["state"], number>> = {};
  for (const item of items) counts[item.state] = (counts[item.state] ?? 0) + 1;
  return { at: new Date(Date.parse(request.at)).toISOString(), items, counts };
}
