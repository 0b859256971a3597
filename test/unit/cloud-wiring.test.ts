// Each cloud workload starts with exactly the variables it reads: nothing else is required, a
// missing one is named at start, and a port it does not wire cannot be used by accident.
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { requiredEnv, WORKLOAD_PARTS, workloadEnv, type Workload } from "../../functions/config/cloud-env.js";
import { cloudApp } from "../../functions/wiring.js";

const { privateKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs1", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});

const VALUES: Record<string, string> = {
  GOOGLE_CLOUD_PROJECT: "infinity-test",
  BACKUP_LOCATION: "gs://archives",
  RESTORE_BUCKET: "restores",
  KMS_KEY_NAME: "projects/p/locations/l/keyRings/r/cryptoKeys/k",
  FIRESTORE_DATABASE: "(default)",
  SNAPSHOT_TOPIC: "snapshot-requests",
  VERIFY_TOPIC: "verify-requests",
  LARGE_SNAPSHOT_TOPIC: "snapshot-large",
  LARGE_SNAPSHOT_SUBSCRIPTION: "snapshot-large-to-snapshot-job",
  GITHUB_APP_ID: "777",
  GITHUB_APP_PRIVATE_KEY: privateKey,
  GITHUB_WEBHOOK_SECRET: "whsec-test",
  // The URLs a caller-checked function (part "callers") accepts ID tokens for.
  AUTH_AUDIENCES: "https://restorerepo-123456.europe-west1.run.app",
};

const required = (workload: Workload) =>
  Object.fromEntries(requiredEnv(workload).map((name) => [name, VALUES[name]!]));
const workloads = Object.keys(WORKLOAD_PARTS) as Workload[];

describe("cloud wiring per workload", () => {
  it.each(workloads)("%s starts with only its required variables", async (workload) => {
    const app = await cloudApp(workload, required(workload));
    expect(app.settings.backup.backend).toBe("gcp");
  });

  it.each(workloads.flatMap((w) => requiredEnv(w).map((name) => [w, name] as const)))(
    "%s without %s fails at start, naming it",
    async (workload, name) => {
      const env = required(workload);
      delete env[name];
      await expect(cloudApp(workload, env)).rejects.toThrow(
        new RegExp(`environment of ${workload}: ${name}`),
      );
    },
  );

  it("never reads a variable of a part it does not wire, even a malformed one", async () => {
    const env = { ...required("verifySnapshot"), GITHUB_API_URL: "not a url", RESTORE_BUCKET: "BAD NAME" };
    await expect(cloudApp("verifySnapshot", env)).resolves.toBeDefined();
    expect(workloadEnv("verifySnapshot")).not.toContain("GITHUB_APP_PRIVATE_KEY");
  });

  it("using a port the workload does not wire names the part to add", async () => {
    const app = await cloudApp("backupHealth", required("backupHealth"));
    expect(() => app.sources).toThrow(/backupHealth uses sources, which it does not wire: add "github"/);
    expect(() => app.keys).toThrow(/add "keys".*KMS_KEY_NAME/);
    expect(app.index).toBeDefined();
  });

  it("secret values never appear in a start error", async () => {
    const env: Record<string, string> = {
      ...required("sweep"),
      GITHUB_API_URL: `https://x.example/${VALUES.GITHUB_WEBHOOK_SECRET}`,
    };
    env.GITHUB_APP_ID = "";
    const err = await cloudApp("sweep", env).catch((e: unknown) => e as Error);
    expect(String(err)).toMatch(/GITHUB_APP_ID/);
    expect(String(err)).not.toContain(privateKey.split("\n")[1]!);
  });
});
