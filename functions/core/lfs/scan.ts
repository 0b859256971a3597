// Finds the LFS pointers among the blobs a snapshot's pack carries. The pack is indexed into a
// scratch bare repository as it streams past (the archive gets the same bytes), then git lists its
// small blobs and hands over their contents, one stream into the next: only the pointers' oids are
// kept, never a list of blobs or their bytes. An incremental's pack holds only the objects new to
// its chain, so only new pointers are found.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { startGit } from "../git/exec.js";
import { initBare } from "../git/local-repo.js";
import { makeScratch } from "../scratch.js";
import { MAX_POINTER_BYTES, parseLfsPointer } from "./pointer.js";

export class LfsScan {
  private constructor(
    private readonly scratch: string,
    private readonly gitDir: string,
    /** Receives the pack's bytes (a packfile: "PACK" through its trailer). */
    readonly input: Writable,
    private readonly indexed: Promise<void>,
  ) {}

  /** A scan whose `input` takes the pack. Call `dispose` whatever happens. */
  static async start(): Promise<LfsScan> {
    const scratch = await makeScratch("lfs-scan");
    const gitDir = join(scratch, "scan.git");
    await initBare(gitDir);
    const run = startGit(["index-pack", "--stdin"], { env: { GIT_DIR: gitDir }, stdin: "pipe" });
    run.child.stdout!.resume();
    run.child.stdin!.on("error", () => undefined); // a dead index-pack reports through `done`
    run.done.catch(() => undefined); // awaited by pointers()
    return new LfsScan(scratch, gitDir, run.child.stdin!, run.done);
  }

  /** Once `input` has ended: every LFS pointer among the pack's blobs, by oid (size from the pointer). */
  async pointers(): Promise<Map<string, number>> {
    await this.indexed;
    const found = new Map<string, number>();
    const env = { GIT_DIR: this.gitDir };
    const list = startGit(
      [
        "cat-file",
        "--batch-all-objects",
        "--unordered",
        "--batch-check=%(objecttype) %(objectsize) %(objectname)",
      ],
      { env },
    );
    const read = startGit(["cat-file", "--batch"], { env, stdin: "pipe" });
    read.child.stdin!.on("error", () => undefined); // a dead reader reports through `done`
    const feed = (async () => {
      let rest = "";
      for await (const chunk of list.child.stdout! as AsyncIterable<Buffer>) {
        const lines = (rest + chunk.toString("latin1")).split("\n");
        rest = lines.pop()!;
        const wanted = lines
          .map((line) => line.split(" "))
          .filter(([type, size]) => type === "blob" && Number(size) > 0 && Number(size) < MAX_POINTER_BYTES)
          .map(([, , oid]) => `${oid}\n`)
          .join("");
        if (wanted && !read.child.stdin!.write(wanted)) await drainedOrGone(read.child.stdin!);
      }
      read.child.stdin!.end();
      await list.done;
    })();
    const parse = (async () => {
      // "<oid> blob <size>\n<bytes>\n" per blob; every blob asked for is under 1 KiB.
      let buffer: Buffer = Buffer.alloc(0);
      for await (const chunk of read.child.stdout! as AsyncIterable<Buffer>) {
        buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
        for (;;) {
          const eol = buffer.indexOf(0x0a);
          if (eol < 0) break;
          const size = Number(buffer.subarray(0, eol).toString("latin1").split(" ")[2]);
          if (buffer.length < eol + 1 + size + 1) break;
          const pointer = parseLfsPointer(buffer.subarray(eol + 1, eol + 1 + size));
          if (pointer) found.set(pointer.oid, pointer.size);
          buffer = buffer.subarray(eol + 1 + size + 1);
        }
      }
      await read.done;
    })();
    await Promise.all([feed, parse]);
    return found;
  }

  async dispose(): Promise<void> {
    this.input.destroy();
    await this.indexed.catch(() => undefined);
    await rm(this.scratch, { recursive: true, force: true });
  }
}

/** Resolves once `stream` takes more, or has closed (its process died: `done` says why). */
function drainedOrGone(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.once("drain", done);
    stream.once("close", done);
  });
}
