// KeyWrapper over a local key file, for local mode: AES-256-GCM key-encryption keys kept in a
// JSON file (mode 0600) that must be backed up apart from the archives it opens.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { z } from "zod";
import { KeyError } from "../../core/errors.js";
import { systemClock, type Clock, type KeyWrapper, type WrappedKey } from "../../core/ports.js";

/** Wrapped bytes: FORMAT || nonce (12) || ciphertext (32) || GCM tag (16). */
const FORMAT = 0x01;
const NONCE_BYTES = 12;
const KEY_BYTES = 32;
const TAG_BYTES = 16;
const WRAPPED_BYTES = 1 + NONCE_BYTES + KEY_BYTES + TAG_BYTES;

/** The short id of a key: the first 16 hex digits of its SHA-256 (names it, reveals nothing). */
function keyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 16);
}

const keyFileSchema = z
  .object({
    version: z.literal(1),
    primary: z.string(),
    keys: z
      .array(
        z.object({
          id: z.string().regex(/^[0-9a-f]{16}$/, "must be 16 lowercase hex digits"),
          key: z
            .base64()
            .refine((b64) => Buffer.from(b64, "base64").length === KEY_BYTES, "must be 32 bytes"),
          createdAt: z.iso.datetime({ offset: true }),
        }),
      )
      .min(1, "must hold at least one key"),
  })
  .superRefine((file, ctx) => {
    file.keys.forEach((entry, i) => {
      if (keyId(Buffer.from(entry.key, "base64")) !== entry.id) {
        ctx.addIssue({ code: "custom", path: ["keys", i, "id"], message: "does not match its key" });
      }
    });
    if (!file.keys.some((entry) => entry.id === file.primary)) {
      ctx.addIssue({ code: "custom", path: ["primary"], message: "names no key in keys" });
    }
  });
type KeyFile = z.infer<typeof keyFileSchema>;

export class KeyFileWrapper implements KeyWrapper {
  readonly path: string;
  readonly #clock: Clock;
  /** keyRef ("local:<id>") -> key. Private fields stay out of util.inspect and JSON. */
  #keys = new Map<string, Buffer>();
  #file: KeyFile;

  private constructor(file: string, contents: KeyFile, clock: Clock) {
    this.path = file;
    this.#clock = clock;
    this.#file = contents;
    this.#load(contents);
  }

  /**
   * Opens the key file. A missing file is an error unless `create` is set: a silently new key
   * would leave every existing archive unreadable.
   */
  static async open(
    file: string,
    options: { create?: boolean; clock?: Clock } = {},
  ): Promise<KeyFileWrapper> {
    const clock = options.clock ?? systemClock;
    const existing = await readKeyFile(file);
    if (existing !== undefined) return new KeyFileWrapper(file, existing, clock);
    if (options.create !== true) {
      throw new KeyError(
        `key file ${file} does not exist, and existing archives need it to be decrypted: ` +
          `restore it from your key backup (a new key would not open them)`,
      );
    }
    const contents = addKey({ version: 1, primary: "", keys: [] }, clock);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      await writePrivate(file, contents);
    } catch (err) {
      if (code(err) !== "EEXIST") throw new KeyError(`could not create key file ${file}`, { cause: err });
      // Another process created it first: use theirs, never replace it.
      return KeyFileWrapper.open(file, { clock });
    }
    return new KeyFileWrapper(file, contents, clock);
  }

  /** The keyRef new wraps use. */
  get keyRef(): string {
    return `local:${this.#file.primary}`;
  }

  async wrap(dataKey: Buffer): Promise<WrappedKey> {
    if (!Buffer.isBuffer(dataKey) || dataKey.length !== KEY_BYTES) {
      throw new KeyError(
        `a data key must be ${KEY_BYTES} bytes, got ${Buffer.isBuffer(dataKey) ? dataKey.length : typeof dataKey}`,
      );
    }
    const keyRef = this.keyRef;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#keyFor(keyRef), nonce);
    cipher.setAAD(Buffer.from(keyRef, "utf8")); // a wrapped key moved under another ref fails
    const sealed = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return { keyRef, wrapped: Buffer.concat([Buffer.from([FORMAT]), nonce, sealed, cipher.getAuthTag()]) };
  }

  async unwrap({ keyRef, wrapped }: WrappedKey): Promise<Buffer> {
    if (!this.#keys.has(keyRef)) await this.#reload(); // another process may have rotated
    const key = this.#keyFor(keyRef);
    const refused = (cause?: unknown) =>
      new KeyError(`data key could not be unwrapped with ${keyRef} (wrong key or damaged header)`, {
        cause,
        permanent: true,
      });
    if (!Buffer.isBuffer(wrapped) || wrapped.length !== WRAPPED_BYTES || wrapped[0] !== FORMAT)
      throw refused();
    const nonce = wrapped.subarray(1, 1 + NONCE_BYTES);
    const decipher = createDecipheriv("aes-256-gcm", key, nonce);
    decipher.setAAD(Buffer.from(keyRef, "utf8"));
    decipher.setAuthTag(wrapped.subarray(WRAPPED_BYTES - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(wrapped.subarray(1 + NONCE_BYTES, WRAPPED_BYTES - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch (err) {
      throw refused(err);
    }
  }

  /**
   * Adds a fresh key and makes it primary; keys already in the file stay, so every archive
   * wrapped before still opens. Resolves with the new keyRef.
   */
  async rotate(): Promise<string> {
    const lock = `${this.path}.lock`;
    // One rotation at a time, even across processes: two would each drop the other's new key.
    const held = await fs.open(lock, "wx", 0o600).catch((err: unknown) => {
      throw new KeyError(
        code(err) === "EEXIST"
          ? `key file ${this.path} is being rotated by another process (remove ${lock} if none is running)`
          : `could not lock key file ${this.path} for rotation`,
        { cause: err },
      );
    });
    try {
      const current = (await readKeyFile(this.path)) ?? this.#file;
      const next = addKey(current, this.#clock);
      const tmp = `${this.path}.${randomBytes(6).toString("hex")}.tmp`;
      try {
        await writePrivate(tmp, next);
        await fs.rename(tmp, this.path);
      } catch (err) {
        await fs.rm(tmp, { force: true });
        throw new KeyError(`could not rewrite key file ${this.path}`, { cause: err });
      }
      this.#file = next;
      this.#load(next);
      return this.keyRef;
    } finally {
      await held.close();
      await fs.rm(lock, { force: true });
    }
  }

  #load(contents: KeyFile): void {
    for (const entry of contents.keys) this.#keys.set(`local:${entry.id}`, Buffer.from(entry.key, "base64"));
  }

  async #reload(): Promise<void> {
    const contents = await readKeyFile(this.path).catch(() => undefined);
    if (contents !== undefined) this.#load(contents); // only ever adds keys
  }

  #keyFor(keyRef: string): Buffer {
    const key = this.#keys.get(keyRef);
    if (key === undefined) throw new KeyError(`key ${keyRef} is not in ${this.path}`, { permanent: true });
    return key;
  }
}

function addKey(contents: KeyFile, clock: Clock): KeyFile {
  const key = randomBytes(KEY_BYTES);
  const entry = { id: keyId(key), key: key.toString("base64"), createdAt: clock.now().toISOString() };
  return { version: 1, primary: entry.id, keys: [...contents.keys, entry] };
}

/** The parsed key file, or undefined if there is none. Refuses a file others can read. */
async function readKeyFile(file: string): Promise<KeyFile | undefined> {
  let text: string;
  try {
    const handle = await fs.open(file, "r");
    try {
      const stats = await handle.stat();
      // POSIX modes mean nothing on Windows, which reports 0666 for every file.
      if (process.platform !== "win32" && (stats.mode & 0o077) !== 0) {
        const mode = (stats.mode & 0o777).toString(8).padStart(4, "0");
        throw new KeyError(
          `key file ${file} has mode ${mode}: group and others can read it; run: chmod 600 ${file}`,
        );
      }
      text = await handle.readFile("utf8");
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof KeyError) throw err;
    if (code(err) === "ENOENT") return undefined;
    throw new KeyError(`could not read key file ${file}: ${code(err) ?? "error"}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // No cause and no parser message: both may quote the file's text, that is, key material.
    throw new KeyError(`key file ${file} is not valid JSON`);
  }
  const parsed = keyFileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${fieldName(issue.path)}: ${issue.message}`);
    throw new KeyError(`key file ${file} is invalid: ${problems.join("; ")}`);
  }
  return parsed.data;
}

/** ["keys", 0, "key"] -> "keys[0].key". */
function fieldName(segments: readonly PropertyKey[]): string {
  const name = segments.map((s) => (typeof s === "number" ? `[${s}]` : `.${String(s)}`)).join("");
  return name.replace(/^\./, "") || "(file)";
}

/** Creates `file` (never replaces one), readable by its owner only, and syncs it. */
async function writePrivate(file: string, contents: KeyFile): Promise<void> {
  const handle = await fs.open(file, "wx", 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(contents, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function code(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "code" in err ? String(err.code) : undefined;
}
