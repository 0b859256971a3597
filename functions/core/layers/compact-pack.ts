// The pack side of a merge or a fold: the sorted union of layers' object ids, `git pack-objects`
// over exactly a set of them, and the LFS objects gathered in a scratch repository as archive files.
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import type { ArchiveFile } from "../archive/writer.js";
import { startGit } from "../git/exec.js";
import { OID_BYTES, OidSet } from "../git/oid-set.js";
import { lfsObjectPath, lfsStoreFile } from "../lfs/paths.js";

/** The LFS objects gathered in the merge's scratch repository, as archive files. */
export async function* lfsFiles(repo: string, oids: readonly string[]): AsyncGenerator<ArchiveFile> {
  for (const oid of oids)
    yield { path: lfsObjectPath(oid), open: () => createReadStream(lfsStoreFile(repo, oid)) };
}

/** Sorted, distinct union of sorted sets: a merge of the inputs, 20 bytes an object. */
export function unionOf(sets: readonly OidSet[]): OidSet {
  let out = Buffer.alloc(sets.reduce((sum, set) => sum + set.bytes.length, 0));
  let used = 0;
  const at = sets.map(() => 0);
  for (;;) {
    let pick = -1;
    for (const [i, set] of sets.entries()) {
      if (at[i]! >= set.bytes.length) continue;
      if (
        pick < 0 ||
        set.bytes.compare(sets[pick]!.bytes, at[pick]!, at[pick]! + OID_BYTES, at[i]!, at[i]! + OID_BYTES) < 0
      ) {
        pick = i;
      }
    }
    if (pick < 0) break;
    const start = at[pick]!;
    const oid = sets[pick]!.bytes.subarray(start, start + OID_BYTES);
    if (used === 0 || oid.compare(out, used - OID_BYTES, used) !== 0) {
      oid.copy(out, used);
      used += OID_BYTES;
    }
    at[pick] = start + OID_BYTES;
  }
  out = out.subarray(0, used);
  return OidSet.fromBytes(out, "union of layer oids");
}

/** `git pack-objects --stdout` over exactly `oids` (a whole pack: deltas only against its own objects). */
export function packObjects(repo: string, oids: OidSet): { stream: Readable; done: Promise<void> } {
  const run = startGit(["pack-objects", "--stdout", "--quiet", "--delta-base-offset"], {
    env: { GIT_DIR: repo },
    stdin: "pipe",
  });
  const stdin = run.child.stdin!;
  stdin.on("error", () => undefined); // git's own exit says what went wrong
  void (async () => {
    const lines: string[] = [];
    for (let i = 0; i < oids.size; i++) {
      lines.push(oids.at(i));
      if (lines.length === 4096 || i === oids.size - 1) {
        if (!stdin.write(`${lines.join("\n")}\n`)) await new Promise((r) => stdin.once("drain", r));
        lines.length = 0;
      }
    }
    stdin.end();
  })();
  run.done.catch(() => undefined);
  return { stream: run.child.stdout!, done: run.done };
}
