// The registry's rules, pure: what a sighting (the sweep's listing, an event) or a state change does
// to a repository's record, and which lineage a name leads to. Adapters only store the records.
import type { RepositoryRecord, RepositoryState } from "../model.js";

/** A repository seen on its host at `at`, with its name then. */
export interface Sighting {
  id: number;
  name: string;
  at: string;
  installationId?: number;
  /** GitHub's archived flag, when the sighting says. */
  archived?: boolean;
  /** Why the name changed, when an event says (a listing cannot tell a transfer from a rename). */
  how?: "renamed" | "transferred";
}

/**
 * The record after a sighting. A new id is registered under `key`. A different name seen after the
 * record's name was continues the lineage (the old name becomes a former name); an older sighting
 * leaves it (deliveries and listings arrive out of order). A repository seen after it was
 * marked deleted or detached exists again (GitHub restores deleted repositories with their id).
 */
export function sighted(
  current: RepositoryRecord | undefined,
  seen: Sighting,
  key: string,
): RepositoryRecord {
  const state: RepositoryState = seen.archived ? "archived" : "active";
  if (!current) {
    return {
      id: seen.id,
      key,
      name: seen.name,
      nameSince: seen.at,
      formerNames: [],
      state,
      stateAt: seen.at,
      ...(seen.installationId === undefined ? {} : { installationId: seen.installationId }),
    };
  }
  const next: RepositoryRecord = { ...current, formerNames: [...current.formerNames] };
  const newer = Date.parse(seen.at) >= Date.parse(current.nameSince);
  if (newer && seen.name !== current.name) {
    const how = seen.how ?? (owner(seen.name) === owner(current.name) ? "renamed" : "transferred");
    next.formerNames = [
      ...next.formerNames.filter((f) => f.name !== seen.name && f.name !== current.name),
      { name: current.name, until: seen.at, how },
    ];
    next.name = seen.name;
    next.nameSince = seen.at;
  }
  if (seen.installationId !== undefined && newer) next.installationId = seen.installationId;
  const stateNewer = Date.parse(seen.at) >= Date.parse(current.stateAt);
  const wantState = seen.archived === undefined && current.state === "archived" ? "archived" : state;
  if (stateNewer && current.state !== wantState) {
    next.state = wantState;
    next.stateAt = seen.at;
    delete next.stateReason;
  }
  return next;
}

/** The record with its state set at `at`, unless the record already says something newer. */
export function withState(
  current: RepositoryRecord,
  state: RepositoryState,
  at: string,
  reason?: string,
): RepositoryRecord {
  if (Date.parse(at) < Date.parse(current.stateAt)) return current;
  const next: RepositoryRecord = { ...current, state, stateAt: at };
  if (reason) next.stateReason = reason;
  else delete next.stateReason;
  return next;
}

/** Where a new id's snapshots are filed: its name, unless another lineage already has that key. */
export function newKey(id: number, name: string, others: readonly RepositoryRecord[]): string {
  return keyChooser(others)(id, name);
}

/** newKey over many ids at once: the records' keys indexed once. */
export function keyChooser(records: readonly RepositoryRecord[]): (id: number, name: string) => string {
  const owners = new Map(records.map((r) => [r.key, r.id]));
  return (id, name) => {
    const owner = owners.get(name);
    return owner !== undefined && owner !== id ? `${name}#${id}` : name;
  };
}

/** Whether snapshots are still taken: not once the repository is deleted or out of the App's reach. */
export function isGone(record: RepositoryRecord | undefined): boolean {
  return record?.state === "deleted" || record?.state === "detached";
}

export interface Resolution {
  /** The lineage key to read and file under. */
  key: string;
  /** The registry's record, when the name belongs to one. */
  record?: RepositoryRecord;
  /** Whether `name` was the current name, a former one, or unknown to the registry. */
  via: "current" | "former" | "key" | "unregistered";
}

/**
 * The lineage `name` leads to, from the records that mention it: the repository named so now (one
 * that still exists first), else the one that had the name most recently, else a lineage key
 * given as is, else the name itself (configured sources, repositories never registered).
 */
export function resolveName(name: string, records: readonly RepositoryRecord[]): Resolution {
  const current = records
    .filter((r) => r.name === name)
    .sort(
      (a, b) => Number(isGone(a)) - Number(isGone(b)) || Date.parse(b.nameSince) - Date.parse(a.nameSince),
    );
  if (current[0]) return { key: current[0].key, record: current[0], via: "current" };
  const until = (r: RepositoryRecord) =>
    Math.max(...r.formerNames.filter((f) => f.name === name).map((f) => Date.parse(f.until)));
  const former = records
    .filter((r) => r.formerNames.some((f) => f.name === name))
    .sort((a, b) => until(b) - until(a));
  if (former[0]) return { key: former[0].key, record: former[0], via: "former" };
  const keyed = records.find((r) => r.key === name);
  if (keyed) return { key: keyed.key, record: keyed, via: "key" };
  return { key: name, via: "unregistered" };
}

/** "acme/old is now acme/new (renamed on 2026-11-03)", when `name` led to a repository by a former name. */
export function describeResolution(name: string, resolution: Resolution): string | undefined {
  const record = resolution.record;
  if (resolution.via !== "former" || !record) return undefined;
  const change = [...record.formerNames].reverse().find((f) => f.name === name);
  const when = change ? ` (${change.how} on ${change.until.slice(0, 10)})` : "";
  return `${name} is now ${record.name}${when}: using its history`;
}

/** Every lineage key `name` may file a snapshot under, the resolved one first (for lookups by id). */
export function candidateKeys(name: string, records: readonly RepositoryRecord[]): string[] {
  return [...new Set([resolveName(name, records).key, ...records.map((r) => r.key), name])];
}

/** Every name a record answers to (what RepositoryRegistry.repositoriesNamed matches). */
export function namesOf(record: RepositoryRecord): string[] {
  return [...new Set([record.key, record.name, ...record.formerNames.map((f) => f.name)])];
}

function owner(name: string): string {
  return name.slice(0, name.indexOf("/")).toLowerCase();
}
