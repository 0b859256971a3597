// Concurrent restores (issue 10, item 5): two bundle restores to one file, two to files side by
// side, and two folder restores to one path. Partial files are each run's own, so none deletes
// another's; exactly one restore gets a contested target, the other is refused as a conflict
// naming it; what stays is whole and equal to the source, and no partial or scratch is left.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupAll } from "../../functions/core/backup.js";
import { ConflictError } from "../../functions/core/errors.js";
import { restoreRepo, type RestoreTarget } from "../../functions/core/restore.js";
import type { LocalApp as App } from "../../functions/wiring.js";
import { headOf, objectsOf, refsOf, richRepo } from "../helpers/git-repos.js";
import { manualClock, workspace, type TestWorkspace } from "../helpers/local-app.js";

const actor = "test";
let scratch: string;
let source: string;
let ws: TestWorkspace;
let app: App;

const restore = (target: RestoreTarget) => restoreRepo(app, { repo: "acme/app", target }, { actor });

/** Both outcomes of two concurrent restores: the fulfilled ones and the errors. */
async function race(a: RestoreTarget, b: RestoreTarget) {
  const settled = await Promise.allSettled([restore(a), restore(b)]);
  return {
    done: settled.filter((s) => s.status === "fulfilled"),
    errors: settled.flatMap((s) => (s.status === "rejected" ? [s.reason as Error] : [])),
  };
}

/** A bundle file cloned: its refs and objects. */
function cloneOf(bundle: string, name: string): string {
  const clone = join(scratch, name);
  execFileSync("git", ["clone", "--quiet", "--mirror", bundle, clone]);
  return clone;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "ib-races-"));
  source = await richRepo(scratch);
  ws = await workspace({ "acme/app": source });
  app = await ws.open(manualClock());
  const [result] = await backupAll(app, { incremental: false, verify: false }, { actor });
  expect(result!.error).toBeUndefined();
}, 60_000);

afterAll(async () => {
  await app?.close();
  await ws?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

describe("two restores at once", () => {
  it("to one bundle file: one writes it, the other is a conflict; the file is whole, no partial left", async () => {
    const out = join(scratch, "same");
    await mkdir(out);
    const target = join(out, "app.bundle");
    const { done, errors } = await race(
      { kind: "bundle-file", path: target },
      { kind: "bundle-file", path: target },
    );
    expect(done).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ConflictError);
    expect(errors[0]!.message).toContain(`restore target ${target} already exists`);
    expect(await readdir(out)).toEqual(["app.bundle"]);
    const clone = cloneOf(target, "same.git");
    expect(await refsOf(clone)).toBe(await refsOf(source));
    expect(await objectsOf(clone)).toBe(await objectsOf(source));
  });

  it("to two bundle files in one folder: both written whole, neither partial removed by the other", async () => {
    const out = join(scratch, "side-by-side");
    await mkdir(out);
    const { done, errors } = await race(
      { kind: "bundle-file", path: join(out, "a.bundle") },
      { kind: "bundle-file", path: join(out, "b.bundle") },
    );
    expect(errors).toEqual([]);
    expect(done).toHaveLength(2);
    expect((await readdir(out)).sort()).toEqual(["a.bundle", "b.bundle"]);
    for (const name of ["a", "b"])
      expect(await refsOf(cloneOf(join(out, `${name}.bundle`), `${name}.git`))).toBe(await refsOf(source));
  });

  it("to one folder: one restores it, the other is a conflict; the folder is whole, no scratch left", async () => {
    const out = join(scratch, "folder");
    await mkdir(out);
    const target = join(out, "app.git");
    const { done, errors } = await race({ kind: "path", path: target }, { kind: "path", path: target });
    expect(done).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ConflictError);
    expect(errors[0]!.message).toContain(`restore target ${target} already exists`);
    expect(await readdir(out)).toEqual(["app.git"]);
    expect(await refsOf(target)).toBe(await refsOf(source));
    expect(await objectsOf(target)).toBe(await objectsOf(source));
    expect(await headOf(target)).toBe(await headOf(source));
  });
});
