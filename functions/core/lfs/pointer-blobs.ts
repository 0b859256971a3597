// Finds the LFS pointers among a repository's blobs: a listing names candidate objects, `git
// cat-file --batch` hands over the bytes of each blob small enough to be a pointer, and
// parseLfsPointer decides. One stream into the next: only the pointers found are kept, never a
// list of blobs or their bytes. The snapshot's scan lists every object of a pack (scan.ts); a
// drill lists the blobs reachable from a restored repository's refs (reachablePointers).
import { startGit, type GitRun } from "../git/exec.js";
import { drained } from "../drained.js";
import { MAX_POINTER_BYTES, parseLfsPointer, type LfsPointer } from "./pointer.js";

/** A pointer as found in git: what it names, its blob, and a path it is at when the listing says. */
export interface FoundPointer extends LfsPointer {
  blob: string;
  path?: string;
}

/** The listing's line format: a `git cat-file --batch-check` of candidates ("%(rest)": a path). */
export const CANDIDATE_FORMAT = "--batch-check=%(objecttype) %(objectsize) %(objectname) %(rest)";

/**
 * Every pointer among the blobs `listing` names (a git whose stdout is CANDIDATE_FORMAT lines), read
 * from the repository at `gitDir`, each handed to `onPointer` as it is found. Lines git could not
 * resolve ("<name> missing") are not blobs and are passed over.
 */
export async function readPointers(
  gitDir: string,
  listing: GitRun,
  onPointer: (pointer: FoundPointer) => void,
): Promise<void> {
  const read = startGit(["cat-file", "--batch=%(objectsize) %(objectname) %(rest)"], {
    env: { GIT_DIR: gitDir },
    stdin: "pipe",
  });
  read.child.stdin!.on("error", () => undefined); // a dead reader reports through `done`
  const feed = (async () => {
    let rest = "";
    for await (const chunk of listing.child.stdout! as AsyncIterable<Buffer>) {
      const lines = (rest + chunk.toString("latin1")).split("\n");
      rest = lines.pop()!;
      const wanted = lines
        .map((line) => line.split(" "))
        .filter(([type, size]) => type === "blob" && Number(size) > 0 && Number(size) < MAX_POINTER_BYTES)
        .map(([, , oid, ...path]) => `${[oid, ...path].join(" ").trimEnd()}\n`)
        .join("");
      if (wanted && !read.child.stdin!.write(wanted, "latin1")) await drained(read.child.stdin!);
    }
    read.child.stdin!.end();
    await listing.done;
  })();
  const parse = (async () => {
    // "<size> <blob>[ <path>]\n<bytes>\n" per blob; every blob asked for is under 1 KiB.
    let buffer: Buffer = Buffer.alloc(0);
    for await (const chunk of read.child.stdout! as AsyncIterable<Buffer>) {
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      for (;;) {
        const eol = buffer.indexOf(0x0a);
        if (eol < 0) break;
        const [size, blob, ...rest] = buffer.subarray(0, eol).toString("utf8").split(" ");
        const end = eol + 1 + Number(size);
        if (buffer.length < end + 1) break;
        const pointer = parseLfsPointer(buffer.subarray(eol + 1, end));
        const path = rest.join(" ");
        if (pointer) onPointer({ ...pointer, blob: blob!, ...(path ? { path } : {}) });
        buffer = buffer.subarray(end + 1);
      }
    }
    await read.done;
  })();
  try {
    await Promise.all([feed, parse]);
  } finally {
    read.child.kill(); // after a failure, nothing is left waiting on a pipe; a no-op once it exited
    listing.child.kill();
  }
}

/**
 * Every pointer among all the blobs the repository at `gitDir` holds, reachable or not, without
 * paths: one listing of the object store, with no walk of the history (git/git: about 1.4 s
 * against 10 s for reachablePointers' walk).
 */
export async function storedPointers(
  gitDir: string,
  onPointer: (pointer: FoundPointer) => void,
): Promise<void> {
  const listing = startGit(["cat-file", "--batch-all-objects", "--unordered", CANDIDATE_FORMAT], {
    env: { GIT_DIR: gitDir },
  });
  await readPointers(gitDir, listing, onPointer);
}

/**
 * Every pointer among the blobs reachable from the refs (and HEAD) of the repository at `gitDir`,
 * with a path it is at. `rev-list --filter` leaves blobs too big to be a pointer out of the walk.
 */
export async function reachablePointers(
  gitDir: string,
  onPointer: (pointer: FoundPointer) => void,
): Promise<void> {
  const env = { GIT_DIR: gitDir };
  const walk = startGit(["rev-list", "--objects", "--all", `--filter=blob:limit=${MAX_POINTER_BYTES}`], {
    env,
  });
  const listing = startGit(["cat-file", CANDIDATE_FORMAT], { env, stdin: "pipe" });
  listing.child.stdin!.on("error", () => undefined); // a dead listing reports through `done`
  walk.child.stdout!.pipe(listing.child.stdin!);
  try {
    await Promise.all([walk.done, readPointers(gitDir, listing, onPointer)]);
  } finally {
    walk.child.kill();
  }
}
