// Keeping the registry true: the sweep's listing (every repository with its id and current name)
// and the host's inventory events (created, renamed, transferred, archived, deleted, the App's
// reach). Renames continue a lineage; a deleted repository keeps its backups and gets no more
// snapshot requests.
import type { SnapshotRequest } from "../messages.js";
import type { RepositoryRecord, SourceRepo } from "../model.js";
import type { Clock, Publisher, RepositoryRegistry } from "../ports.js";
import type { InventoryEvent, RepositoryRef } from "./events.js";
import { isGone, keyChooser, newKey, sighted, withState, type Sighting } from "./registry.js";

/**
 * Registers what a listing shows: new ids, new names of known ids, repositories seen again. One
 * read of the registry, and a write only for what changed. Sources without ids are skipped.
 */
export async function observeListing(
  registry: RepositoryRegistry,
  repos: readonly SourceRepo[],
  at: Date,
): Promise<RepositoryRecord[]> {
  const records = await registry.repositories();
  const byId = new Map(records.map((r) => [r.id, r]));
  const keyFor = keyChooser(records);
  const due = repos.flatMap((repo) => {
    if (repo.id === undefined) return [];
    const seen = sightingOf(repo, at);
    const known = byId.get(repo.id);
    const key = keyFor(repo.id, repo.name);
    return known && sameRecord(known, sighted(known, seen, key)) ? [] : [{ seen, key }];
  });
  // A first sweep registers every repository: a few writes at a time, not one after another.
  const changed: RepositoryRecord[] = [];
  let next = 0;
  const worker = async () => {
    while (next < due.length) {
      const { seen, key } = due[next++]!;
      const stored = await registry.updateRepository(seen.id, (current) => sighted(current, seen, key));
      if (stored) changed.push(stored);
    }
  };
  await Promise.all(Array.from({ length: Math.min(REGISTRY_WRITERS, due.length) }, worker));
  return changed;
}

/** Registry writes in flight at once during a listing's registration. */
const REGISTRY_WRITERS = 16;

/**
 * Registers one repository as its source gives it now, before a snapshot of it: a rename the
 * events have not told yet is caught here, so the snapshot lands on the repository's own lineage.
 */
export async function observeRepository(
  registry: RepositoryRegistry,
  repo: SourceRepo,
  at: Date,
): Promise<RepositoryRecord | undefined> {
  if (repo.id === undefined) return undefined;
  const seen = sightingOf(repo, at);
  const key = newKey(repo.id, repo.name, await registry.repositoriesNamed(repo.name));
  return registry.updateRepository(repo.id, (current) => {
    const next = sighted(current, seen, key);
    return current && sameRecord(current, next) ? undefined : next;
  });
}

export interface InventoryOutcome {
  /** Records as stored after the event. */
  records: RepositoryRecord[];
  /** Snapshot requests published (created, added, renamed, archived…; never for a deleted one). */
  requested: string[];
}

/** Applies one inventory event to the registry and asks for the snapshots it calls for. */
export async function applyInventoryEvent(
  deps: { index: RepositoryRegistry; publisher: Publisher; clock: Clock },
  event: InventoryEvent,
  deliveryId?: string,
): Promise<InventoryOutcome> {
  const at = deps.clock.now().toISOString();
  const records = [];
  const wanted: RepositoryRecord[] = [];
  const install = "installationId" in event && event.installationId !== undefined;
  const installation = install ? { installationId: event.installationId! } : {};
  const sightingOf = (repo: RepositoryRef): Sighting => ({
    id: repo.id,
    name: repo.name,
    at,
    ...installation,
  });
  switch (event.kind) {
    case "appeared":
      for (const repo of event.repos) {
        const stored = await sight(deps.index, sightingOf(repo));
        if (stored) records.push(stored);
        if (stored && !isGone(stored)) wanted.push(stored);
      }
      break;
    case "renamed":
    case "archived":
    case "changed": {
      const seen: Sighting = {
        ...sightingOf(event.repo),
        ...(event.kind === "renamed" ? { how: event.how } : {}),
        ...(event.kind === "archived" ? { archived: event.archived } : {}),
      };
      // A rename first heard of here (the registry never saw the repository): its history so far
      // is filed under the old name, so that is where the lineage starts.
      if (event.kind === "renamed") {
        const first: Sighting = { ...seen, name: event.from, at: before(at) };
        const key = newKey(seen.id, event.from, await deps.index.repositoriesNamed(event.from));
        await deps.index.updateRepository(seen.id, (current) =>
          current ? undefined : sighted(undefined, first, key),
        );
      }
      const stored = await sight(deps.index, seen);
      if (stored) records.push(stored);
      if (stored && !isGone(stored)) wanted.push(stored);
      break;
    }
    case "deleted": {
      const stored = await mark(deps.index, sightingOf(event.repo), "deleted", at);
      if (stored) records.push(stored);
      break;
    }
    case "detached": {
      const reach =
        event.repos ??
        (await deps.index.repositories()).filter(
          (r) => r.installationId === event.installationId && !isGone(r),
        );
      for (const repo of reach) {
        const stored = await mark(
          deps.index,
          { id: repo.id, name: repo.name, at },
          "detached",
          at,
          event.why,
        );
        if (stored) records.push(stored);
      }
      break;
    }
  }
  const requests: SnapshotRequest[] = wanted.map((r) => ({
    v: 1,
    repo: r.name,
    reason: "event",
    requestedAt: at,
    ...(deliveryId ? { deliveryId } : {}),
  }));
  if (requests.length) await deps.publisher.publish("snapshot-requests", requests);
  return { records, requested: requests.map((r) => r.repo) };
}

function sightingOf(repo: SourceRepo, at: Date): Sighting {
  return {
    id: repo.id!,
    name: repo.name,
    at: at.toISOString(),
    ...(repo.installationId === undefined ? {} : { installationId: repo.installationId }),
    ...(repo.archived === undefined ? {} : { archived: repo.archived }),
  };
}

/** Registers a sighting; a new id gets its name as lineage key unless another lineage has it. */
async function sight(registry: RepositoryRegistry, seen: Sighting): Promise<RepositoryRecord | undefined> {
  const key = newKey(seen.id, seen.name, await registry.repositoriesNamed(seen.name));
  return registry.updateRepository(seen.id, (current) => sighted(current, seen, key));
}

/** Sets a state; an id never seen before is registered first, under the name the event gives. */
async function mark(
  registry: RepositoryRegistry,
  seen: Sighting,
  state: "deleted" | "detached",
  at: string,
  reason?: string,
): Promise<RepositoryRecord | undefined> {
  const key = newKey(seen.id, seen.name, await registry.repositoriesNamed(seen.name));
  return registry.updateRepository(seen.id, (current) =>
    withState(current ?? sighted(undefined, { ...seen, at: before(at) }, key), state, at, reason),
  );
}

/** A millisecond earlier: the state an event changes existed just before it. */
function before(at: string): string {
  return new Date(Date.parse(at) - 1).toISOString();
}

function sameRecord(a: RepositoryRecord, b: RepositoryRecord): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
