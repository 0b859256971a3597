// KeyWrapper on Cloud KMS: data keys are wrapped with Encrypt under the key's primary version and
// unwrapped with Decrypt, with CRC32C checks both ways as Google's data-integrity guidance asks.
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import { CRC32C } from "@google-cloud/storage";
import { KeyError } from "../../core/errors.js";
import type { KeyWrapper, WrappedKey } from "../../core/ports.js";
import { detailOf, grpcCode, isTransientGrpc } from "./errors.js";

const DATA_KEY_BYTES = 32;
/** projects/p/locations/l/keyRings/r/cryptoKeys/k */
const CRYPTO_KEY = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;
/** The same, then /cryptoKeyVersions/n: what a keyRef is. */
const KEY_VERSION =
  /^(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+)\/cryptoKeyVersions\/\d+$/;
/** Rotations seen while wrapping one key before giving up (each needs one more Encrypt). */
const MAX_WRAP_ATTEMPTS = 3;

/** The two calls used; a KeyManagementServiceClient is one. */
export type KmsClient = Pick<KeyManagementServiceClient, "encrypt" | "decrypt">;

export interface KmsKeyWrapperOptions {
  client: KmsClient;
  /** The crypto key (not a version): projects/…/locations/…/keyRings/…/cryptoKeys/…. */
  keyName: string;
  /**
   * Per-call options for the client. By default it retries UNAVAILABLE and DEADLINE_EXCEEDED for
   * up to 60 s; `{ retry: null }` turns that off for a caller that retries on its own.
   */
  callOptions?: { timeout?: number; retry?: null };
}

/**
 * The keyRef is bound to the wrapped bytes as additional authenticated data: a wrapped key shown
 * under another keyRef (a swapped or forged archive header) fails to decrypt, just as it does
 * with the local key file. KMS picks the version from the ciphertext on Decrypt and does not say
 * which it used, so this binding is what makes "unwrapped with keyRef" true.
 */
function boundTo(keyRef: string): Buffer {
  return Buffer.from(`infinity-backup data key v1\n${keyRef}`, "utf8");
}

export class KmsKeyWrapper implements KeyWrapper {
  readonly keyName: string;
  readonly #client: KmsClient;
  readonly #callOptions: KmsKeyWrapperOptions["callOptions"];
  /** The primary version the last Encrypt reported: the keyRef the next wrap expects. */
  #primary: string | undefined;

  constructor(options: KmsKeyWrapperOptions) {
    if (!CRYPTO_KEY.test(options.keyName)) {
      throw new KeyError(`KMS key name ${JSON.stringify(options.keyName)} is not projects/…/cryptoKeys/…`, {
        permanent: true,
      });
    }
    this.keyName = options.keyName;
    this.#client = options.client;
    this.#callOptions = options.callOptions;
  }

  async wrap(dataKey: Buffer): Promise<WrappedKey> {
    if (!Buffer.isBuffer(dataKey) || dataKey.length !== DATA_KEY_BYTES) {
      throw new KeyError(
        `a data key must be ${DATA_KEY_BYTES} bytes, got ${Buffer.isBuffer(dataKey) ? dataKey.length : typeof dataKey}`,
        { permanent: true },
      );
    }
    // The AAD names the version before Encrypt says which version it used: guess the last primary
    // seen, and encrypt again when a rotation made the guess wrong (once per rotation, per process).
    for (let attempt = 1; attempt <= MAX_WRAP_ATTEMPTS; attempt++) {
      const guess = this.#primary ?? `${this.keyName}/cryptoKeyVersions/0`;
      const aad = boundTo(guess);
      const [response] = await this.#call("wrap a data key with", this.keyName, () =>
        this.#client.encrypt(
          {
            name: this.keyName,
            plaintext: dataKey,
            plaintextCrc32c: { value: crc32c(dataKey) },
            additionalAuthenticatedData: aad,
            additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
          },
          this.#callOptions,
        ),
      );
      const ciphertext = Buffer.from(response.ciphertext ?? []);
      const version = response.name ?? "";
      // Data integrity (cloud.google.com/kms/docs/data-integrity-guidelines): the service must
      // confirm it saw our bytes, and the ciphertext must arrive as it left.
      if (
        response.verifiedPlaintextCrc32c !== true ||
        response.verifiedAdditionalAuthenticatedDataCrc32c !== true ||
        int64(response.ciphertextCrc32c?.value) !== crc32c(ciphertext) ||
        KEY_VERSION.exec(version)?.[1] !== this.keyName
      ) {
        throw integrity(`the Encrypt response for ${this.keyName}`);
      }
      this.#primary = version;
      if (version === guess) return { keyRef: version, wrapped: ciphertext };
    }
    throw new KeyError(`the primary version of ${this.keyName} kept changing while a data key was wrapped`);
  }

  async unwrap({ keyRef, wrapped }: WrappedKey): Promise<Buffer> {
    // The crypto key comes from the keyRef, so archives wrapped under an earlier key of the
    // deployment stay readable after it moves to a new one (given decrypt rights on the old).
    const cryptoKey = typeof keyRef === "string" ? KEY_VERSION.exec(keyRef)?.[1] : undefined;
    if (cryptoKey === undefined) {
      throw new KeyError(`keyRef ${JSON.stringify(keyRef)} is not a Cloud KMS key version name`, {
        permanent: true,
      });
    }
    if (!Buffer.isBuffer(wrapped) || wrapped.length === 0) {
      throw new KeyError(`the wrapped data key for ${keyRef} is empty`, { permanent: true });
    }
    const aad = boundTo(keyRef);
    const [response] = await this.#call("unwrap a data key with", keyRef, () =>
      this.#client.decrypt(
        {
          name: cryptoKey,
          ciphertext: wrapped,
          ciphertextCrc32c: { value: crc32c(wrapped) },
          additionalAuthenticatedData: aad,
          additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
        },
        this.#callOptions,
      ),
    );
    const dataKey = Buffer.from(response.plaintext ?? []);
    if (int64(response.plaintextCrc32c?.value) !== crc32c(dataKey)) {
      dataKey.fill(0);
      throw integrity(`the Decrypt response for ${keyRef}`);
    }
    if (dataKey.length !== DATA_KEY_BYTES) {
      dataKey.fill(0);
      throw new KeyError(`what ${keyRef} unwrapped is not a ${DATA_KEY_BYTES}-byte data key`, {
        permanent: true,
      });
    }
    return dataKey;
  }

  /** Runs one KMS call, turning its failure into a KeyError that names the key (never bytes). */
  async #call<T>(what: string, key: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const code = grpcCode(err);
      const refused =
        code === "INVALID_ARGUMENT" && what.startsWith("unwrap")
          ? " (wrong key, wrong keyRef or damaged bytes)"
          : "";
      throw new KeyError(
        `KMS could not ${what} ${key}: ${code ?? "error"}${refused} ${quote(detailOf(err))}`.trim(),
        {
          cause: err,
          permanent: !isTransientGrpc(code),
        },
      );
    }
  }
}

/** A checksum mismatch: the bytes were damaged on the way; another attempt may get them whole. */
function integrity(what: string): KeyError {
  return new KeyError(`${what} failed the CRC32C integrity check; the request may be retried`);
}

function crc32c(data: Buffer): number {
  const crc = new CRC32C();
  crc.update(data);
  return crc.valueOf() >>> 0; // the class keeps a signed 32-bit value; KMS sends it unsigned
}

/** An Int64Value's value as gax hands it over: a number, a string, or a Long. */
function int64(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = Number(typeof value === "object" ? String(value) : value);
  return Number.isFinite(n) ? n : undefined;
}

function quote(detail: string): string {
  return detail ? `(${detail})` : "";
}
