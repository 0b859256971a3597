// In-process gRPC stand-in for google.cloud.kms.v1.KeyManagementService, for the real @google-cloud/kms
// client: real AES-256-GCM Encrypt/Decrypt with CRC32C checks, key rotation, and injectable failures.
import { randomBytes } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { KeyManagementServiceClient } from "@google-cloud/kms";
import { crc32c } from "./crc32c.js";
import {
  checkCrc,
  type Int64Wrapper,
  invalidCiphertext,
  open,
  RpcError,
  seal,
  versionOf,
} from "./kms-cipher.js";
import {
  cryptoKeyResource,
  loadKeyManagementService,
  type Version,
  type VersionState,
  versionResource,
} from "./kms-protos.js";

/** Mirrors infra/kms.tf (key ring infinity-backup, key archive-key) in the test project and region. */
export const KMS_TEST_KEY =
  "projects/infinity-test/locations/us-central1/keyRings/infinity-backup/cryptoKeys/archive-key";

type Call = grpc.ServerUnaryCall<Record<string, unknown>, unknown>;
type Done = grpc.sendUnaryData<unknown>;
interface Key {
  versions: Map<number, Version>;
  primary: number;
  created: Date;
}
export interface KmsCall {
  method: string;
  name: string;
  code: grpc.status;
}

export class KmsStandin {
  readonly calls: KmsCall[] = [];
  private readonly keys = new Map<string, Key>();
  private readonly failures: { code: grpc.status; method?: string }[] = [];
  private readonly clients: KeyManagementServiceClient[] = [];

  private constructor(
    private readonly server: grpc.Server,
    readonly port: number,
  ) {}

  static async start(keyNames: string[] = [KMS_TEST_KEY]): Promise<KmsStandin> {
    const service = await loadKeyManagementService();
    const server = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    const standin = new KmsStandin(server, port);
    for (const name of keyNames) standin.addKey(name);
    server.addService(service, standin.handlers());
    return standin;
  }

  /** A real @google-cloud/kms client pointed at this stand-in (closed by close()). */
  client(): KeyManagementServiceClient {
    const c = new KeyManagementServiceClient({
      apiEndpoint: "127.0.0.1",
      port: this.port,
      sslCreds: grpc.credentials.createInsecure(),
    });
    this.clients.push(c);
    return c;
  }

  addKey(name: string): void {
    this.keys.set(name, { versions: new Map(), primary: 0, created: new Date() });
    this.rotate(name);
  }

  /** Adds a key version and makes it primary (what scheduled rotation does); returns its name. */
  rotate(keyName = KMS_TEST_KEY): string {
    const id = this.createVersion(keyName);
    this.key(keyName).primary = id;
    return `${keyName}/cryptoKeyVersions/${id}`;
  }

  setVersionState(versionName: string, state: VersionState): void {
    const [keyName, id] = this.parseVersion(versionName);
    const v = this.key(keyName).versions.get(id);
    if (!v) throw new Error(`no version ${versionName}`);
    v.state = state;
  }

  /** The next `count` calls (of `method`, or of any method) fail with `code`; UNAVAILABLE is retried by the client. */
  failNext(count: number, code: grpc.status = grpc.status.UNAVAILABLE, method?: string): void {
    for (let i = 0; i < count; i++) this.failures.push({ code, ...(method ? { method } : {}) });
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => (this.server.forceShutdown(), resolve()), 2_000);
      this.server.tryShutdown(() => (clearTimeout(timer), resolve()));
    });
  }

  private key(name: string): Key {
    const k = this.keys.get(name);
    if (!k) throw new RpcError(grpc.status.NOT_FOUND, `CryptoKey ${name} not found.`);
    return k;
  }

  private createVersion(keyName: string): number {
    const k = this.key(keyName);
    const id = k.versions.size + 1;
    k.versions.set(id, { id, secret: randomBytes(32), state: "ENABLED" });
    return id;
  }

  private parseVersion(name: string): [string, number] {
    const m = /^(.+\/cryptoKeys\/[^/]+)\/cryptoKeyVersions\/(\d+)$/.exec(name);
    if (!m) throw new RpcError(grpc.status.INVALID_ARGUMENT, `Invalid CryptoKeyVersion name: ${name}`);
    return [m[1]!, Number(m[2])];
  }

  private keyResource(name: string) {
    const k = this.key(name);
    return cryptoKeyResource(name, k.created, k.versions.get(k.primary)!);
  }

  private handlers(): grpc.UntypedServiceImplementation {
    const rpc =
      (method: string, fn: (req: Record<string, unknown>) => unknown) => (call: Call, done: Done) => {
        const req = call.request;
        const name = String(req.name ?? req.parent ?? "");
        try {
          const i = this.failures.findIndex((f) => !f.method || f.method === method);
          if (i >= 0) {
            const { code } = this.failures.splice(i, 1)[0]!;
            throw new RpcError(code, `Injected failure (${grpc.status[code]}) by the KMS stand-in.`);
          }
          const res = fn(req);
          this.calls.push({ method, name, code: grpc.status.OK });
          done(null, res);
        } catch (err) {
          const code = err instanceof RpcError ? err.code : grpc.status.INTERNAL;
          this.calls.push({ method, name, code });
          done({ code, details: (err as Error).message });
        }
      };
    return {
      GetCryptoKey: rpc("GetCryptoKey", (r) => this.keyResource(String(r.name))),
      GetCryptoKeyVersion: rpc("GetCryptoKeyVersion", (r) => {
        const [keyName, id] = this.parseVersion(String(r.name));
        const v = this.key(keyName).versions.get(id);
        if (!v) throw new RpcError(grpc.status.NOT_FOUND, `CryptoKeyVersion ${r.name} not found.`);
        return versionResource(keyName, v);
      }),
      CreateCryptoKeyVersion: rpc("CreateCryptoKeyVersion", (r) => {
        const keyName = String(r.parent);
        return versionResource(keyName, this.key(keyName).versions.get(this.createVersion(keyName))!);
      }),
      UpdateCryptoKeyPrimaryVersion: rpc("UpdateCryptoKeyPrimaryVersion", (r) => {
        const k = this.key(String(r.name));
        const id = Number(r.cryptoKeyVersionId);
        if (k.versions.get(id)?.state !== "ENABLED")
          throw new RpcError(grpc.status.FAILED_PRECONDITION, `Version ${id} is not an enabled version.`);
        k.primary = id;
        return this.keyResource(String(r.name));
      }),
      Encrypt: rpc("Encrypt", (r) => this.encrypt(r)),
      Decrypt: rpc("Decrypt", (r) => this.decrypt(r)),
    };
  }

  private encrypt(r: Record<string, unknown>) {
    const plaintext = (r.plaintext as Buffer | undefined) ?? Buffer.alloc(0);
    const aad = (r.additionalAuthenticatedData as Buffer | undefined) ?? Buffer.alloc(0);
    const verifiedPlaintext = checkCrc("plaintext", plaintext, r.plaintextCrc32c as Int64Wrapper);
    const verifiedAad = checkCrc(
      "additional_authenticated_data",
      aad,
      r.additionalAuthenticatedDataCrc32c as Int64Wrapper,
    );
    const name = String(r.name);
    const [keyName, id] = name.includes("/cryptoKeyVersions/")
      ? this.parseVersion(name)
      : [name, this.key(name).primary];
    const v = this.enabled(keyName, id);
    const ciphertext = seal(v.id, v.secret, plaintext, aad);
    return {
      name: `${keyName}/cryptoKeyVersions/${id}`,
      ciphertext,
      ciphertextCrc32c: { value: crc32c(ciphertext) },
      verifiedPlaintextCrc32c: verifiedPlaintext,
      verifiedAdditionalAuthenticatedDataCrc32c: verifiedAad,
      protectionLevel: "SOFTWARE",
    };
  }

  private decrypt(r: Record<string, unknown>) {
    const ciphertext = (r.ciphertext as Buffer | undefined) ?? Buffer.alloc(0);
    const aad = (r.additionalAuthenticatedData as Buffer | undefined) ?? Buffer.alloc(0);
    checkCrc("ciphertext", ciphertext, r.ciphertextCrc32c as Int64Wrapper);
    checkCrc("additional_authenticated_data", aad, r.additionalAuthenticatedDataCrc32c as Int64Wrapper);
    const keyName = String(r.name);
    const k = this.key(keyName);
    const v = this.enabled(keyName, versionOf(ciphertext), true);
    const plaintext = open(v.secret, ciphertext, aad);
    return {
      plaintext,
      plaintextCrc32c: { value: crc32c(plaintext) },
      usedPrimary: v.id === k.primary,
      protectionLevel: "SOFTWARE",
    };
  }

  /** An enabled version; a version the key never had is NOT_FOUND, or an invalid ciphertext on Decrypt. */
  private enabled(keyName: string, id: number, forDecrypt = false): Version {
    const v = this.key(keyName).versions.get(id);
    if (!v && forDecrypt) throw invalidCiphertext();
    if (!v) throw new RpcError(grpc.status.NOT_FOUND, `${keyName}/cryptoKeyVersions/${id} not found.`);
    if (v.state !== "ENABLED") {
      throw new RpcError(
        grpc.status.FAILED_PRECONDITION,
        `${keyName}/cryptoKeyVersions/${id} is not enabled.`,
      );
    }
    return v;
  }
}

/** Starts a stand-in for this test file and exports INFINITY_TEST_KMS_PORT for code that reads it. */
export async function startKmsStandin(keyNames?: string[]): Promise<KmsStandin> {
  const standin = await KmsStandin.start(keyNames);
  process.env.INFINITY_TEST_KMS_PORT = String(standin.port);
  return standin;
}
