import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeNewFile } from "../../functions/core/new-file.js";
import { failingAtOnce, settled, withSlowOpen } from "../helpers/slow-open.js";

let dir: string;
beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), "infinity-new-file-"))));
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("writeNewFile", () => {
  it("writes the body into a new file and refuses one that exists", async () => {
    const file = join(dir, "a.partial");
    await writeNewFile(file, Readable.from([Buffer.from("one "), Buffer.from("two")]));
    expect(await readFile(file, "utf8")).toBe("one two");
    await expect(writeNewFile(file, Readable.from([Buffer.from("x")]))).rejects.toThrow(/EEXIST/);
    expect(await readFile(file, "utf8")).toBe("one two");
  });

  it("settles a failure only once the file is closed, so the caller's removal is the last word", async () => {
    // What a restore does with its partial bundle: the body fails, the caller removes the file.
    const file = join(dir, "b.partial");
    await withSlowOpen(100, async () => {
      await expect(writeNewFile(file, failingAtOnce("archive unreadable"))).rejects.toThrow(
        "archive unreadable",
      );
      await rm(file, { force: true });
    });
    await settled(100);
    expect(await readdir(dir)).toEqual([]);
  });
});
