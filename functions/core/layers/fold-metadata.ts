// A folded snapshot's GitHub metadata, whole (docs/ARCHITECTURE.md, "Old archives folded in"). An
// incremental's archive holds its metadata as a delta over its chain (only the items changed, only
// the release assets and attachments new to the chain); a layered snapshot has no chain, so its own
// archive must hold every item and every stored file a read of it gave before. The chain is replayed
// oldest first with the readers' own rule (metadata/replay.ts stepKind): each kind's file of each
// snapshot is the previous one's overlaid with the snapshot's own by key, sorted by key, written
// to scratch space as the lines were stored (never redacted: the redaction list is applied on
// read). Memory holds one kind of one snapshot at a time, never the repository's whole metadata.
import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { once } from "node:events";
import type { Manifest } from "../archive/manifest.js";
import { ArchiveCorruptError } from "../errors.js";
import { textLines } from "../metadata/jsonl.js";
import { ALL_KINDS, KIND_KEY, type MetadataKind } from "../metadata/kinds.js";
import { compareLines, lineKey } from "../metadata/order.js";
import { recordedOutcomes, type KindOutcome } from "../metadata/outcome.js";
import { isMetadataPath, kindPath } from "../metadata/paths.js";
import { stepKind, type KindState } from "../metadata/replay.js";
import type { MetadataRecord, Snapshot } from "../model.js";

type ManifestMetadata = NonNullable<Manifest["metadata"]>;

/** One snapshot of the chain, as read: its manifest and its files saved in scratch space. */
export interface ReplayInput {
  snapshot: Snapshot;
  manifest: Manifest;
  files: readonly { path: string; file: string }[];
}

/** A snapshot's metadata, whole: what its folded archive and its index record hold. */
export interface WholeMetadata {
  /** The manifest's `metadata`: every present kind "full"; absent when the archive held none. */
  metadata?: ManifestMetadata;
  /** The files under meta/: each present kind's, then the release assets and attachments its lines name. */
  files: { path: string; file: string }[];
  /** The index record's `metadata`, its counts those of the whole files. */
  record?: MetadataRecord;
}

const KIND_OF_PATH = new Map<string, MetadataKind>(ALL_KINDS.map((kind) => [kindPath(kind), kind]));

/** Replays one chain, parents first: `next` for each snapshot in turn. */
export class MetadataReplay {
  private readonly state = new Map<MetadataKind, KindState>(
    ALL_KINDS.map((kind) => [kind, { state: "not-collected" }]),
  );
  /** Each present kind's whole file so far, and its line count. */
  private readonly whole = new Map<MetadataKind, { file: string; items: number }>();
  /** Every release asset and attachment the chain stored so far: archive path -> saved file (newest). */
  private readonly stored = new Map<string, string>();
  /** Whole files written here, to delete once no later snapshot's archive reads them. */
  private readonly written = new Set<string>();
  private step = 0;

  constructor(private readonly dir: string) {}

  /**
   * The next snapshot's metadata, whole. The files of the one before may be deleted: write its
   * archive before asking for the next. Rejects with ArchiveCorruptError when an archive's manifest
   * lists a kind's file that it does not hold, or a line is not JSON.
   */
  async next(input: ReplayInput): Promise<WholeMetadata> {
    const step = this.step++;
    const own = new Map<MetadataKind, string>();
    for (const { path, file } of input.files) {
      const kind = KIND_OF_PATH.get(path);
      if (kind) own.set(kind, file);
      else if (isMetadataPath(path)) this.stored.set(path, file);
    }
    const where = `the archive of ${input.snapshot.id} of ${input.snapshot.repo}`;
    for (const kind of ALL_KINDS) {
      const outcome = input.manifest.metadata?.kinds[kind];
      const next = stepKind(this.state.get(kind)!, outcome);
      this.state.set(kind, next.state);
      if (next.lines === "drop") this.whole.delete(kind);
      if (next.lines !== "replace" && next.lines !== "overlay") continue;
      const file = own.get(kind);
      if (!file)
        throw new ArchiveCorruptError(
          `${where} lists ${kind} as ${outcome!.state} but has no ${kindPath(kind)}`,
        );
      const base = next.lines === "overlay" ? this.whole.get(kind)?.file : undefined;
      const out = join(this.dir, `${step}-${kind}.jsonl`);
      const items = await mergeKind(kind, [...(base ? [base] : []), file], out, where);
      this.whole.set(kind, { file: out, items });
      this.written.add(out);
    }
    await this.forgetUnused();
    // A snapshot whose own archive held no metadata reads as holding none, whatever its chain held.
    if (!input.manifest.metadata) return { files: [] };
    const kinds: ManifestMetadata["kinds"] = {};
    const files: WholeMetadata["files"] = [];
    for (const kind of ALL_KINDS) {
      const outcome = this.outcomeOf(kind);
      if (outcome) kinds[kind] = outcome;
      const whole = this.whole.get(kind);
      if (outcome?.state === "full" && whole) files.push({ path: kindPath(kind), file: whole.file });
    }
    for (const path of [...(await this.namedFiles())].sort()) {
      const file = this.stored.get(path);
      // A file its chain never stored: a read of the snapshot lacked it before the fold too.
      if (file) files.push({ path, file });
    }
    return { metadata: { kinds }, files, record: recordOf(kinds, input.snapshot.metadata) };
  }

  private outcomeOf(kind: MetadataKind): KindOutcome | undefined {
    const state = this.state.get(kind)!;
    switch (state.state) {
      case "present":
        return { state: "full", items: this.whole.get(kind)!.items };
      case "not-collected":
        return undefined;
      default:
        return state;
    }
  }

  /** The stored files the whole releases and attachments name (assets uploaded, attachments stored). */
  private async namedFiles(): Promise<Set<string>> {
    const named = new Set<string>();
    const releases = this.whole.get("releases");
    if (releases)
      for await (const line of jsonLines(releases.file))
        for (const asset of (line.assets as { path?: unknown }[] | undefined) ?? [])
          if (typeof asset.path === "string") named.add(asset.path);
    const attachments = this.whole.get("attachments");
    if (attachments)
      for await (const line of jsonLines(attachments.file))
        if (line.state === "stored" && typeof line.path === "string") named.add(line.path);
    return named;
  }

  /** Deletes the whole files no kind holds any longer (the archives that read them are written). */
  private async forgetUnused(): Promise<void> {
    const kept = new Set([...this.whole.values()].map((w) => w.file));
    for (const file of [...this.written].filter((f) => !kept.has(f))) {
      await rm(file, { force: true });
      this.written.delete(file);
    }
  }
}

/**
 * Overlays `files` (oldest first) by key into `out`, sorted by key, each line as stored; a key
 * repeated keeps its last line. Resolves with the lines written.
 */
async function mergeKind(kind: MetadataKind, files: string[], out: string, where: string): Promise<number> {
  const lines = new Map<string, { key: Record<string, unknown>; text: string }>();
  for (const file of files) {
    let number = 0;
    for await (const text of textLines(createReadStream(file))) {
      number++;
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch (err) {
        throw new ArchiveCorruptError(`${kindPath(kind)} line ${number} in ${where} is not JSON`, {
          cause: err,
        });
      }
      const key = Object.fromEntries(KIND_KEY[kind].map((field) => [field, line[field]]));
      lines.set(lineKey(kind, line), { key, text });
    }
  }
  const sorted = [...lines.values()].sort((a, b) => compareLines(kind, a.key, b.key));
  lines.clear();
  const stream = createWriteStream(out, { flags: "wx" });
  for (const { text } of sorted) await write(stream, text + "\n");
  stream.end();
  await once(stream, "finish");
  return sorted.length;
}

async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, "drain");
}

async function* jsonLines(file: string): AsyncGenerator<Record<string, unknown>> {
  for await (const text of textLines(createReadStream(file)))
    yield JSON.parse(text) as Record<string, unknown>;
}

/**
 * The index record of whole metadata: the counts of the whole files, the kinds unavailable and
 * still deferred after the chain (as a collection records them), and the requests the snapshot's
 * own collection made.
 */
function recordOf(kinds: ManifestMetadata["kinds"], was: MetadataRecord | undefined): MetadataRecord {
  return { ...recordedOutcomes(kinds), requests: was?.requests ?? 0, notModified: was?.notModified ?? 0 };
}
