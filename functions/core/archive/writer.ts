// Writes an archive: header, then tar(files..., manifest.json) through the streaming AEAD.
// One stream with back-pressure from the first git byte to the store; nothing is held whole.
// The per-byte crypto (segments, the archive's SHA-256) runs on this thread unless `cryptoWorker`.
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { encodeHeader, type ArchiveHeader } from "./header.js";
import { MANIFEST_PATH, manifestSchema, type Manifest, type ManifestEntry } from "./manifest.js";
import { cryptoWorker } from "./crypto-worker.js";
import { HashStream } from "./hash-stream.js";
import { EncryptStream } from "./streaming-aead.js";
import { addEntry, addFile } from "./tar-parts.js";
import { PartBuffers } from "./part-buffers.js";
import { holdHeapRoom } from "../heap-room.js";
import { isByteStreamPath } from "./paths.js";

export interface ArchiveFile {
  path: string;
  /** Opened lazily, when the archive reaches this file. */
  open(): Readable | Promise<Readable>;
}

export interface ArchiveInput {
  header: ArchiveHeader;
  dataKey: Buffer;
  manifest: Omit<Manifest, "entries">;
  files: Iterable<ArchiveFile> | AsyncIterable<ArchiveFile>;
  /**
   * Manifest fields known only once every file is written (what a metadata collection found);
   * merged over `manifest`. A rejection fails the archive like a file's error.
   */
  completeManifest?: () => Promise<Partial<Omit<Manifest, "entries">>>;
  /** Called with the count of plaintext file bytes as they pass (for progress). */
  onBytes?: (n: number) => void;
  /**
   * Seal the segments and hash the archive on the crypto worker (crypto-worker.ts). Off by
   * default: on a 2-CPU machine, where git's pack-objects takes one CPU, it measured slower
   * (bench/README.md); the output is the same bytes either way.
   */
  cryptoWorker?: boolean;
}

export interface WrittenArchive {
  /** The archive bytes, to hand to BlobStore.put. Errors in any file surface here. */
  stream: Readable;
  /** Resolves with the manifest once every file has been written into the archive. */
  manifest: Promise<Manifest>;
  /** The SHA-256 (hex) of `stream`'s bytes, once the last of them has been produced. */
  sha256: Promise<string>;
}

export function writeArchive(input: ArchiveInput): WrittenArchive {
  const headerBytes = encodeHeader(input.header);
  const pack = tar.pack();
  const out = new PassThrough();
  let sha256: Promise<string>;
  // Parts of git and LFS files are copied into buffers used again once encrypted; the worker's
  // encryption reports no chunks taken, so there they stay the pieces as they came.
  const buffers = input.cryptoWorker ? undefined : new PartBuffers();
  if (input.cryptoWorker) {
    out.write(headerBytes);
    const worker = cryptoWorker();
    const archiveHash = worker.hash();
    archiveHash.update(headerBytes);
    const encrypt = new EncryptStream(input.dataKey, headerBytes, { worker, outputHash: archiveHash });
    const written = pipeline(pack, encrypt, out);
    written.catch((err) => {
      archiveHash.dispose();
      out.destroy(err);
    });
    sha256 = written.then(async () => (await archiveHash.digest()).toString("hex"));
  } else {
    const hashed = new HashStream();
    hashed.write(headerBytes);
    const written = pipeline(
      pack,
      new EncryptStream(input.dataKey, headerBytes, { onTaken: (chunk) => buffers!.taken(chunk) }),
      hashed,
      out,
    );
    written.catch((err) => out.destroy(err));
    sha256 = written.then(() => hashed.digest());
  }
  sha256.catch(() => undefined); // the same failure reaches the caller through `stream`

  const mtime = new Date(input.manifest.takenAt);
  const manifest = (async () => {
    const entries: ManifestEntry[] = [];
    for await (const file of input.files) {
      const body = await file.open();
      const byteStream = isByteStreamPath(file.path);
      const release = byteStream ? holdHeapRoom() : undefined;
      try {
        entries.push(
          await addFile(pack, file.path, body, mtime, input.onBytes, byteStream ? buffers : undefined),
        );
      } finally {
        release?.();
      }
    }
    const late = input.completeManifest ? await input.completeManifest() : {};
    const full = manifestSchema.parse({ ...input.manifest, ...late, entries });
    await addEntry(pack, MANIFEST_PATH, Buffer.from(JSON.stringify(full, null, 2) + "\n"), mtime);
    pack.finalize();
    return full;
  })();
  manifest.catch((err) => pack.destroy(err));
  return { stream: out, manifest, sha256 };
}
