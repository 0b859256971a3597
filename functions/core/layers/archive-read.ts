// Reads a layer's archives back (the pack, or its oids alone), checking on the way that each is
// the archive its record describes: same layer, same lineage, same bytes (size and SHA-256).
import type { Readable } from "node:stream";
import { HashStream } from "../archive/hash-stream.js";
import { LAYER_OIDS_PATH, LAYER_PACK_PATH } from "../archive/paths.js";
import { readArchive } from "../archive/reader.js";
import type { Deps } from "../deps.js";
import { ArchiveCorruptError } from "../errors.js";
import { OID_BYTES, OidSet } from "../git/oid-set.js";
import type { Layer } from "../model.js";
import { archiveDataKey } from "../read-snapshot.js";

export type LayerReadDeps = Pick<Deps, "store" | "keys" | "keyRecords">;

/**
 * Decrypts the layer's pack and hands it to `onPack` (which must consume it) as it is read.
 * Rejects with ArchiveCorruptError when the archive is not the one the record describes or any
 * segment or manifest check fails. Resolves with the archive bytes read.
 */
export async function readLayerPack(
  deps: LayerReadDeps,
  layer: Layer,
  onPack: (pack: Readable) => Promise<void>,
  onBytes?: (n: number) => void,
  /** Gets the layer's other files (lfs/objects/<oid>) as they are read; absent: drained. */
  onFile?: (path: string, body: Readable) => Promise<void>,
): Promise<number> {
  let sawPack = false;
  const bytes = await readLayerArchive(
    deps,
    layer,
    "pack",
    async (path, body) => {
      if (path === LAYER_OIDS_PATH) return void body.resume();
      if (path !== LAYER_PACK_PATH) return onFile ? onFile(path, body) : void body.resume();
      sawPack = true;
      await onPack(body);
    },
    onBytes,
  );
  if (!sawPack)
    throw new ArchiveCorruptError(`layer ${layer.id} of ${layer.lineage} has no ${LAYER_PACK_PATH}`);
  return bytes;
}

/** The layer's object ids, from its separate oids archive, checked against the record's count. */
export async function readLayerOids(deps: LayerReadDeps, layer: Layer): Promise<OidSet> {
  const limit = layer.objects * OID_BYTES;
  const chunks: Buffer[] = [];
  let size = 0;
  await readLayerArchive(deps, layer, "oids", async (path, body) => {
    if (path !== LAYER_OIDS_PATH) return void body.resume();
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit)
        throw new ArchiveCorruptError(
          `oids of layer ${layer.id} exceed the ${layer.objects} objects of its record`,
        );
      chunks.push(chunk);
    }
  });
  const oids = OidSet.fromBytes(Buffer.concat(chunks, size), `oids of layer ${layer.id} of ${layer.lineage}`);
  if (oids.size !== layer.objects)
    throw new ArchiveCorruptError(
      `oids of layer ${layer.id} list ${oids.size} objects, its record ${layer.objects}`,
    );
  return oids;
}

async function readLayerArchive(
  deps: LayerReadDeps,
  layer: Layer,
  which: "pack" | "oids",
  onFile: (path: string, body: Readable) => Promise<void>,
  onBytes?: (n: number) => void,
): Promise<number> {
  const expected =
    which === "pack"
      ? { key: layer.objectKey, size: layer.size, sha256: layer.sha256 }
      : { key: layer.oidsKey, size: layer.oidsSize, sha256: layer.oidsSha256 };
  const what = `${which === "pack" ? "archive" : "oids archive"} of layer ${layer.id} of ${layer.lineage}`;
  const source = await deps.store.get(expected.key);
  const hashed = new HashStream(onBytes);
  source.on("error", (err) => hashed.destroy(err));
  // Damage found inside the archive (a segment, the tar, the manifest) names the layer too.
  const named = (err: unknown) => {
    if (!(err instanceof ArchiveCorruptError) || err.message.includes(`layer ${layer.id}`)) throw err;
    throw new ArchiveCorruptError(`${what}: ${err.message}`, { cause: err });
  };
  const { header, manifest } = await readArchive(source.pipe(hashed), {
    async dataKey(header) {
      if (header.snapshotId !== layer.id || header.repo !== layer.lineage) {
        throw new ArchiveCorruptError(`${what}: its header belongs to ${header.repo} ${header.snapshotId}`);
      }
      return archiveDataKey(deps, { id: layer.id, repo: layer.lineage, lineage: layer.lineage }, header);
    },
    onFile,
  }).catch(named);
  const sha256 = hashed.digest();
  if (hashed.bytes !== expected.size || sha256 !== expected.sha256) {
    throw new ArchiveCorruptError(
      `${what}: bytes differ from the layer record (size ${hashed.bytes} vs ${expected.size}, sha256 ${sha256.slice(0, 12)} vs ${expected.sha256.slice(0, 12)})`,
    );
  }
  if (header.keyRef !== layer.keyRef)
    throw new ArchiveCorruptError(`${what}: wrapped by ${header.keyRef}, the record says ${layer.keyRef}`);
  if (manifest.kind !== "layer" || manifest.takenAt !== layer.createdAt)
    throw new ArchiveCorruptError(
      `${what}: its manifest is not this layer's (${manifest.kind}, ${manifest.takenAt})`,
    );
  const pack = manifest.entries.find((e) => e.path === LAYER_PACK_PATH);
  if (which === "pack" && pack?.size !== layer.packBytes)
    throw new ArchiveCorruptError(
      `${what}: its pack is ${pack?.size ?? "absent"} bytes, the record says ${layer.packBytes}`,
    );
  return hashed.bytes;
}
