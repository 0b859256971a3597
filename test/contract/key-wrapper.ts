// The KeyWrapper contract (functions/core/ports.ts), as one suite every adapter runs. Errors
// must name the keyRef and never carry key bytes.
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KeyError } from "../../functions/core/errors.js";
import type { KeyWrapper, WrappedKey } from "../../functions/core/ports.js";

export interface KeyWrapperFixture {
  wrapper: KeyWrapper;
  /** Rotates the key-encryption key, if the adapter can; the suite then checks old wraps. */
  rotate?: () => Promise<void>;
  /** A keyRef the wrapper cannot know; defaults to the primary keyRef with "9" appended. */
  unknownKeyRef?: string;
  cleanup(): Promise<void>;
}

/** Every spelling of the secret that could leak into a message. */
function spellings(secret: Buffer): string[] {
  return [secret.toString("hex"), secret.toString("base64"), secret.toString("base64url")];
}

async function keyErrorOf(promise: Promise<unknown>): Promise<KeyError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KeyError);
  return err as KeyError;
}

function expectNoSecret(err: Error, ...secrets: Buffer[]): void {
  const text = `${err.message} ${String(err.stack)}`;
  for (const secret of secrets)
    for (const spelling of spellings(secret)) expect(text).not.toContain(spelling);
}

export function keyWrapperContract(name: string, factory: () => Promise<KeyWrapperFixture>): void {
  describe(`KeyWrapper contract: ${name}`, () => {
    let fixture: KeyWrapperFixture;
    let wrapper: KeyWrapper;
    beforeEach(async () => {
      fixture = await factory();
      wrapper = fixture.wrapper;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it("round-trips a data key", async () => {
      const dataKey = randomBytes(32);
      const wrapped = await wrapper.wrap(dataKey);
      expect(wrapped.keyRef).toMatch(/\S/);
      expect(wrapped.wrapped.equals(dataKey)).toBe(false);
      expect(wrapped.wrapped.includes(dataKey)).toBe(false);
      expect((await wrapper.unwrap(wrapped)).equals(dataKey)).toBe(true);
    });

    it("wraps the same data key differently each time", async () => {
      const dataKey = randomBytes(32);
      const a = await wrapper.wrap(dataKey);
      const b = await wrapper.wrap(dataKey);
      expect(a.wrapped.equals(b.wrapped)).toBe(false);
      expect((await wrapper.unwrap(a)).equals(dataKey)).toBe(true);
      expect((await wrapper.unwrap(b)).equals(dataKey)).toBe(true);
    });

    it("rejects a data key that is not 32 bytes with KeyError", async () => {
      await keyErrorOf(wrapper.wrap(randomBytes(16)));
    });

    it("refuses tampered bytes with a KeyError that names the keyRef and leaks no key", async () => {
      const dataKey = randomBytes(32);
      const good = await wrapper.wrap(dataKey);
      const flips = [0, 1, Math.floor(good.wrapped.length / 2), good.wrapped.length - 1];
      const damaged: Buffer[] = flips.map((at) => {
        const copy = Buffer.from(good.wrapped);
        copy[at] = (copy[at] ?? 0) ^ 0x01;
        return copy;
      });
      damaged.push(good.wrapped.subarray(0, good.wrapped.length - 1), Buffer.alloc(0));
      for (const wrapped of damaged) {
        const err = await keyErrorOf(wrapper.unwrap({ keyRef: good.keyRef, wrapped }));
        expect(err.message).toContain(good.keyRef);
        expectNoSecret(err, dataKey);
      }
    });

    it("refuses an unknown keyRef with a KeyError that names it", async () => {
      const good = await wrapper.wrap(randomBytes(32));
      const unknown = fixture.unknownKeyRef ?? `${good.keyRef}9`;
      const err = await keyErrorOf(wrapper.unwrap({ keyRef: unknown, wrapped: good.wrapped }));
      expect(err.message).toContain(unknown);
    });

    it("after rotation, unwraps keys wrapped before and wraps under a new keyRef", async (ctx) => {
      if (fixture.rotate === undefined) return ctx.skip();
      const before = randomBytes(32);
      const old: WrappedKey = await wrapper.wrap(before);
      await fixture.rotate();
      const after = randomBytes(32);
      const fresh = await wrapper.wrap(after);
      expect(fresh.keyRef).not.toBe(old.keyRef);
      expect((await wrapper.unwrap(old)).equals(before)).toBe(true);
      expect((await wrapper.unwrap(fresh)).equals(after)).toBe(true);
      // A wrapped key presented under the other key's ref does not open.
      const swapped = await keyErrorOf(wrapper.unwrap({ keyRef: fresh.keyRef, wrapped: old.wrapped }));
      expect(swapped.message).toContain(fresh.keyRef);
      expectNoSecret(swapped, before, after);
    });
  });
}
