// Finds the LFS pointers among the blobs a snapshot's pack carries. The pack is indexed into a
// scratch bare repository as it streams past (the archive gets the same bytes), then every object
// of it is a candidate for pointer-blobs.ts: only the pointers' oids are kept. An incremental's
// pack holds only the objects new to its chain, so only new pointers are found.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { startGit } from "../git/exec.js";
import { initBare } from "../git/local-repo.js";
import { makeScratch } from "../scratch.js";
import { CANDIDATE_FORMAT, readPointers } from "./pointer-blobs.js";
import { drained } from "../drained.js";

export class LfsScan {
  private constructor(
    /** Receives the pack's bytes (a packfile: "PACK" through its trailer). */
    readonly input: LazyPackInput,
  ) {}

  /**
   * A scan whose `input` takes the pack. Nothing is started until the pack's header says it has
   * objects: a snapshot whose refs did not move (its metadata did) gets an empty pack, and the four
   * git processes a scan costs (about a quarter of a second of node's own time, spawning from a
   * large process) would find nothing. Call `dispose` whatever happens.
   */
  static start(): Promise<LfsScan> {
    return Promise.resolve(new LfsScan(new LazyPackInput()));
  }

  /** Once `input` has ended: every LFS pointer among the pack's blobs, by oid (size from the pointer). */
  async pointers(): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    const index = await this.input.index();
    if (!index) return found;
    await index.done;
    const env = { GIT_DIR: index.gitDir };
    const listing = startGit(["cat-file", "--batch-all-objects", "--unordered", CANDIDATE_FORMAT], { env });
    await readPointers(index.gitDir, listing, (pointer) => found.set(pointer.oid, pointer.size));
    return found;
  }

  async dispose(): Promise<void> {
    this.input.destroy();
    const index = await this.input.index().catch(() => undefined);
    if (!index) return;
    await index.done.catch(() => undefined);
    await rm(index.scratch, { recursive: true, force: true });
  }
}

/** The scratch repository a pack with objects is indexed into, and its index-pack's end. */
interface PackIndex {
  scratch: string;
  gitDir: string;
  done: Promise<unknown>;
}

/** A pack's header: "PACK", a version, the object count (4 bytes each, big-endian). */
const PACK_HEADER_BYTES = 12;

/**
 * Takes a pack's bytes; once its header shows objects, starts `git index-pack --stdin` into a
 * scratch bare repository and forwards everything to it. An index-pack that dies is left behind
 * (the rest is swallowed; `index().done` says why), never the writer: the archive gets the bytes.
 */
class LazyPackInput extends Writable {
  constructor() {
    super();
    // A writer whose pack fails (a store refusing the archive) destroys its tee sides with the
    // error, and the writer reports it: unheard here, it would be an uncaught exception.
    this.on("error", () => undefined);
  }

  private head: Buffer[] = [];
  private headBytes = 0;
  private started?: Promise<PackIndex | undefined>;
  private stdin?: Writable;

  /** The index being built, or undefined when the pack had no objects; settles once the header was seen. */
  index(): Promise<PackIndex | undefined> {
    return this.started ?? Promise.resolve(undefined);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.started) return void this.forward(chunk, callback);
    this.head.push(chunk);
    this.headBytes += chunk.length;
    if (this.headBytes < PACK_HEADER_BYTES) return callback();
    const pending = Buffer.concat(this.head);
    this.head = [];
    const objects = pending.subarray(0, 4).toString("latin1") === "PACK" ? pending.readUInt32BE(8) : 1;
    this.started = objects === 0 ? Promise.resolve(undefined) : startIndex(this);
    this.forward(pending, callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    void this.index().then(
      () => {
        this.stdin?.end();
        callback();
      },
      () => callback(),
    );
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    // After a normal end (autoDestroy follows "finish"), stdin was ended in _final and may still be
    // flushing the pack's last bytes: destroying it would cut the pack short (index-pack: "early
    // EOF", seen under load). Only an input abandoned before its end, or failed, tears stdin down.
    if (err || !this.writableFinished) this.stdin?.destroy();
    callback(err);
  }

  /** Sets the index-pack's stdin once it runs. */
  attach(stdin: Writable): void {
    this.stdin = stdin;
    if (this.destroyed) stdin.destroy();
  }

  private forward(chunk: Buffer, callback: (err?: Error | null) => void): void {
    void this.index().then(
      (index) => {
        const stdin = this.stdin;
        if (!index || !stdin || stdin.destroyed || stdin.writableEnded) return callback();
        if (stdin.write(chunk)) return callback();
        drained(stdin).then(() => callback(), callback);
      },
      () => callback(),
    );
  }
}

async function startIndex(input: LazyPackInput): Promise<PackIndex> {
  const scratch = await makeScratch("lfs-scan");
  const gitDir = join(scratch, "scan.git");
  await initBare(gitDir);
  const run = startGit(["index-pack", "--stdin"], { env: { GIT_DIR: gitDir }, stdin: "pipe" });
  run.child.stdout!.resume();
  run.child.stdin!.on("error", () => undefined); // a dead index-pack reports through `done`
  run.done.catch(() => undefined); // awaited by pointers()
  input.attach(run.child.stdin!);
  return { scratch, gitDir, done: run.done };
}
