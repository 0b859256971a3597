// The SnapshotIndex callers see: names in, lineage keys to the adapter. A repository renamed or
// transferred keeps one history: its old and new names both lead to the key its snapshots are
// filed under (the registry says which), and the names it hands back are current ones.
import type { RepositoryRecord, Snapshot, SnapshotSummary, Verification } from "../model.js";
import type { BackupAttempt, Lease, SnapshotIndex } from "../ports.js";
import { candidateKeys, namesOf, resolveName, type Resolution } from "./registry.js";

export class LineageIndex implements SnapshotIndex {
  constructor(private readonly inner: SnapshotIndex) {}

  /** Which lineage `name` leads to, and how (for "resolved old/x to new/x"). */
  async resolve(name: string): Promise<Resolution> {
    return resolveName(name, await this.inner.repositoriesNamed(name));
  }

  async commit(snapshot: Snapshot): Promise<void> {
    const { key } = await this.resolve(snapshot.repo);
    const filed = snapshot.lineage ?? (key === snapshot.repo ? undefined : key);
    await this.inner.commit(filed === undefined ? snapshot : { ...snapshot, lineage: filed });
  }

  async get(repo: string, id: string): Promise<Snapshot | undefined> {
    return (await this.locate(repo, id))?.snapshot;
  }

  async latest(repo: string): Promise<Snapshot | undefined> {
    return this.inner.latest(await this.key(repo));
  }

  async atOrBefore(repo: string, at: string): Promise<Snapshot | undefined> {
    return this.inner.atOrBefore(await this.key(repo), at);
  }

  async list(repo: string): Promise<Snapshot[]> {
    return this.inner.list(await this.key(repo));
  }

  /** As list() for each name, the names resolved against one read of the registry. */
  async listMany(repos: readonly string[]): Promise<SnapshotSummary[][]> {
    const named = new Map<string, RepositoryRecord[]>();
    for (const record of await this.inner.repositories())
      for (const name of namesOf(record)) named.set(name, [...(named.get(name) ?? []), record]);
    // In repositoriesNamed()'s order: by id.
    const keys = repos.map(
      (name) =>
        resolveName(
          name,
          (named.get(name) ?? []).sort((a, b) => a.id - b.id),
        ).key,
    );
    return this.inner.listMany(keys);
  }

  /** As repos() and listMany() of those names, from one listAll() and one read of the registry. */
  async listAll(): Promise<Map<string, SnapshotSummary[]>> {
    const [byKey, records] = await Promise.all([this.inner.listAll(), this.inner.repositories()]);
    const named = new Map<string, RepositoryRecord[]>();
    for (const record of records)
      for (const name of namesOf(record)) named.set(name, [...(named.get(name) ?? []), record]);
    const display = new Map(records.map((r) => [r.key, r.name]));
    const names = [...new Set([...byKey.keys()].map((key) => display.get(key) ?? key))].sort();
    return new Map(
      names.map((name) => {
        const { key } = resolveName(
          name,
          (named.get(name) ?? []).sort((a, b) => a.id - b.id),
        );
        return [name, byKey.get(key) ?? []];
      }),
    );
  }

  /** One current name per lineage with snapshots, sorted. */
  async repos(): Promise<string[]> {
    const [keys, names] = await Promise.all([this.inner.repos(), this.displayNames()]);
    return [...new Set(keys.map((key) => names(key)))].sort();
  }

  async confirm(repo: string, id: string, at: string): Promise<void> {
    await this.inner.confirm(await this.keyOf(repo, id), id, at);
  }

  async recordVerification(repo: string, id: string, verification: Verification): Promise<void> {
    await this.inner.recordVerification(await this.keyOf(repo, id), id, verification);
  }

  async setHold(repo: string, id: string, hold: boolean): Promise<void> {
    await this.inner.setHold(await this.keyOf(repo, id), id, hold);
  }

  async remove(repo: string, id: string): Promise<void> {
    const found = await this.locate(repo, id);
    if (found) await this.inner.remove(found.key, id);
  }

  async acquireLease(repo: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    const lease = await this.inner.acquireLease(await this.key(repo), holder, ttlMs);
    return lease && { ...lease, repo };
  }

  async releaseLease(repo: string, holder: string): Promise<void> {
    await this.inner.releaseLease(await this.key(repo), holder);
  }

  async leases(): Promise<Lease[]> {
    const [leases, names] = await Promise.all([this.inner.leases(), this.displayNames()]);
    return leases.map((l) => ({ ...l, repo: names(l.repo) }));
  }

  async recordAttempt(repo: string, attempt: BackupAttempt): Promise<void> {
    await this.inner.recordAttempt(await this.key(repo), attempt);
  }

  async attempts(): Promise<Record<string, BackupAttempt>> {
    const [attempts, names] = await Promise.all([this.inner.attempts(), this.displayNames()]);
    return Object.fromEntries(Object.entries(attempts).map(([key, attempt]) => [names(key), attempt]));
  }

  repositories(): Promise<RepositoryRecord[]> {
    return this.inner.repositories();
  }

  repositoriesNamed(name: string): Promise<RepositoryRecord[]> {
    return this.inner.repositoriesNamed(name);
  }

  updateRepository(
    id: number,
    change: (current: RepositoryRecord | undefined) => RepositoryRecord | undefined,
  ): Promise<RepositoryRecord | undefined> {
    return this.inner.updateRepository(id, change);
  }

  private async key(repo: string): Promise<string> {
    return (await this.resolve(repo)).key;
  }

  /**
   * A snapshot by id: under the lineage the name leads to, else under any lineage that ever had
   * the name (an old snapshot's `repo` may be a name another repository has taken since).
   */
  private async locate(repo: string, id: string): Promise<{ key: string; snapshot: Snapshot } | undefined> {
    for (const key of candidateKeys(repo, await this.inner.repositoriesNamed(repo))) {
      const snapshot = await this.inner.get(key, id);
      if (snapshot) return { key, snapshot };
    }
    return undefined;
  }

  /** Where the snapshot is filed; the resolved key when it is nowhere (the adapter then says NotFound). */
  private async keyOf(repo: string, id: string): Promise<string> {
    return (await this.locate(repo, id))?.key ?? (await this.key(repo));
  }

  /** Lineage key -> the name to show: the repository's current name, or the key itself. */
  private async displayNames(): Promise<(key: string) => string> {
    const byKey = new Map((await this.inner.repositories()).map((r) => [r.key, r.name]));
    return (key) => byKey.get(key) ?? key;
  }
}

/** `index` with names resolved through its registry; an index already wrapped is returned as is. */
export function lineageIndex(index: SnapshotIndex): SnapshotIndex {
  return index instanceof LineageIndex ? index : new LineageIndex(index);
}
