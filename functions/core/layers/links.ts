// The links of the commits, trees and tags in a repository's object store (commit -> tree and
// parents, tree -> entries, tag -> object), read with `git cat-file --batch` one object at a time:
// only those objects are parsed, blobs are never read, and at most one object is held whole.
// Gitlinks (submodule commits, tree mode 160000) live in another repository and are skipped.
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { createInterface } from "node:readline";
import { ArchiveCorruptError } from "../errors.js";
import { startGit } from "../git/exec.js";

export interface ObjectLink {
  /** The object that links (hex). */
  from: string;
  fromType: "commit" | "tree" | "tag";
  /**
   * The object it names: hex from a commit or tag, the 20 raw bytes from a tree (a view into the
   * tree's body, valid until the next object; hex them to keep or print them).
   */
  to: string | Buffer;
}

const LINKING = new Set(["commit", "tree", "tag"]);

/** Every link of every commit, tree and tag in `repo` (a bare repository), one object's at a time. */
export async function* objectLinks(repo: string): AsyncGenerator<ObjectLink[]> {
  const env = { GIT_DIR: repo };
  const list = startGit(
    ["cat-file", "--batch-all-objects", "--unordered", "--batch-check=%(objecttype) %(objectname)"],
    {
      env,
    },
  );
  const read = startGit(["cat-file", "--batch"], { env, stdin: "pipe" });
  read.child.stdin!.on("error", () => undefined); // a dead reader reports through `done`
  const feeding = pipeline(
    Readable.from(
      (async function* () {
        for await (const line of createInterface({ input: list.child.stdout!, crlfDelay: Infinity })) {
          const [type, oid] = line.split(" ");
          if (LINKING.has(type!)) yield `${oid}\n`;
        }
      })(),
    ),
    read.child.stdin!,
  );
  feeding.catch(() => undefined);
  list.done.catch(() => undefined);
  read.done.catch(() => undefined);
  try {
    // One object at a time: its links go out as one array, not one awaited step each (a tree of
    // git/git names hundreds of objects, and its whole history names tens of millions).
    for await (const object of batchObjects(read.child.stdout! as AsyncIterable<Buffer>)) {
      yield [...linksOf(object.oid, object.type as ObjectLink["fromType"], object.body)];
    }
    await Promise.all([list.done, feeding, read.done]);
  } finally {
    if (read.child.exitCode === null) read.child.kill();
    if (list.child.exitCode === null) list.child.kill();
  }
}

/** `git cat-file --batch` output ("<oid> <type> <size>\n<body>\n" each) as objects. */
async function* batchObjects(
  out: AsyncIterable<Buffer>,
): AsyncGenerator<{ oid: string; type: string; body: Buffer }> {
  let buffer: Buffer = Buffer.alloc(0);
  let header: { oid: string; type: string; size: number } | undefined;
  for await (const chunk of out) {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    for (;;) {
      if (!header) {
        const end = buffer.indexOf(10);
        if (end < 0) break;
        const [oid, type, size] = buffer.toString("latin1", 0, end).split(" ");
        if (type === "missing" || size === undefined)
          throw new ArchiveCorruptError(`git cat-file could not read object ${oid}`);
        header = { oid: oid!, type: type!, size: Number(size) };
        buffer = buffer.subarray(end + 1);
      }
      if (buffer.length < header.size + 1) break;
      yield { oid: header.oid, type: header.type, body: buffer.subarray(0, header.size) };
      buffer = buffer.subarray(header.size + 1);
      header = undefined;
    }
  }
  if (header || buffer.length) throw new ArchiveCorruptError("git cat-file --batch ended inside an object");
}

function* linksOf(from: string, fromType: ObjectLink["fromType"], body: Buffer): Generator<ObjectLink> {
  if (fromType === "tree") {
    let at = 0;
    while (at < body.length) {
      const nul = body.indexOf(0, at);
      if (nul < 0 || nul + 21 > body.length) throw new ArchiveCorruptError(`tree ${from} is truncated`);
      const mode = body.toString("latin1", at, body.indexOf(32, at));
      if (mode !== "160000") yield { from, fromType, to: body.subarray(nul + 1, nul + 21) };
      at = nul + 21;
    }
    return;
  }
  // Commit and tag headers end at the first empty line; only the link lines are read.
  const text = body.toString("latin1", 0, Math.max(0, body.indexOf("\n\n")) || body.length);
  for (const line of text.split("\n")) {
    const [key, oid] = line.split(" ");
    const links = fromType === "commit" ? key === "tree" || key === "parent" : key === "object";
    if (links && oid) yield { from, fromType, to: oid };
  }
}
