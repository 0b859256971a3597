// LayerIndex on Firestore: layer records at repos/{lineage}/layers/{id}, beside the snapshots, and
// the lineage's generation at layerState/{lineage}. Each write is one transaction that reads the
// generation document with everything its rule (core/layers/index-rules.ts) needs, then writes
// what the rule returns and the generation plus one. Two transactions that read the same
// generation cannot both commit: Firestore retries the loser, which then reads the moved
// generation and ends with ConflictError.
import type { DocumentSnapshot, Firestore, Transaction } from "@google-cloud/firestore";
import { NotFoundError, UserInputError } from "../../core/errors.js";
import {
  decideDrop,
  decideFold,
  decideForget,
  decideMerge,
  decideObjectDeleted,
  decideSnap,
} from "../../core/layers/index-rules.js";
import type { Layer, LayerState, Snapshot, Verification } from "../../core/model.js";
import type { LayerIndex, LegacyFold } from "../../core/ports.js";
import { fromGrpc } from "./errors.js";
import { fromDoc, toDoc } from "./firestore-index.js";
import { FirestorePaths } from "./firestore-paths.js";
import { repoDocAfterCommit, summariesField, summariesOf, toSummary } from "./firestore-repo-summaries.js";

export class FirestoreLayerIndex implements LayerIndex {
  private readonly db: Firestore;
  private readonly paths: FirestorePaths;

  /** `root`: as FirestoreSnapshotIndex's, which must be the same for T-snap's snapshots to be found. */
  constructor(options: { firestore: Firestore; root?: string }) {
    this.db = options.firestore;
    this.paths = new FirestorePaths(this.db, options.root);
  }

  async layerState(lineage: string): Promise<LayerState> {
    const found = await this.read(`read the layer generation of ${lineage}`, () =>
      this.paths.layerState(lineage).get(),
    );
    return { lineage, generation: generationOf(found) };
  }

  async layers(lineage: string): Promise<Layer[]> {
    const found = await this.read(`list the layers of ${lineage}`, () => this.paths.layers(lineage).get());
    return found.docs
      .map((d) => d.data() as Layer)
      .sort((a, b) => compare(Date.parse(a.createdAt), Date.parse(b.createdAt)) || compare(a.id, b.id));
  }

  async getLayer(lineage: string, id: string): Promise<Layer | undefined> {
    const found = await this.read(`read layer ${id} of ${lineage}`, () =>
      this.paths.layer(lineage, id).get(),
    );
    return found.exists ? (found.data() as Layer) : undefined;
  }

  async commitLayered(
    snapshot: Snapshot,
    layer: Layer | undefined,
    basedOn: string[],
    expectGeneration: number,
  ): Promise<void> {
    if (!snapshot.repo || !snapshot.id) throw new UserInputError("a snapshot needs a repo and an id");
    const lineage = snapshot.lineage ?? snapshot.repo;
    const doc = toDoc(snapshot);
    const names = [...new Set([...(snapshot.layers ?? []), ...(layer ? [layer.id] : [])])];
    const ref = this.paths.snapshot(lineage, snapshot.id);
    const repoRef = this.paths.repo(lineage);
    const baseRefs = basedOn.map((id) => this.paths.snapshot(lineage, id));
    const layerRefs = names.map((id) => this.paths.layer(lineage, id));
    await this.run(`commit layered snapshot ${snapshot.id} of ${snapshot.repo}`, async (tx) => {
      // Every read comes before any write, as Firestore transactions require.
      const [state, existing, repoDoc, ...rest] = await tx.getAll(
        this.paths.layerState(lineage),
        ref,
        repoRef,
        ...baseRefs,
        ...layerRefs,
      );
      const bases = rest.slice(0, baseRefs.length);
      const decision = decideSnap(snapshot, layer, expectGeneration, {
        generation: generationOf(state!),
        existing: existing!.exists ? fromDoc(existing!.data()!) : undefined,
        missingBasedOn: basedOn.filter((_, i) => !bases[i]!.exists),
        layers: found(rest.slice(baseRefs.length)),
      });
      if (decision === "already") return;
      if (layer) tx.create(this.paths.layer(lineage, layer.id), plain(layer));
      tx.create(ref, doc);
      tx.set(repoRef, repoDocAfterCommit(repoDoc, lineage, snapshot), { merge: true });
      this.bump(tx, lineage, state!);
    });
  }

  async commitMerge(
    lineage: string,
    merged: Layer,
    inputs: string[],
    expectGeneration: number,
  ): Promise<void> {
    const refs = [merged.id, ...inputs].map((id) => this.paths.layer(lineage, id));
    await this.run(`merge layers of ${lineage} into ${merged.id}`, async (tx) => {
      const [state, ...docs] = await tx.getAll(this.paths.layerState(lineage), ...refs);
      const retired = decideMerge(
        lineage,
        merged,
        inputs,
        expectGeneration,
        generationOf(state!),
        found(docs),
      );
      tx.create(this.paths.layer(lineage, merged.id), plain(merged));
      for (const layer of retired) tx.set(this.paths.layer(lineage, layer.id), plain(layer));
      this.bump(tx, lineage, state!);
    });
  }

  async markDead(lineage: string, ids: string[], at: string, expectGeneration: number): Promise<void> {
    const refs = ids.map((id) => this.paths.layer(lineage, id));
    await this.run(`drop layers of ${lineage}`, async (tx) => {
      const [state, ...docs] = await tx.getAll(this.paths.layerState(lineage), ...refs);
      const dead = decideDrop(lineage, ids, at, expectGeneration, generationOf(state!), found(docs));
      for (const layer of dead) tx.set(this.paths.layer(lineage, layer.id), plain(layer));
      this.bump(tx, lineage, state!);
    });
  }

  async markObjectDeleted(lineage: string, id: string): Promise<void> {
    const ref = this.paths.layer(lineage, id);
    await this.run(`record the delete of layer ${id} of ${lineage}`, async (tx) => {
      const doc = await tx.get(ref);
      const next = decideObjectDeleted(lineage, id, doc.exists ? (doc.data() as Layer) : undefined);
      if (next) tx.set(ref, plain(next));
    });
  }

  async forgetLayer(lineage: string, id: string): Promise<void> {
    const ref = this.paths.layer(lineage, id);
    const namingSnapshots = this.paths
      .snapshots(lineage)
      .where("layers", "array-contains", id)
      .select()
      .limit(1);
    const namingLayers = this.paths
      .layers(lineage)
      .where("replacedBy", "array-contains", id)
      .select()
      .limit(2);
    await this.run(`forget layer ${id} of ${lineage}`, async (tx) => {
      const doc = await tx.get(ref);
      const bySnapshot = await tx.get(namingSnapshots);
      const byLayer = await tx.get(namingLayers);
      const layer = doc.exists ? (doc.data() as Layer) : undefined;
      const otherLayer = byLayer.docs.find((d) => d.id !== id)?.id;
      if (!decideForget(lineage, id, layer, bySnapshot.docs[0]?.id, otherLayer)) return;
      tx.delete(ref);
    });
  }

  async recordLayerVerification(lineage: string, id: string, verification: Verification): Promise<void> {
    const ref = this.paths.layer(lineage, id);
    await this.run(`record the verification of layer ${id} of ${lineage}`, async (tx) => {
      const doc = await tx.get(ref);
      if (!doc.exists) throw new NotFoundError(`layer ${id} of ${lineage} is not in the index`);
      tx.update(ref, { verification: plain(verification) });
    });
  }

  async commitFold(lineage: string, fold: LegacyFold, expectGeneration: number): Promise<void> {
    const snapshotRefs = fold.snapshots.map((change) => this.paths.snapshot(lineage, change.id));
    const ids = [
      ...new Set([
        ...(fold.layer ? [fold.layer.id] : []),
        ...fold.legacy.flatMap((layer) => [layer.id, ...(layer.replacedBy ?? [])]),
        ...fold.snapshots.flatMap((change) => change.layers),
      ]),
    ];
    const layerRefs = ids.map((id) => this.paths.layer(lineage, id));
    // Snapshots that build on another: one read of the lineage's parentId fields.
    const withParent = this.paths.snapshots(lineage).where("parentId", ">", "").select("parentId");
    await this.run(`fold old archives of ${lineage}`, async (tx) => {
      const [state, repoDoc, ...docs] = await tx.getAll(
        this.paths.layerState(lineage),
        this.paths.repo(lineage),
        ...snapshotRefs,
        ...layerRefs,
      );
      const children = await tx.get(withParent);
      const snapshots = new Map<string, Snapshot>();
      for (const doc of docs.slice(0, snapshotRefs.length))
        if (doc?.exists) snapshots.set(doc.id, fromDoc(doc.data()!));
      const decision = decideFold(lineage, fold, expectGeneration, {
        generation: generationOf(state!),
        snapshots,
        children: children.docs.map((doc) => ({ id: doc.id, parentId: String(doc.get("parentId")) })),
        layers: found(docs.slice(snapshotRefs.length)),
      });
      if (decision === "already") return;
      for (const layer of decision.create) tx.create(this.paths.layer(lineage, layer.id), plain(layer));
      for (const snapshot of decision.snapshots)
        tx.set(this.paths.snapshot(lineage, snapshot.id), toDoc(snapshot));
      // The repo document's summaries follow the records, in the same transaction.
      const folded = new Map(decision.snapshots.map((snapshot) => [snapshot.id, toSummary(snapshot)]));
      const summaries = summariesOf(repoDoc);
      if (summaries)
        tx.set(this.paths.repo(lineage), summariesField(summaries.map((s) => folded.get(s.id) ?? s)), {
          merge: true,
        });
      this.bump(tx, lineage, state!);
    });
  }

  private bump(tx: Transaction, lineage: string, state: DocumentSnapshot): void {
    tx.set(this.paths.layerState(lineage), { lineage, generation: generationOf(state) + 1 });
  }

  private async read<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw fromGrpc(err, `could not ${what}`);
    }
  }

  /** One transaction; our own errors thrown inside end it unretried and come out as they are. */
  private async run(what: string, work: (tx: Transaction) => Promise<void>): Promise<void> {
    try {
      await this.db.runTransaction(work);
    } catch (err) {
      throw fromGrpc(err, `could not ${what}`);
    }
  }
}

function generationOf(state: DocumentSnapshot): number {
  return state.exists ? Number(state.get("generation")) : 0;
}

/** The layer records among `docs` that exist, by id. */
function found(docs: Array<DocumentSnapshot | undefined>): Map<string, Layer> {
  const layers = new Map<string, Layer>();
  for (const doc of docs) if (doc?.exists) layers.set(doc.id, doc.data() as Layer);
  return layers;
}

function compare<T extends string | number>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A plain-JSON copy: Firestore refuses `undefined` fields unless the client was told to drop them. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
