// Rewrites a stored archive the way only a writer bug, or someone holding both the key and the
// index, could: decrypted to its tar, its entries changed, sealed again under the same header and
// data key (so every segment authenticates), and the index record's size and SHA-256 set to the
// new bytes. What is left to notice the change is what the archive says about itself (manifest
// hashes and counts) and what the index says about it. Local data folders only.
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import Database from "better-sqlite3";
import tar from "tar-stream";
import { decodeHeader } from "../../functions/core/archive/header.js";
import { DecryptStream, EncryptStream } from "../../functions/core/archive/streaming-aead.js";
import type { Deps } from "../../functions/core/deps.js";
import type { Snapshot } from "../../functions/core/model.js";
import { archiveDataKey } from "../../functions/core/read-snapshot.js";

/** One tar entry: its name and bytes, in archive order. */
export interface TarEntry {
  name: string;
  bytes: Buffer;
}

async function collect(stream: AsyncIterable<Buffer> | Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function entriesOf(tarBytes: Buffer): Promise<TarEntry[]> {
  const extract = tar.extract();
  Readable.from([tarBytes]).pipe(extract);
  const entries: TarEntry[] = [];
  for await (const entry of extract as AsyncIterable<{ header: { name: string } } & AsyncIterable<Buffer>>)
    entries.push({ name: entry.header.name, bytes: await collect(Readable.from(entry)) });
  return entries;
}

async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  // @types/tar-stream types a pack as its own stream; it is a readable of the tar's bytes.
  const done = collect(pack as unknown as AsyncIterable<Buffer>);
  for (const e of entries)
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: e.name, size: e.bytes.length }, e.bytes, (err) => (err ? reject(err) : resolve())),
    );
  pack.finalize();
  return done;
}

/**
 * Rewrites the archive of `snapshot` in the data folder `dataDir` with `edit`'s entries (it gets
 * them in order and returns the new list), and the index record to match its new bytes.
 */
export async function rewriteArchive(
  deps: Pick<Deps, "keys" | "keyRecords">,
  dataDir: string,
  snapshot: Snapshot,
  edit: (entries: TarEntry[]) => TarEntry[],
): Promise<void> {
  const file = join(dataDir, "archives", snapshot.objectKey);
  const bytes = await readFile(file);
  const { header, raw } = decodeHeader(bytes)!;
  const dataKey = await archiveDataKey(deps, snapshot, header);
  const plain = await collect(
    Readable.from([bytes.subarray(raw.length)]).pipe(new DecryptStream(dataKey, raw)),
  );
  const sealed = await collect(
    Readable.from([await tarOf(edit(await entriesOf(plain)))]).pipe(new EncryptStream(dataKey, raw)),
  );
  const rewritten = Buffer.concat([raw, sealed]);
  await writeFile(file, rewritten);
  const sha256 = createHash("sha256").update(rewritten).digest("hex");
  updateRecord(dataDir, { ...snapshot, size: rewritten.length, sha256 });
}

/** Replaces the index record of `snapshot` (same repo and id) in the data folder's index. */
export function updateRecord(dataDir: string, snapshot: Snapshot): void {
  const db = new Database(join(dataDir, "index.sqlite"));
  try {
    const changed = db
      .prepare("UPDATE snapshots SET record = ? WHERE repo = ? AND id = ?")
      .run(JSON.stringify(snapshot), snapshot.lineage ?? snapshot.repo, snapshot.id).changes;
    if (changed !== 1) throw new Error(`no index record of ${snapshot.repo} ${snapshot.id}`);
  } finally {
    db.close();
  }
}
