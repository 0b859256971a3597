// Writes a shared pack layer (docs/ARCHITECTURE.md, "Shared pack layers"): one pack streamed into
// an archive of today's .ibk format (git/layer.pack, then git/layer.oids), indexed on the side by
// `git index-pack` in scratch space so the oids are the ones git computes; then the oids again,
// alone, in a second small archive. Both are put before any record names them (invariant 3).
import { randomBytes } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, Readable, type Writable } from "node:stream";
import { REPOSITORY_KEY_REF, type ArchiveHeader } from "../archive/header.js";
import { LAYER_OIDS_PATH, LAYER_PACK_PATH } from "../archive/paths.js";
import { writeArchive, type ArchiveFile } from "../archive/writer.js";
import type { Deps } from "../deps.js";
import { ArchiveCorruptError, DeadlineError, GitError } from "../errors.js";
import { writtenAndStored } from "../first-error.js";
import { indexPack, initBare } from "../git/local-repo.js";
import { packOidSet, type OidSet } from "../git/oid-set.js";
import { newSnapshotId } from "../ids.js";
import { sealDataKey } from "../keys/repository-keys.js";
import type { Layer } from "../model.js";
import { layerKey, layerOidsKey } from "../object-keys.js";
import { makeScratch } from "../scratch.js";
import { withPackCount } from "./pack-count.js";
import { drained } from "../drained.js";

export type LayerDeps = Pick<Deps, "store" | "keys" | "keyRecords" | "clock" | "audit">;

export interface WriteLayerOptions {
  /** Who asked (the audit entry of a repository key made on first use). */
  actor: string;
  /** The layer's id; default a new time-sortable one from the clock. */
  id?: string;
  /** Aborting stops the write; the caller commits nothing. */
  signal?: AbortSignal;
  /** Pack bytes as they pass (progress). */
  onBytes?: (n: number) => void;
  /** Also gets the pack's bytes, at the pace it takes them (an LFS pointer scan); ended with the pack. */
  tee?: Writable;
  /** More files after the pack and its oids (the LFS objects of the pack's pointers, lfs/objects/). */
  files?: AsyncIterable<ArchiveFile>;
}

/**
 * Streams `pack` (a whole, non-thin pack, as upload-pack sends with ofs-delta) into a new live
 * layer of `lineage` at `level` and puts both its archives. Resolves with the layer's record (not
 * committed: the caller's transaction does that), or undefined when the pack holds no object (its
 * bytes are read to their end). Memory: one tar part and segment, plus 20 bytes per object.
 */
export async function writeLayer(
  deps: LayerDeps,
  lineage: string,
  pack: Readable,
  level: number | "legacy",
  options: WriteLayerOptions,
): Promise<Layer | undefined> {
  const counted = await withPackCount(pack);
  if (counted.objects === 0) {
    for await (const chunk of counted.stream as AsyncIterable<Buffer>) options.tee?.write(chunk);
    options.tee?.end(); // nothing to store; the fetch still ends cleanly
    return undefined;
  }
  const createdAt = deps.clock.now();
  const id = options.id ?? newSnapshotId(createdAt);
  const dataKey = randomBytes(32);
  const scratch = await makeScratch("layer");
  try {
    const header = await sealHeader(deps, lineage, id, createdAt, dataKey, options.actor);
    const indexDir = join(scratch, "layer.git");
    await initBare(indexDir);
    const toIndex = new PassThrough();
    const indexed = indexPack(indexDir, toIndex).then(() => oidsOf(indexDir));
    indexed.catch(() => undefined); // surfaces through the oids file below
    let packBytes = 0;
    const base = { header, dataKey, createdAt, lineage, id, signal: options.signal };
    const layerArchive = await putArchive(deps, layerKey(lineage, id), base, [
      {
        path: LAYER_PACK_PATH,
        open: () =>
          Readable.from(
            tee(counted.stream, [toIndex, ...(options.tee ? [options.tee] : [])], (n) => {
              packBytes += n;
              options.onBytes?.(n);
            }),
          ),
      },
      { path: LAYER_OIDS_PATH, open: async () => Readable.from([(await indexed).bytes]) },
      ...(options.files ? [options.files] : []),
    ]);
    const oids = await indexed;
    if (oids.size !== counted.objects) {
      throw new ArchiveCorruptError(
        `pack for layer ${id} of ${lineage} says ${counted.objects} objects, git index-pack found ${oids.size}`,
      );
    }
    const oidsArchive = await putArchive(deps, layerOidsKey(lineage, id), base, [
      { path: LAYER_OIDS_PATH, open: () => Readable.from([oids.bytes]) },
    ]);
    const at = createdAt.toISOString();
    return {
      id,
      lineage,
      level,
      objectKey: layerArchive.key,
      size: layerArchive.size,
      sha256: layerArchive.sha256,
      oidsKey: oidsArchive.key,
      oidsSize: oidsArchive.size,
      oidsSha256: oidsArchive.sha256,
      objects: oids.size,
      packBytes,
      keyRef: header.keyRef,
      createdAt: at,
      state: "live",
      stateAt: at,
    };
  } catch (err) {
    counted.stream.destroy();
    throw err;
  } finally {
    dataKey.fill(0);
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The header of both archives: the data key in a key record (with key records) or wrapped inside. */
async function sealHeader(
  deps: LayerDeps,
  lineage: string,
  id: string,
  createdAt: Date,
  dataKey: Buffer,
  actor: string,
): Promise<ArchiveHeader> {
  const common = { aead: "AES256_GCM_HKDF_1MB" as const, snapshotId: id, repo: lineage };
  if (!deps.keyRecords) {
    const wrapped = await deps.keys.wrap(dataKey);
    return {
      ...common,
      createdAt: createdAt.toISOString(),
      keyRef: wrapped.keyRef,
      wrappedKey: wrapped.wrapped.toString("base64"),
    };
  }
  const sealed = await sealDataKey(
    { ...deps, keyRecords: deps.keyRecords },
    lineage,
    id,
    dataKey,
    `a new layer of ${lineage}`,
  );
  if (sealed.createdKey) {
    await deps.audit.record({
      action: "key.repository-created",
      repo: lineage,
      snapshotId: id,
      actor,
      outcome: "success",
      details: { keyId: sealed.createdKey },
    });
  }
  return { ...common, createdAt: createdAt.toISOString(), keyRef: REPOSITORY_KEY_REF };
}

interface ArchiveBase {
  header: ArchiveHeader;
  dataKey: Buffer;
  createdAt: Date;
  lineage: string;
  id: string;
  signal: AbortSignal | undefined;
}

/** Writes one archive of the layer and puts it under `key`: its stored size and SHA-256. */
async function putArchive(
  deps: LayerDeps,
  key: string,
  base: ArchiveBase,
  files: (ArchiveFile | AsyncIterable<ArchiveFile>)[],
): Promise<{ key: string; size: number; sha256: string }> {
  const takenAt = base.createdAt.toISOString();
  const archive = writeArchive({
    header: base.header,
    dataKey: base.dataKey,
    manifest: {
      format: 1,
      snapshotId: base.id,
      repo: base.lineage,
      takenAt,
      kind: "layer",
      refs: {},
      prerequisites: [],
    },
    files: flatten(files),
  });
  const abort = () =>
    archive.stream.destroy(
      new DeadlineError(
        `layer ${base.id} of ${base.lineage} stopped: ${String(base.signal?.reason ?? "aborted")}`,
      ),
    );
  if (base.signal?.aborted) abort();
  base.signal?.addEventListener("abort", abort, { once: true });
  try {
    const [, stored] = await writtenAndStored(
      archive.manifest,
      deps.store.put(key, archive.stream, {
        metadata: { repo: base.lineage, snapshotId: base.id, keyRef: base.header.keyRef },
      }),
    );
    return { key, size: stored.size, sha256: await archive.sha256 };
  } catch (err) {
    archive.stream.destroy(err as Error);
    throw err;
  } finally {
    base.signal?.removeEventListener("abort", abort);
  }
}

/** The pack's bytes as they come, each also written to every `side` at the pace it takes them. */
async function* tee(
  source: Readable,
  sides: Writable[],
  onBytes: (n: number) => void,
): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      onBytes(chunk.length);
      for (const side of sides) if (!side.destroyed && !side.write(chunk)) await drained(side);
      yield chunk;
    }
    for (const side of sides) side.end();
  } catch (err) {
    for (const side of sides) side.destroy(err as Error);
    throw err;
  }
}

/** Files given one by one or as a sequence, in order. */
async function* flatten(files: (ArchiveFile | AsyncIterable<ArchiveFile>)[]): AsyncGenerator<ArchiveFile> {
  for (const file of files) {
    if (Symbol.asyncIterator in file) yield* file;
    else yield file;
  }
}

/** The oids of the one pack `git index-pack` wrote into `repo`. */
async function oidsOf(repo: string): Promise<OidSet> {
  const packDir = join(repo, "objects", "pack");
  const idx = (await readdir(packDir)).filter((name) => name.endsWith(".idx"));
  if (idx.length !== 1)
    throw new GitError(`git index-pack left ${idx.length} pack indexes in ${packDir}, expected 1`);
  return packOidSet(join(packDir, idx[0]!));
}
