// The repository registry (RepositoryRegistry in functions/core/ports.ts) and the lineage it gives
// snapshots across renames, transfers and deletions, run inside the SnapshotIndex contract so that
// every index adapter passes it: the adapter stores, core/lineage/ decides.
import { expect, it } from "vitest";
import { NotFoundError } from "../../functions/core/errors.js";
import { applyInventoryEvent, observeListing } from "../../functions/core/lineage/inventory.js";
import { LineageIndex } from "../../functions/core/lineage/lineage-index.js";
import type { RepositoryRecord, Snapshot } from "../../functions/core/model.js";
import type { Publisher, SnapshotIndex, Topic } from "../../functions/core/ports.js";
import type { ManualClock } from "./snapshot-index.js";

function snap(repo: string, id: string, takenAt: string, parentId?: string): Snapshot {
  return {
    id,
    repo,
    takenAt,
    kind: parentId ? "incremental" : "full",
    ...(parentId ? { parentId } : {}),
    refs: { "refs/heads/main": "a".repeat(40) },
    objectKey: `repos/${repo}/${id}.ibk`,
    size: 100,
    sha256: "0".repeat(64),
    bundleBytes: 90,
    keyRef: "local:0123456789abcdef",
    confirmedAt: takenAt,
  };
}

class Recorded implements Publisher {
  readonly sent: { topic: Topic; message: unknown }[] = [];
  async publish(topic: Topic, messages: readonly unknown[]): Promise<string[]> {
    this.sent.push(...messages.map((message) => ({ topic, message })));
    return messages.map((_, i) => String(this.sent.length + i));
  }
}

/** The registry and lineage cases; `adapter()` is the index under test, fresh per case. */
export function repositoryLineageCases(adapter: () => SnapshotIndex, clock: () => ManualClock): void {
  const record = (over: Partial<RepositoryRecord> & { id: number; name: string }): RepositoryRecord => ({
    key: over.name,
    nameSince: "2026-11-01T00:00:00.000Z",
    formerNames: [],
    state: "active",
    stateAt: "2026-11-01T00:00:00.000Z",
    ...over,
  });

  it("registry: stores a record by id and finds it by key, current name and former names only", async () => {
    const index = adapter();
    expect(await index.repositories()).toEqual([]);
    const stored = record({
      id: 9_007_199_254_740_991, // the largest id a JSON number carries exactly
      key: "acme/old",
      name: "beta/new",
      formerNames: [{ name: "acme/mid", until: "2026-11-02T00:00:00.000Z", how: "renamed" }],
    });
    expect(await index.updateRepository(stored.id, () => stored)).toEqual(stored);
    for (const name of ["acme/old", "acme/mid", "beta/new"])
      expect(await index.repositoriesNamed(name)).toEqual([stored]);
    expect(await index.repositoriesNamed("acme/other")).toEqual([]);
    expect(await index.repositories()).toEqual([stored]);
  });

  it("registry: a change gets the stored record; undefined leaves it; a rename drops the old name's lookups", async () => {
    const index = adapter();
    await index.updateRepository(1, () => record({ id: 1, name: "acme/a" }));
    const seen: (RepositoryRecord | undefined)[] = [];
    const kept = await index.updateRepository(1, (current) => {
      seen.push(current);
      return undefined;
    });
    expect(kept).toEqual(record({ id: 1, name: "acme/a" }));
    expect(seen.at(-1)).toEqual(record({ id: 1, name: "acme/a" }));
    await index.updateRepository(1, (current) => ({ ...current!, key: "acme/b", name: "acme/b" }));
    expect(await index.repositoriesNamed("acme/a")).toEqual([]);
    expect((await index.repositoriesNamed("acme/b")).map((r) => r.id)).toEqual([1]);
    await expect(index.updateRepository(2, () => record({ id: 3, name: "acme/c" }))).rejects.toThrow(
      /stored as 2/,
    );
  });

  it("lineage: a renamed repository keeps one history, reachable by its old and new names", async () => {
    const index = new LineageIndex(adapter());
    const old1 = snap("acme/widget", "20261101T000000000Z-00000001", "2026-11-01T00:00:00.000Z");
    await index.commit(old1); // before the registry knew it: filed under its name
    await observeListing(
      index,
      [{ name: "acme/widget", url: "u", id: 42 }],
      new Date("2026-11-02T00:00:00Z"),
    );
    await observeListing(
      index,
      [{ name: "acme/gadget", url: "u", id: 42 }],
      new Date("2026-11-03T00:00:00Z"),
    );
    const new1 = snap("acme/gadget", "20261104T000000000Z-00000002", "2026-11-04T00:00:00.000Z", old1.id);
    await index.commit(new1);

    for (const name of ["acme/gadget", "acme/widget"]) {
      expect((await index.list(name)).map((s) => s.id)).toEqual([new1.id, old1.id]);
      expect((await index.latest(name))?.id).toBe(new1.id);
      expect((await index.atOrBefore(name, "2026-11-02T00:00:00.000Z"))?.id).toBe(old1.id);
      expect((await index.get(name, old1.id))?.repo).toBe("acme/widget"); // the name it was taken under
    }
    expect(await index.get("acme/gadget", new1.id)).toEqual({ ...new1, lineage: "acme/widget" });
    expect(await index.repos()).toEqual(["acme/gadget"]);
    expect(await index.resolve("acme/widget")).toMatchObject({ key: "acme/widget", via: "former" });
    const [registered] = await index.repositories();
    expect(registered).toMatchObject({
      id: 42,
      key: "acme/widget",
      name: "acme/gadget",
      formerNames: [{ name: "acme/widget", until: "2026-11-03T00:00:00.000Z", how: "renamed" }],
    });

    // Updates by either name reach the one record; leases and attempts are the lineage's.
    await index.confirm("acme/widget", new1.id, "2026-11-05T00:00:00.000Z");
    expect((await index.get("acme/gadget", new1.id))?.confirmedAt).toBe("2026-11-05T00:00:00.000Z");
    await index.setHold("acme/gadget", old1.id, true);
    expect((await index.get("acme/widget", old1.id))?.hold).toBe(true);
    expect(await index.acquireLease("acme/gadget", "w1", 60_000)).toBeDefined();
    expect(await index.acquireLease("acme/widget", "w2", 60_000)).toBeUndefined();
    expect((await index.leases()).map((l) => l.repo)).toEqual(["acme/gadget"]);
    await index.recordAttempt("acme/widget", { at: "2026-11-05T00:00:00.000Z", outcome: "unchanged" });
    expect(Object.keys(await index.attempts())).toEqual(["acme/gadget"]);
    await index.remove("acme/widget", new1.id);
    expect((await index.list("acme/gadget")).map((s) => s.id)).toEqual([old1.id]);
    await expect(index.confirm("acme/gadget", new1.id, "2026-11-06T00:00:00.000Z")).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it("lineage: a transfer keeps the history; a listing older than the rename does not undo it", async () => {
    const index = new LineageIndex(adapter());
    clock().set("2026-11-10T00:00:00.000Z");
    const publisher = new Recorded();
    const deps = { index, publisher, clock: clock() };
    await index.commit(snap("acme/tool", "20261101T000000000Z-00000001", "2026-11-01T00:00:00.000Z"));
    // The transfer is first heard of through its event: the lineage starts at the old name.
    const out = await applyInventoryEvent(deps, {
      kind: "renamed",
      repo: { id: 7, name: "beta/tool" },
      from: "acme/tool",
      how: "transferred",
    });
    expect(out.requested).toEqual(["beta/tool"]);
    expect(publisher.sent.map((m) => m.message)).toMatchObject([{ repo: "beta/tool", reason: "event" }]);
    await observeListing(index, [{ name: "acme/tool", url: "u", id: 7 }], new Date("2026-11-09T00:00:00Z"));
    expect((await index.repositories())[0]).toMatchObject({
      key: "acme/tool",
      name: "beta/tool",
      formerNames: [{ name: "acme/tool", how: "transferred" }],
    });
    expect((await index.list("beta/tool")).map((s) => s.repo)).toEqual(["acme/tool"]);
  });

  it("lineage: a deleted repository keeps its snapshots; a new one under its name starts apart", async () => {
    const index = new LineageIndex(adapter());
    const publisher = new Recorded();
    const deps = { index, publisher, clock: clock() };
    clock().set("2026-11-02T00:00:00.000Z");
    const old1 = snap("acme/app", "20261101T000000000Z-00000001", "2026-11-01T00:00:00.000Z");
    await index.commit(old1);
    const gone = await applyInventoryEvent(deps, { kind: "deleted", repo: { id: 5, name: "acme/app" } });
    expect(gone.requested).toEqual([]);
    expect(gone.records).toMatchObject([
      { id: 5, key: "acme/app", state: "deleted", stateAt: "2026-11-02T00:00:00.000Z" },
    ]);
    expect((await index.list("acme/app")).map((s) => s.id)).toEqual([old1.id]);

    clock().set("2026-11-03T00:00:00.000Z");
    const created = await applyInventoryEvent(deps, {
      kind: "appeared",
      repos: [{ id: 6, name: "acme/app" }],
      why: "created",
    });
    expect(created.requested).toEqual(["acme/app"]);
    expect(created.records).toMatchObject([{ id: 6, key: "acme/app#6", state: "active" }]);
    const new1 = snap("acme/app", "20261104T000000000Z-00000002", "2026-11-04T00:00:00.000Z");
    await index.commit(new1);
    expect((await index.list("acme/app")).map((s) => s.id)).toEqual([new1.id]);
    // The deleted one's snapshots are still found by id (restore --snapshot), and still held.
    expect((await index.get("acme/app", old1.id))?.id).toBe(old1.id);
    expect((await index.repos()).sort()).toEqual(["acme/app"]);
  });

  it("lineage: a configured source without an id is filed under its name, as before", async () => {
    const index = new LineageIndex(adapter());
    const s = snap("local/repo", "20261101T000000000Z-00000001", "2026-11-01T00:00:00.000Z");
    await index.commit(s);
    await observeListing(index, [{ name: "local/repo", url: "/x" }], new Date("2026-11-02T00:00:00Z"));
    expect(await index.repositories()).toEqual([]);
    expect(await adapter().get("local/repo", s.id)).toEqual(s);
    expect(await index.resolve("local/repo")).toEqual({ key: "local/repo", via: "unregistered" });
  });
}
