// LFS objects of a repository on local disk: git-lfs keeps them in the git dir under
// lfs/objects/<aa>/<bb>/<oid> (a bare repository's own folder, or a work tree's .git).
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { LfsLocated, LfsObjectSource } from "./source.js";
import { lfsStoreFile } from "./paths.js";
import type { LfsPointer } from "./pointer.js";

export class LfsLocalStore implements LfsObjectSource {
  readonly batchSize = 100;
  readonly local = true;
  readonly where: string;

  constructor(private readonly repoPath: string) {
    this.where = `the LFS store of ${repoPath}`;
  }

  async locate(pointers: LfsPointer[]): Promise<LfsLocated[]> {
    return Promise.all(pointers.map((pointer) => this.find(pointer)));
  }

  private async find(pointer: LfsPointer): Promise<LfsLocated> {
    for (const gitDir of [this.repoPath, join(this.repoPath, ".git")]) {
      const file = lfsStoreFile(gitDir, pointer.oid);
      const info = await stat(file).catch(() => undefined);
      if (info?.isFile()) return { pointer, open: async () => createReadStream(file) };
    }
    return {
      pointer,
      unavailable: { reason: "not in the source repository's LFS store (lfs/objects)" },
    };
  }
}
