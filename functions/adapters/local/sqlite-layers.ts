// LayerIndex in the local index's SQLite file (tables layers and layer_state, schema in
// sqlite-schema.ts). Each write is one BEGIN IMMEDIATE transaction that reads the lineage's
// generation, asks the rule in core/layers/index-rules.ts, writes what it returns and bumps the
// generation; a throw inside rolls everything back.
import type Database from "better-sqlite3";
import {
  decideDrop,
  decideFold,
  decideForget,
  decideMerge,
  decideObjectDeleted,
  decideSnap,
} from "../../core/layers/index-rules.js";
import { NotFoundError, UserInputError } from "../../core/errors.js";
import type { Layer, LayerState, Snapshot, Verification } from "../../core/model.js";
import type { LayerIndex, LegacyFold } from "../../core/ports.js";
import { sqliteCall, sqliteWrite } from "./sqlite-calls.js";
import { findSnapshot, insertSnapshot, instant } from "./sqlite-snapshot-rows.js";

export class SqliteLayerIndex implements LayerIndex {
  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
  ) {}

  async layerState(lineage: string): Promise<LayerState> {
    return this.translate("read the layer generation", () => ({
      lineage,
      generation: this.generation(lineage),
    }));
  }

  async layers(lineage: string): Promise<Layer[]> {
    return this.translate("list layers", () =>
      this.db
        .prepare<[string], { record: string }>(
          "SELECT record FROM layers WHERE repo = ? ORDER BY created_at, id",
        )
        .all(lineage)
        .map((row) => JSON.parse(row.record) as Layer),
    );
  }

  async getLayer(lineage: string, id: string): Promise<Layer | undefined> {
    return this.translate("read a layer", () => this.find(lineage, id));
  }

  async commitLayered(
    snapshot: Snapshot,
    layer: Layer | undefined,
    basedOn: string[],
    expectGeneration: number,
  ): Promise<void> {
    if (!snapshot.repo || !snapshot.id) throw new UserInputError("a snapshot needs a repo and an id");
    const lineage = snapshot.lineage ?? snapshot.repo;
    this.run(`commit layered snapshot ${snapshot.id} of ${snapshot.repo}`, () => {
      const named = new Map<string, Layer>();
      for (const id of new Set([...(snapshot.layers ?? []), ...(layer ? [layer.id] : [])])) {
        const found = this.find(lineage, id);
        if (found) named.set(id, found);
      }
      const decision = decideSnap(snapshot, layer, expectGeneration, {
        generation: this.generation(lineage),
        existing: findSnapshot(this.db, lineage, snapshot.id),
        missingBasedOn: basedOn.filter((id) => findSnapshot(this.db, lineage, id) === undefined),
        layers: named,
      });
      if (decision === "already") return;
      if (layer) this.insert(layer);
      insertSnapshot(this.db, snapshot);
      this.bump(lineage);
    });
  }

  async commitMerge(
    lineage: string,
    merged: Layer,
    inputs: string[],
    expectGeneration: number,
  ): Promise<void> {
    this.run(`merge layers of ${lineage}`, () => {
      const read = this.read(lineage, [merged.id, ...inputs]);
      const retired = decideMerge(lineage, merged, inputs, expectGeneration, this.generation(lineage), read);
      this.insert(merged);
      for (const layer of retired) this.replace(layer);
      this.bump(lineage);
    });
  }

  async markDead(lineage: string, ids: string[], at: string, expectGeneration: number): Promise<void> {
    this.run(`drop layers of ${lineage}`, () => {
      const dead = decideDrop(
        lineage,
        ids,
        at,
        expectGeneration,
        this.generation(lineage),
        this.read(lineage, ids),
      );
      for (const layer of dead) this.replace(layer);
      this.bump(lineage);
    });
  }

  async markObjectDeleted(lineage: string, id: string): Promise<void> {
    this.run(`record the delete of layer ${id} of ${lineage}`, () => {
      const next = decideObjectDeleted(lineage, id, this.find(lineage, id));
      if (next) this.replace(next);
    });
  }

  async forgetLayer(lineage: string, id: string): Promise<void> {
    this.run(`forget layer ${id} of ${lineage}`, () => {
      const snapshot = this.db
        .prepare<[string, string], { id: string }>(
          `SELECT snapshots.id AS id FROM snapshots, json_each(snapshots.record, '$.layers') AS named
           WHERE snapshots.repo = ? AND named.value = ? LIMIT 1`,
        )
        .get(lineage, id);
      const layer = this.db
        .prepare<[string, string, string], { id: string }>(
          `SELECT layers.id AS id FROM layers, json_each(layers.record, '$.replacedBy') AS next
           WHERE layers.repo = ? AND next.value = ? AND layers.id <> ? LIMIT 1`,
        )
        .get(lineage, id, id);
      if (!decideForget(lineage, id, this.find(lineage, id), snapshot?.id, layer?.id)) return;
      this.db.prepare("DELETE FROM layers WHERE repo = ? AND id = ?").run(lineage, id);
    });
  }

  async recordLayerVerification(lineage: string, id: string, verification: Verification): Promise<void> {
    this.run(`record the verification of layer ${id} of ${lineage}`, () => {
      const layer = this.find(lineage, id);
      if (!layer) throw new NotFoundError(`layer ${id} of ${lineage} is not in the index`);
      this.replace({ ...layer, verification: { ...verification } });
    });
  }

  async commitFold(lineage: string, fold: LegacyFold, expectGeneration: number): Promise<void> {
    this.run(`fold old archives of ${lineage}`, () => {
      const snapshots = new Map<string, Snapshot>();
      for (const change of fold.snapshots) {
        const found = findSnapshot(this.db, lineage, change.id);
        if (found) snapshots.set(change.id, found);
      }
      const children = this.db
        .prepare<[string], { id: string; parentId: string }>(
          `SELECT id, json_extract(record, '$.parentId') AS parentId FROM snapshots
           WHERE repo = ? AND json_extract(record, '$.parentId') IS NOT NULL`,
        )
        .all(lineage);
      const ids = [
        ...(fold.layer ? [fold.layer.id] : []),
        ...fold.legacy.flatMap((layer) => [layer.id, ...(layer.replacedBy ?? [])]),
        ...fold.snapshots.flatMap((change) => change.layers),
      ];
      const decision = decideFold(lineage, fold, expectGeneration, {
        generation: this.generation(lineage),
        snapshots,
        children,
        layers: this.read(lineage, [...new Set(ids)]),
      });
      if (decision === "already") return;
      for (const layer of decision.create) this.insert(layer);
      for (const snapshot of decision.snapshots) {
        this.db
          .prepare("UPDATE snapshots SET record = ? WHERE repo = ? AND id = ?")
          .run(JSON.stringify(snapshot), lineage, snapshot.id);
      }
      this.bump(lineage);
    });
  }

  private generation(lineage: string): number {
    const row = this.db
      .prepare<[string], { generation: number }>("SELECT generation FROM layer_state WHERE repo = ?")
      .get(lineage);
    return row?.generation ?? 0;
  }

  private bump(lineage: string): void {
    this.db
      .prepare(
        `INSERT INTO layer_state (repo, generation) VALUES (?, 1)
         ON CONFLICT (repo) DO UPDATE SET generation = generation + 1`,
      )
      .run(lineage);
  }

  private find(lineage: string, id: string): Layer | undefined {
    const row = this.db
      .prepare<[string, string], { record: string }>("SELECT record FROM layers WHERE repo = ? AND id = ?")
      .get(lineage, id);
    return row === undefined ? undefined : (JSON.parse(row.record) as Layer);
  }

  private read(lineage: string, ids: string[]): Map<string, Layer> {
    const found = new Map<string, Layer>();
    for (const id of ids) {
      const layer = this.find(lineage, id);
      if (layer) found.set(id, layer);
    }
    return found;
  }

  private insert(layer: Layer): void {
    this.db
      .prepare("INSERT INTO layers (repo, id, created_at, record) VALUES (?, ?, ?, ?)")
      .run(layer.lineage, layer.id, instant(layer.createdAt, "createdAt"), JSON.stringify(layer));
  }

  private replace(layer: Layer): void {
    this.db
      .prepare("UPDATE layers SET record = ? WHERE repo = ? AND id = ?")
      .run(JSON.stringify(layer), layer.lineage, layer.id);
  }

  private run<T>(what: string, work: () => T): T {
    return sqliteWrite(this.db, () => `layer index ${this.file}: ${what} failed`, work);
  }

  private translate<T>(what: string, work: () => T): T {
    return sqliteCall(() => `layer index ${this.file}: ${what} failed`, work);
  }
}
