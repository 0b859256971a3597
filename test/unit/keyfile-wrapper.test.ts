// KeyFileWrapper beyond the KeyWrapper contract: the key file itself (creation, modes, schema,
// rotation on disk) and that no error ever quotes key material.
import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KeyFileWrapper } from "../../functions/adapters/local/keyfile-wrapper.js";
import { KeyError } from "../../functions/core/errors.js";
import { ManualClock } from "../contract/snapshot-index.js";

interface KeyFileJson {
  version: number;
  primary: string;
  keys: { id: string; key: string; createdAt: string }[];
}

const posix = process.platform !== "win32";

async function rejection(promise: Promise<unknown>): Promise<KeyError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KeyError);
  return err as KeyError;
}

function validFile(): { json: KeyFileJson; key: Buffer } {
  const key = randomBytes(32);
  const id = createHash("sha256").update(key).digest("hex").slice(0, 16);
  const json = {
    version: 1,
    primary: id,
    keys: [{ id, key: key.toString("base64"), createdAt: "2026-01-01T00:00:00.000Z" }],
  };
  return { json, key };
}

describe("KeyFileWrapper key file", () => {
  let dir: string;
  let file: string;
  const clock = new ManualClock("2026-11-27T10:00:00.000Z");
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "infinity-backup-keys-"));
    file = path.join(dir, "home", "keys", "backup.key");
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  async function writeKeyFile(contents: string, mode = 0o600): Promise<void> {
    await KeyFileWrapper.open(file, { create: true, clock }); // makes the folders
    await writeFile(file, contents, { mode });
    await chmod(file, mode);
  }

  it("refuses to invent a key when the file is missing and create is false", async () => {
    const err = await rejection(KeyFileWrapper.open(file, { create: false, clock }));
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/existing archives need it/);
    await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it.runIf(posix)("creates the file 0600 in a 0700 folder, with one primary key", async () => {
    const wrapper = await KeyFileWrapper.open(file, { create: true, clock });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    const json = JSON.parse(await readFile(file, "utf8")) as KeyFileJson;
    expect(json.version).toBe(1);
    expect(json.keys).toHaveLength(1);
    const [entry] = json.keys;
    const key = Buffer.from(entry!.key, "base64");
    expect(key).toHaveLength(32);
    expect(entry!.id).toBe(createHash("sha256").update(key).digest("hex").slice(0, 16));
    expect(entry!.createdAt).toBe("2026-11-27T10:00:00.000Z");
    expect(json.primary).toBe(entry!.id);
    expect(wrapper.keyRef).toBe(`local:${entry!.id}`);
  });

  it("opens an existing file instead of replacing it, even with create set", async () => {
    const first = await KeyFileWrapper.open(file, { create: true, clock });
    const wrapped = await first.wrap(randomBytes(32));
    const again = await KeyFileWrapper.open(file, { create: true, clock });
    expect(again.keyRef).toBe(first.keyRef);
    expect(await again.unwrap(wrapped)).toHaveLength(32);
  });

  it("writes wrapped keys as 0x01 || nonce || ciphertext || tag", async () => {
    const wrapper = await KeyFileWrapper.open(file, { create: true, clock });
    const { keyRef, wrapped } = await wrapper.wrap(randomBytes(32));
    expect(keyRef).toMatch(/^local:[0-9a-f]{16}$/);
    expect(wrapped).toHaveLength(1 + 12 + 32 + 16);
    expect(wrapped[0]).toBe(0x01);
  });

  it.runIf(posix)(
    "refuses a file group or others can read, naming the path, the mode and the fix",
    async () => {
      await KeyFileWrapper.open(file, { create: true, clock });
      await chmod(file, 0o640);
      const err = await rejection(KeyFileWrapper.open(file, { clock }));
      expect(err.message).toContain(file);
      expect(err.message).toContain("0640");
      expect(err.message).toContain(`chmod 600 ${file}`);
    },
  );

  it("names the file when it is not JSON, and quotes none of it", async () => {
    const { key } = validFile();
    await writeKeyFile(`{"version":1,"keys":[{"key":"${key.toString("base64")}"`);
    const err = await rejection(KeyFileWrapper.open(file, { clock }));
    expect(err.message).toBe(`key file ${file} is not valid JSON`);
    expect(err.cause).toBeUndefined();
  });

  const broken: [string, (json: KeyFileJson) => unknown, string][] = [
    ["wrong version", (j) => ({ ...j, version: 2 }), "version"],
    ["no primary", ({ primary: _p, ...rest }) => rest, "primary"],
    ["primary names no key", (j) => ({ ...j, primary: "0".repeat(16) }), "primary"],
    [
      "short key",
      (j) => ({ ...j, keys: [{ ...j.keys[0], key: randomBytes(16).toString("base64") }] }),
      "keys[0].key",
    ],
    ["key not base64", (j) => ({ ...j, keys: [{ ...j.keys[0], key: "not base64!" }] }), "keys[0].key"],
    ["id not its key's", (j) => ({ ...j, keys: [{ ...j.keys[0], id: "f".repeat(16) }] }), "keys[0].id"],
    [
      "bad createdAt",
      (j) => ({ ...j, keys: [{ ...j.keys[0], createdAt: "yesterday" }] }),
      "keys[0].createdAt",
    ],
    ["no keys", (j) => ({ ...j, keys: [] }), "keys"],
  ];
  it.each(broken)(
    "names the file and the field when the schema is broken (%s)",
    async (_why, edit, field) => {
      const { json, key } = validFile();
      await writeKeyFile(JSON.stringify(edit(json)));
      const err = await rejection(KeyFileWrapper.open(file, { clock }));
      expect(err.message).toContain(file);
      expect(err.message).toContain(`${field}:`);
      for (const spelling of [key.toString("base64"), key.toString("hex")])
        expect(err.message).not.toContain(spelling);
    },
  );

  it("opens a hand-written valid file", async () => {
    const { json } = validFile();
    await writeKeyFile(JSON.stringify(json));
    const wrapper = await KeyFileWrapper.open(file, { clock });
    expect(wrapper.keyRef).toBe(`local:${json.primary}`);
  });

  it.runIf(posix)("rotates on disk: 0600, old keys kept, new primary, no temp or lock left", async () => {
    const wrapper = await KeyFileWrapper.open(file, { create: true, clock });
    const before = await wrapper.wrap(randomBytes(32));
    clock.advance(1000);
    const newRef = await wrapper.rotate();
    expect(newRef).not.toBe(before.keyRef);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const json = JSON.parse(await readFile(file, "utf8")) as KeyFileJson;
    expect(json.keys.map((k) => `local:${k.id}`)).toEqual([before.keyRef, newRef]);
    expect(json.primary).toBe(newRef.slice("local:".length));
    expect(json.keys[1]?.createdAt).toBe("2026-11-27T10:00:01.000Z");
    expect(await readdir(path.dirname(file))).toEqual(["backup.key"]);
    // A process that opened the file before the rotation still finds the new key.
    const reopened = await KeyFileWrapper.open(file, { clock });
    expect(reopened.keyRef).toBe(newRef);
    expect(await reopened.unwrap(before)).toHaveLength(32);
  });

  it("finds a key another process added by rotating after this one opened the file", async () => {
    const early = await KeyFileWrapper.open(file, { create: true, clock });
    const rotator = await KeyFileWrapper.open(file, { clock });
    await rotator.rotate();
    const dataKey = randomBytes(32);
    const wrapped = await rotator.wrap(dataKey);
    expect((await early.unwrap(wrapped)).equals(dataKey)).toBe(true);
  });

  it("refuses a second rotation while one holds the lock", async () => {
    const wrapper = await KeyFileWrapper.open(file, { create: true, clock });
    await writeFile(`${file}.lock`, "");
    const err = await rejection(wrapper.rotate());
    expect(err.message).toContain(`${file}.lock`);
  });

  it("names the keyRef and the file for an unknown key, and quotes no key material", async () => {
    const wrapper = await KeyFileWrapper.open(file, { create: true, clock });
    const json = JSON.parse(await readFile(file, "utf8")) as KeyFileJson;
    const kek = json.keys[0]!.key;
    const err = await rejection(
      wrapper.unwrap({ keyRef: "local:0000000000000000", wrapped: Buffer.alloc(61) }),
    );
    expect(err.message).toBe(`key local:0000000000000000 is not in ${file}`);
    const good = await wrapper.wrap(randomBytes(32));
    const tampered = Buffer.from(good.wrapped);
    tampered[20] = (tampered[20] ?? 0) ^ 0xff;
    const damaged = await rejection(wrapper.unwrap({ keyRef: good.keyRef, wrapped: tampered }));
    expect(damaged.message).toBe(
      `data key could not be unwrapped with ${good.keyRef} (wrong key or damaged header)`,
    );
    for (const e of [err, damaged]) expect(`${e.message}${String(e.stack)}`).not.toContain(kek);
  });
});
