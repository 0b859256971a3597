// Reads what a snapshot holds of its repository's GitHub metadata: its chain's archives oldest first,
// each kind's file overlaid by key as FORMAT.md "Chains" says, keeping only the kinds and lines asked
// for. Files are parsed line by line as they stream out of the archive; nothing is held whole.
import type { Readable } from "node:stream";
import type { Manifest } from "../archive/manifest.js";
import { snapshotChain } from "../chain.js";
import type { Deps } from "../deps.js";
import { ArchiveCorruptError, NotFoundError } from "../errors.js";
import type { Snapshot } from "../model.js";
import { readSnapshotArchive } from "../read-snapshot.js";
import { textLines } from "./jsonl.js";
import { ALL_KINDS, KIND_KEY, type MetadataKind } from "./kinds.js";
import { compareLines, lineKey } from "./order.js";
import { kindPath } from "./paths.js";
import { redactMetadataItem, redactedLogins } from "./redaction.js";
import { stepKind, type KindState } from "./replay.js";

export type { KindState } from "./replay.js";

export type MetadataLine = Record<string, unknown>;

export interface MetadataQuery<T> {
  /** The kinds whose lines to build; the files of the others are drained unread. */
  kinds: readonly MetadataKind[];
  /** Decides each line as it is read (one issue's lines, say); a rejected line is never held. */
  keep?(kind: MetadataKind, line: MetadataLine): boolean;
  /** What to hold of a kept line (a listing's few fields); default the whole line. */
  project?(kind: MetadataKind, line: MetadataLine): T;
}

export interface MetadataAtSnapshot<T> {
  snapshot: Snapshot;
  /** The snapshots read, oldest first; the snapshot itself last. */
  chain: Snapshot[];
  /** Every kind's state at the snapshot. */
  kinds: Record<MetadataKind, KindState>;
  /** The asked kinds that are present: their kept lines, projected, in key order. */
  lines: Partial<Record<MetadataKind, T[]>>;
  /** Archive bytes read (the whole chain). */
  bytes: number;
}

export interface ReadMetadataOptions {
  /** Recorded in the audit log with every archive read ("snapshot.read"). */
  actor: string;
  /** Why the archive is read, for the audit log ("show issues"). */
  purpose: string;
  onBytes?: (n: number) => void;
}

/** One kind's state while the chain is replayed: line key -> kept line (its key fields and value). */
type Held<T> = Map<string, { key: MetadataLine; value: T }>;

/**
 * The snapshot's metadata of `query.kinds`. Rejects with NotFoundError when the snapshot holds no
 * metadata (taken from a source without any), ArchiveCorruptError for a broken chain or archive,
 * and whatever the store or key service rejects with. Every archive read is audited, read or failed.
 */
export async function readMetadata<T = MetadataLine>(
  deps: Pick<Deps, "store" | "keys" | "keyRecords" | "redactions" | "index" | "audit">,
  snapshot: Snapshot,
  query: MetadataQuery<T>,
  options: ReadMetadataOptions,
): Promise<MetadataAtSnapshot<T>> {
  if (!snapshot.metadata) throw noMetadata(snapshot);
  // Every line is handed on in its redacted form (the redaction list, read once per read).
  const logins = redactedLogins(await deps.redactions?.redactions());
  const audit = (link: Snapshot, outcome: "success" | "failure", details: Record<string, unknown>) =>
    deps.audit.record({
      action: "snapshot.read",
      repo: link.repo,
      snapshotId: link.id,
      actor: options.actor,
      outcome,
      details: { purpose: options.purpose, for: snapshot.id, kinds: [...query.kinds], ...details },
    });
  let chain: Snapshot[];
  try {
    chain = await snapshotChain(deps.index, snapshot);
  } catch (err) {
    await audit(snapshot, "failure", { error: (err as Error).message });
    throw err;
  }
  const wanted = new Set(query.kinds);
  const state = new Map<MetadataKind, KindState>(ALL_KINDS.map((k) => [k, { state: "not-collected" }]));
  const held = new Map<MetadataKind, Held<T>>();
  let bytes = 0;
  let lastHadMetadata = false;
  for (const link of chain) {
    // A kind's state is in the manifest, the archive's last entry: hold this archive's lines apart
    // until it says whether they start over (full) or overlay (delta).
    const read = new Map<MetadataKind, Held<T>>();
    let result: { manifest: Manifest; bytes: number };
    try {
      result = await readSnapshotArchive(
        deps,
        link,
        async (path, body) => {
          const kind = wantedKind(path, wanted);
          if (!kind) return void body.resume();
          read.set(kind, await holdLines(kind, body, path, query, logins));
        },
        options.onBytes,
      );
      bytes += result.bytes;
    } catch (err) {
      await audit(link, "failure", { error: (err as Error).message });
      throw err;
    }
    await audit(link, "success", { bytes: result.bytes });
    const { manifest } = result;
    lastHadMetadata = manifest.metadata !== undefined;
    for (const kind of ALL_KINDS) {
      const outcome = manifest.metadata?.kinds[kind];
      const step = stepKind(state.get(kind)!, outcome);
      state.set(kind, step.state);
      if (step.lines === "drop") held.delete(kind);
      if (step.lines !== "replace" && step.lines !== "overlay") continue;
      const file = read.get(kind);
      if (wanted.has(kind) && !file)
        throw new ArchiveCorruptError(
          `archive of ${link.id} lists ${kind} as ${outcome!.state} but has no ${kindPath(kind)}`,
        );
      if (!file) continue;
      const base = step.lines === "overlay" ? held.get(kind) : undefined;
      if (base) for (const [key, line] of file) base.set(key, line);
      else held.set(kind, file);
    }
  }
  if (!lastHadMetadata) throw noMetadata(snapshot);
  const lines: Partial<Record<MetadataKind, T[]>> = {};
  for (const kind of query.kinds) {
    const kept = held.get(kind);
    if (state.get(kind)!.state !== "present" || !kept) continue;
    lines[kind] = [...kept.values()].sort((a, b) => compareLines(kind, a.key, b.key)).map((l) => l.value);
  }
  return {
    snapshot,
    chain,
    kinds: Object.fromEntries(state) as Record<MetadataKind, KindState>,
    lines,
    bytes,
  };
}

function noMetadata(snapshot: Snapshot): NotFoundError {
  return new NotFoundError(
    `snapshot ${snapshot.id} of ${snapshot.repo} holds no GitHub metadata (taken from a source without any)`,
  );
}

/** The kind whose file `path` is, when it is one of `wanted`. */
function wantedKind(path: string, wanted: ReadonlySet<MetadataKind>): MetadataKind | undefined {
  for (const kind of wanted) if (kindPath(kind) === path) return kind;
  return undefined;
}

/** The kept lines of one file, by key (a repeated key keeps its last line). */
async function holdLines<T>(
  kind: MetadataKind,
  body: Readable,
  path: string,
  query: MetadataQuery<T>,
  logins: ReadonlySet<string>,
): Promise<Held<T>> {
  const held: Held<T> = new Map();
  let number = 0;
  for await (const text of textLines(body)) {
    number++;
    let line: MetadataLine;
    try {
      line = JSON.parse(text) as MetadataLine;
    } catch (err) {
      throw new ArchiveCorruptError(`${path} line ${number} is not JSON`, { cause: err });
    }
    if (query.keep && !query.keep(kind, line)) continue;
    // Keyed as stored (a redacted key would merge distinct lines), shown redacted.
    const key = Object.fromEntries(KIND_KEY[kind].map((field) => [field, line[field]]));
    const id = lineKey(kind, line);
    line = redactMetadataItem(line, logins);
    held.set(id, { key, value: query.project ? query.project(kind, line) : (line as T) });
  }
  return held;
}
