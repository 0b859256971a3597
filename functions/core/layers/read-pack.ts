// A layered snapshot's packs, joined into one pack for one `git index-pack` (docs/ARCHITECTURE.md,
// "Restore from layers"). One process indexes everything, as `git clone` of a bundle does, instead
// of one per layer; and when no two layers hold the same object the links are proven in the same
// pass (`--check-self-contained-and-connected` in an empty repository: every object any object
// names is in the joined pack), so no connectivity walk is needed afterwards.
//
// Joining is byte-level: each layer's 12-byte header and 20-byte trailer are dropped and one
// header (the sum of the counts) and one trailer (SHA-1 of the joined bytes) are written. A layer
// is never thin and its offset deltas point back within itself, so they stay valid. The trailers
// dropped are not checked: each layer's archive is authenticated (AEAD, SHA-256 against its record)
// and index-pack hashes every object it reads.
import { createHash } from "node:crypto";
import { PassThrough, type Readable } from "node:stream";
import type { Deps } from "../deps.js";
import { drained } from "../drained.js";
import { ArchiveCorruptError, GitError } from "../errors.js";
import { indexPack } from "../git/local-repo.js";
import type { OidSet } from "../git/oid-set.js";
import type { Layer } from "../model.js";
import { readLayerOids, readLayerPack } from "./archive-read.js";

const HEADER_BYTES = 12;
const TRAILER_BYTES = 20;

export interface JoinedIndex {
  /** Archive bytes read. */
  bytes: number;
  /** True when index-pack proved every link of every object resolves within the layers. */
  linked: boolean;
}

/**
 * Decrypts `layers` one after another into one `git index-pack --stdin` of the (empty) bare
 * repository `dir`. `onFile` gets each layer's other files (its LFS objects). Links are checked
 * when the layers hold no object twice (their oids are read first to know): a duplicate would make
 * the checking index-pack refuse the pack, so overlapping layers are indexed without it and
 * `linked` is false (the caller walks the links). Rejects with ArchiveCorruptError naming the layer
 * whose archive or pack is damaged, or the object no layer holds.
 */
export async function indexLayers(
  deps: Pick<Deps, "store" | "keys" | "keyRecords">,
  layers: Layer[],
  dir: string,
  onBytes?: (n: number) => void,
  onFile?: (layer: Layer, path: string, body: Readable) => Promise<void>,
): Promise<JoinedIndex> {
  const linked = layers.length < 2 || !overlap(await Promise.all(layers.map((l) => readLayerOids(deps, l))));
  const total = layers.reduce((sum, l) => sum + l.objects, 0);
  const joined = new PassThrough();
  const sha1 = createHash("sha1");
  /** Where each layer's objects start in the joined pack, to name the layer an offset falls in. */
  const starts: { at: number; layer: Layer }[] = [];
  let written = 0;
  let failed: unknown;
  const indexing = indexPack(dir, joined, { checkLinks: linked }).catch((err: unknown) => {
    failed = err;
  });
  const emit = async (chunk: Buffer, trailer = false) => {
    if (!failed && !joined.destroyed) {
      if (!trailer) sha1.update(chunk);
      written += chunk.length;
      if (joined.write(chunk)) return;
      await drained(joined);
      if (!joined.destroyed) return;
    }
    // index-pack stopped reading: its own error says why.
    await indexing;
    throw failed ?? new GitError("git index-pack stopped reading the layers' pack");
  };
  let bytes = 0;
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    header.write("PACK", 0, "latin1");
    header.writeUInt32BE(2, 4);
    header.writeUInt32BE(total, 8);
    await emit(header);
    for (const layer of layers) {
      starts.push({ at: written, layer });
      bytes += await readLayerPack(
        deps,
        layer,
        (pack) => copyObjects(pack, layer, emit),
        onBytes,
        onFile && ((path, body) => onFile(layer, path, body)),
      );
    }
    await emit(sha1.digest(), true);
    joined.end();
  } catch (err) {
    joined.destroy();
    await indexing;
    throw err === failed ? named(err, starts) : err;
  }
  await indexing;
  if (failed) throw named(failed, starts);
  return { bytes, linked };
}

/** Forwards one layer's pack without its header and trailer, checking the header against the record. */
async function copyObjects(
  pack: Readable,
  layer: Layer,
  emit: (chunk: Buffer) => Promise<void>,
): Promise<void> {
  let head = Buffer.alloc(0);
  let held = Buffer.alloc(0); // the last bytes seen, which may be the trailer
  for await (const chunk of pack as AsyncIterable<Buffer>) {
    let data = chunk;
    if (head.length < HEADER_BYTES) {
      const need = HEADER_BYTES - head.length;
      head = Buffer.concat([head, data.subarray(0, need)]);
      data = data.subarray(need);
      if (head.length === HEADER_BYTES) checkHeader(head, layer);
    }
    if (data.length >= TRAILER_BYTES) {
      // Chunks pass through uncopied; only the last 20 bytes are held back.
      if (held.length) await emit(held);
      await emit(data.subarray(0, data.length - TRAILER_BYTES));
      held = Buffer.from(data.subarray(data.length - TRAILER_BYTES));
    } else if (data.length) {
      const all = Buffer.concat([held, data]);
      const cut = Math.max(0, all.length - TRAILER_BYTES);
      if (cut) await emit(all.subarray(0, cut));
      held = all.subarray(cut);
    }
  }
  if (head.length < HEADER_BYTES || held.length < TRAILER_BYTES)
    throw new ArchiveCorruptError(`layer ${layer.id}: its pack ends before its header and trailer`);
}

function checkHeader(head: Buffer, layer: Layer): void {
  const version = head.readUInt32BE(4);
  if (head.toString("latin1", 0, 4) !== "PACK" || (version !== 2 && version !== 3))
    throw new ArchiveCorruptError(`layer ${layer.id}: its pack has no pack header`);
  const count = head.readUInt32BE(8);
  if (count !== layer.objects)
    throw new ArchiveCorruptError(
      `layer ${layer.id}: its pack holds ${count} objects, its record ${layer.objects}`,
    );
}

/** Whether any object id is in two of the sets (each sorted); the largest is searched, never walked. */
export function overlap(sets: OidSet[]): boolean {
  const order = [...sets].sort((a, b) => b.size - a.size);
  for (let i = 1; i < order.length; i++) {
    const set = order[i]!;
    for (let at = 0; at < set.bytes.length; at += 20) {
      const oid = set.bytes.subarray(at, at + 20);
      for (let j = 0; j < i; j++) if (order[j]!.has(oid)) return true;
    }
  }
  return false;
}

/** index-pack's failure, as damage when it is (naming the layer of an offset, or the missing object). */
function named(err: unknown, starts: { at: number; layer: Layer }[]): unknown {
  if (!(err instanceof GitError)) return err;
  const missing = /did not receive expected object ([0-9a-f]{40})/.exec(err.message);
  if (missing)
    return new ArchiveCorruptError(
      `object ${missing[1]} is named by an object of the snapshot's layers and is in none of them (${starts.map((s) => s.layer.id).join(", ")})`,
      { cause: err },
    );
  const offset = /offset (\d+)/.exec(err.message);
  if (offset) {
    const layer = [...starts].reverse().find((s) => s.at <= Number(offset[1]))?.layer;
    if (layer) return new ArchiveCorruptError(`layer ${layer.id}: ${err.message}`, { cause: err });
  }
  return err;
}
