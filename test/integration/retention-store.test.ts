// Archives no credential can delete early, in both stores: the retention an archive is written
// with, lengthened only, the legal hold, and deletion refused before its time. fake-gcs-server
// stores retention but enforces neither retention nor holds (docs/TESTING.md), so the GCS part
// asserts what the adapter asks of the service, and its reading of the service's refusal.
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { File } from "@google-cloud/storage";
import { afterAll, describe, expect, it, vi } from "vitest";
import { GcsBlobStore, lifecyclePatch } from "../../functions/adapters/gcp/gcs-blob-store.js";
import { FsBlobStore } from "../../functions/adapters/local/fs-blob-store.js";
import { RetainedError, UserInputError } from "../../functions/core/errors.js";
import { retainingStore, retentionOnWrite } from "../../functions/core/retention-lock.js";
import { DEFAULT_RETENTION_POLICY } from "../../functions/core/retention-policy.js";
import { storageClient, uniqueName } from "../helpers/emulators.js";

const body = (text = "archive") => Readable.from([Buffer.from(text)]);
const KEY = "repos/acme/app/2026/01/01/20260101T000000000Z-00c0ffee.ibk";

describe("GcsBlobStore on fake-gcs-server", () => {
  const storage = storageClient();
  const bucket = uniqueName("retained");
  const ready = storage.createBucket(bucket);
  const store = (mode?: "Unlocked" | "Locked") =>
    new GcsBlobStore({ storage, bucket, ...(mode ? { retentionMode: mode } : {}) });
  const raw = async (key: string) => (await storage.bucket(bucket).file(key).getMetadata())[0];

  it("writes an archive with its retention from the first byte, and reads it back", async () => {
    await ready;
    const info = await store().put(KEY, body(), { retainUntil: "2026-01-03T00:00:00Z" });
    expect(info.retainUntil).toBe("2026-01-03T00:00:00.000Z");
    expect((await raw(KEY)).retention).toEqual({ mode: "Unlocked", retainUntilTime: "2026-01-03T00:00:00Z" });
    expect((await store().stat(KEY))?.retainUntil).toBe("2026-01-03T00:00:00.000Z");
    await expect(store().put("repos/x/bad.ibk", body(), { retainUntil: "soon" })).rejects.toBeInstanceOf(
      UserInputError,
    );
  });

  it("lengthens a retention and never sends a shorter one", async () => {
    const key = "repos/acme/app/lengthen.ibk";
    await store().put(key, body(), { retainUntil: "2027-01-01T00:00:00Z" });
    const later = await store().setLifecycle(key, { retainUntil: "2028-01-01T00:00:00Z" });
    expect(later.retainUntil).toBe("2028-01-01T00:00:00.000Z");
    expect((await raw(key)).retention).toEqual({
      mode: "Unlocked",
      retainUntilTime: "2028-01-01T00:00:00Z",
    });
    const before = (await raw(key)).metageneration;
    const earlier = await store().setLifecycle(key, { retainUntil: "2026-06-01T00:00:00Z" });
    expect(earlier.retainUntil).toBe("2028-01-01T00:00:00.000Z");
    expect((await raw(key)).metageneration).toBe(before); // nothing was written
  });

  it("writes Locked when told to (fake-gcs-server then refuses every change, even a longer one)", async () => {
    const key = "repos/acme/app/locked.ibk";
    await store("Locked").put(key, body(), { retainUntil: "2027-01-01T00:00:00Z" });
    expect((await raw(key)).retention?.mode).toBe("Locked");
    // A Locked retention stays Locked when lengthened, whatever the store's own mode.
    const locked = { retention: { mode: "Locked", retainUntilTime: "2027-01-01T00:00:00Z" } };
    expect(lifecyclePatch(locked, -Infinity, "2028-01-01T00:00:00.000Z", undefined, "Unlocked")).toEqual({
      retention: { mode: "Locked", retainUntilTime: "2028-01-01T00:00:00.000Z" },
    });
  });

  it("a refusal to delete (403 on a retained object) is RetainedError naming the date; the object stays", async () => {
    const key = "repos/acme/app/refused.ibk";
    await store().put(key, body(), { retainUntil: "2099-01-01T00:00:00Z" });
    const refused = Object.assign(new Error("Object is under active retention"), { code: 403 });
    const spy = vi.spyOn(File.prototype, "delete").mockRejectedValueOnce(refused);
    try {
      const err = await store()
        .delete(key)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RetainedError);
      expect((err as Error).message).toMatch(/retained until 2099-01-01T00:00:00.000Z; it is not deleted/);
    } finally {
      spy.mockRestore();
    }
    expect(await store().stat(key)).toBeDefined();
  });

  it("the lifecycle patch: customTime and retention only later, the hold set and released", () => {
    const meta = {
      customTime: "2027-01-01T00:00:00Z",
      retention: { mode: "Unlocked", retainUntilTime: "2027-01-01T00:00:00Z" },
      temporaryHold: false,
    };
    const at = (iso: string) => Date.parse(iso);
    expect(
      lifecyclePatch(meta, at("2026-01-01T00:00:00Z"), "2026-01-01T00:00:00.000Z", undefined, "Unlocked"),
    ).toEqual({});
    expect(
      lifecyclePatch(meta, at("2028-01-01T00:00:00Z"), "2028-01-01T00:00:00.000Z", true, "Locked"),
    ).toEqual({
      customTime: "2028-01-01T00:00:00.000Z",
      retention: { mode: "Locked", retainUntilTime: "2028-01-01T00:00:00.000Z" },
      temporaryHold: true,
    });
    expect(lifecyclePatch({ ...meta, temporaryHold: true }, -Infinity, undefined, false, "Unlocked")).toEqual(
      {
        temporaryHold: false,
      },
    );
    expect(lifecyclePatch({ ...meta, temporaryHold: true }, -Infinity, undefined, true, "Unlocked")).toEqual(
      {},
    );
  });
});

describe("FsBlobStore", () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  const open = async () => {
    const dir = await mkdtemp(join(tmpdir(), "ib-retain-"));
    dirs.push(dir);
    let now = new Date("2026-01-01T00:00:00Z");
    const clock = { now: () => now };
    return {
      dir,
      store: new FsBlobStore({ root: dir, clock }),
      set: (iso: string) => (now = new Date(iso)),
      clock,
    };
  };

  it("writes archives as read-only files, retained as the policy's within window promises", async () => {
    const { dir, store, clock } = await open();
    const retaining = retainingStore(store, retentionOnWrite(DEFAULT_RETENTION_POLICY), clock);
    const info = await retaining.put(KEY, body());
    expect(info.retainUntil).toBe("2026-01-03T00:00:00.000Z"); // written + 48h
    expect((await stat(join(dir, ...KEY.split("/")))).mode & 0o777).toBe(0o444);
    // Not an archive (a health probe): no retention.
    expect((await retaining.put("health/probe-1", body())).retainUntil).toBeUndefined();
  });

  it("refuses to delete before the retain-until or while held, and deletes after", async () => {
    const { store, set } = await open();
    await store.put(KEY, body(), { retainUntil: "2026-01-03T00:00:00Z" });
    await expect(store.delete(KEY)).rejects.toThrow(/retained until 2026-01-03T00:00:00.000Z/);
    // Lengthened only.
    await store.setLifecycle(KEY, { retainUntil: "2026-01-02T00:00:00Z" });
    expect((await store.stat(KEY))?.retainUntil).toBe("2026-01-03T00:00:00.000Z");
    set("2026-01-04T00:00:00Z");
    await store.setLifecycle(KEY, { hold: true });
    const held = await store.delete(KEY).catch((e: unknown) => e);
    expect(held).toBeInstanceOf(RetainedError);
    expect((held as Error).message).toMatch(/legal hold/);
    expect(await store.stat(KEY)).toMatchObject({ held: true });
    await store.setLifecycle(KEY, { hold: false });
    await store.delete(KEY);
    expect(await store.stat(KEY)).toBeUndefined();
  });
});
