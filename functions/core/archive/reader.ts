// Reads an archive back: header, key, authenticated segments, tar parts reassembled into files,
// and the manifest checked against every byte that was read. Any mismatch is an error.
import { createHash, type Hash } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { ArchiveCorruptError } from "../errors.js";
import { decodeHeader, type ArchiveHeader } from "./header.js";
import { MANIFEST_PATH, manifestSchema, type Manifest } from "./manifest.js";
import { DecryptStream } from "./streaming-aead.js";
import { parsePartName } from "./tar-parts.js";
import { holdHeapRoom } from "../heap-room.js";
import { isByteStreamPath } from "./paths.js";

const MAX_MANIFEST = 16 * 1024 * 1024;

export interface ReadArchiveOptions {
  /** Gives the data key for a header; may reject (wrong key) or check the header first. */
  dataKey(header: ArchiveHeader): Promise<Buffer>;
  /** Receives each file as it is read; must consume `body`. Files with no handler are drained. */
  onFile?(path: string, body: Readable): Promise<void>;
}

export interface ReadArchiveResult {
  header: ArchiveHeader;
  manifest: Manifest;
  /** Plaintext bytes authenticated. */
  plaintextBytes: number;
}

interface OpenFile {
  path: string;
  parts: string[];
  size: number;
  hash: Hash;
  body: PassThrough;
  done: Promise<void>;
  /** Ends the heap's room for a file of raw bytes (core/heap-room.ts). */
  release: () => void;
}

/** Splits the clear-text header off the front of the archive stream. */
async function takeHeader(source: Readable): Promise<{ header: ArchiveHeader; raw: Buffer; rest: Readable }> {
  const iterator = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let buffered = Buffer.alloc(0);
  for (;;) {
    const decoded = decodeHeader(buffered);
    if (decoded) {
      const leftover = buffered.subarray(decoded.raw.length);
      const rest = Readable.from(
        (async function* () {
          if (leftover.length) yield leftover;
          for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
        })(),
        { objectMode: false },
      );
      return { ...decoded, rest };
    }
    const next = await iterator.next();
    if (next.done) throw new ArchiveCorruptError("archive truncated inside its header");
    buffered = Buffer.concat([buffered, next.value]);
  }
}

function write(body: PassThrough, chunk: Buffer): Promise<void> {
  if (body.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      body.off("drain", onDrain);
      body.off("close", onClose);
    };
    const onDrain = () => (cleanup(), resolve());
    const onClose = () => (cleanup(), reject(new Error("file reader stopped before the file ended")));
    body.once("drain", onDrain);
    body.once("close", onClose);
  });
}

export async function readArchive(source: Readable, options: ReadArchiveOptions): Promise<ReadArchiveResult> {
  const { header, raw, rest } = await takeHeader(source);
  const decrypt = new DecryptStream(await options.dataKey(header), raw);
  const extract = tar.extract();
  const piping = pipeline(rest, decrypt, extract);
  piping.catch(() => undefined); // surfaced through the extract iterator below

  const files: OpenFile[] = [];
  let current: OpenFile | undefined;
  let manifest: Manifest | undefined;
  const closeCurrent = () => {
    current?.body.end();
    current?.release();
    current = undefined;
  };
  try {
    // Each entry is a readable of its bytes; typed loosely by @types/tar-stream.
    for await (const entry of extract as AsyncIterable<
      { header: { name: string } } & AsyncIterable<Buffer>
    >) {
      const name = entry.header.name;
      if (manifest)
        throw new ArchiveCorruptError(`entry "${name}" follows ${MANIFEST_PATH}, which must be last`);
      if (name === MANIFEST_PATH) {
        closeCurrent();
        manifest = await readManifest(entry);
        continue;
      }
      const part = parsePartName(name);
      if (!part) throw new ArchiveCorruptError(`unexpected entry "${name}" in archive`);
      if (!current || current.path !== part.path) {
        closeCurrent();
        if (files.some((f) => f.path === part.path)) {
          throw new ArchiveCorruptError(`parts of "${part.path}" are not contiguous`);
        }
        const body = new PassThrough();
        // A handler that returns early leaves the rest of its file to be drained here.
        const done = options.onFile
          ? options.onFile(part.path, body).then(() => void body.resume())
          : (body.resume(), Promise.resolve());
        done.catch(() => undefined); // awaited below; a failure also ends the read
        const release = isByteStreamPath(part.path) ? holdHeapRoom() : () => undefined;
        current = { path: part.path, parts: [], size: 0, hash: createHash("sha256"), body, done, release };
        files.push(current);
      }
      if (part.index !== current.parts.length) {
        throw new ArchiveCorruptError(`"${name}" is out of order: expected part ${current.parts.length}`);
      }
      current.parts.push(name);
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        current.hash.update(chunk);
        current.size += chunk.length;
        await Promise.race([write(current.body, chunk), current.done.then(() => undefined)]);
      }
    }
    await piping;
  } catch (err) {
    for (const file of files) {
      file.body.destroy(err as Error);
      file.release();
    }
    throw err;
  }
  closeCurrent();
  await Promise.all(files.map((f) => f.done));
  if (!manifest) throw new ArchiveCorruptError(`archive has no ${MANIFEST_PATH}`);
  checkManifest(manifest, header, files);
  return { header, manifest, plaintextBytes: decrypt.plaintextBytes };
}

async function readManifest(entry: AsyncIterable<Buffer>): Promise<Manifest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of entry) {
    size += chunk.length;
    if (size > MAX_MANIFEST) throw new ArchiveCorruptError(`${MANIFEST_PATH} exceeds ${MAX_MANIFEST} bytes`);
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (err) {
    throw new ArchiveCorruptError(`${MANIFEST_PATH} is not valid JSON`, { cause: err });
  }
  const result = manifestSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ArchiveCorruptError(`${MANIFEST_PATH} field "${issue.path.join(".")}": ${issue.message}`);
  }
  return result.data;
}

function checkManifest(manifest: Manifest, header: ArchiveHeader, files: OpenFile[]): void {
  if (manifest.snapshotId !== header.snapshotId || manifest.repo !== header.repo) {
    throw new ArchiveCorruptError(
      `manifest is for ${manifest.repo} snapshot ${manifest.snapshotId}, header for ${header.repo} snapshot ${header.snapshotId}`,
    );
  }
  const listed = new Map(manifest.entries.map((e) => [e.path, e]));
  for (const file of files) {
    const entry = listed.get(file.path);
    if (!entry) throw new ArchiveCorruptError(`"${file.path}" is in the archive but not in the manifest`);
    const sha256 = file.hash.digest("hex");
    if (entry.size !== file.size || entry.sha256 !== sha256 || entry.parts.join() !== file.parts.join()) {
      throw new ArchiveCorruptError(
        `"${file.path}" does not match the manifest (size ${file.size} vs ${entry.size}, sha256 ${sha256.slice(0, 12)} vs ${entry.sha256.slice(0, 12)})`,
      );
    }
    listed.delete(file.path);
  }
  const missing = [...listed.keys()];
  if (missing.length)
    throw new ArchiveCorruptError(`manifest lists files missing from the archive: ${missing.join(", ")}`);
}
