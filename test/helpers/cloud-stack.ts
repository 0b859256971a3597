// The whole cloud deployment, locally: GitHub stand-in + git smart-HTTP server, Pub/Sub and
// Firestore emulators, fake-gcs-server, the KMS stand-in, and our functions served by the
// Functions Framework. Pub/Sub push is played by `pump`, which pulls from the emulator and
// POSTs the push envelope to the function, acking on 2xx and nacking otherwise.
import { createHmac, generateKeyPairSync, randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import { Firestore } from "@google-cloud/firestore";
import { v1, type PubSub } from "@google-cloud/pubsub";
import * as grpc from "@grpc/grpc-js";
import { FUNCTION_NAMES, memoizedApps, registerFunctions } from "../../functions/register.js";
import type { Workload } from "../../functions/config/cloud-env.js";
import { deployedEnv, loadInfra } from "../infra/terraform-model.js";
import { cloudApp, type CloudApp, type CloudOverrides } from "../../functions/wiring.js";
import {
  emulators,
  pubsubClient,
  startKmsStandin,
  storageClient,
  uniqueName,
  KMS_TEST_KEY,
  type KmsStandin,
} from "./emulators.js";
import { startGitHttpServer, type GitHttpServer } from "./git-http-server.js";
import { startOidcIssuer } from "./oidc-issuer.js";
import { startGitHubStandin, type GitHubStandin } from "./github-standin.js";

export const TOPICS = [
  "snapshot-requests",
  "verify-requests",
  "snapshot-large",
  "prune-requests",
  "restore-requests",
] as const;
export type TopicKey = (typeof TOPICS)[number];
export const WEBHOOK_SECRET = `whsec-${randomBytes(8).toString("hex")}`;
export const SMTP_PASSWORD = `smtp-${randomBytes(8).toString("hex")}`;
const INFRA_DIR = fileURLToPath(new URL("../../infra", import.meta.url));
/** The deployment's optional variables the stack sets: GitHub's API and git hosts are the stand-ins. */
const TF_VARS = { github_api_url: "https://ghe.example/api/v3", github_git_url: "https://ghe.example" };
/** The audience restoreRepo's callers mint their ID tokens for (the deployment's function URL). */
export const RESTORE_AUDIENCE = "https://restorerepo-123456.europe-west1.run.app";
/** Members of the roles in the stack; each gets a token from the stack's own issuer. */
export const PEOPLE = {
  restorer: "restorer@example.com",
  operator: "operator@example.com",
  admin: "admin@example.com",
} as const;

export interface CloudStack {
  root: string;
  git: GitHttpServer;
  github: GitHubStandin;
  kms: KmsStandin;
  pubsub: PubSub;
  env: NodeJS.ProcessEnv;
  overrides: CloudOverrides;
  /** The app a workload is started with (restoreRepo's by default: index, store, keys, GitHub). */
  app(workload?: Workload): Promise<CloudApp>;
  /** Exactly the environment a workload is started with. */
  envOf(workload: Workload): NodeJS.ProcessEnv;
  topic: Record<TopicKey, string>;
  subscription: Record<TopicKey, string>;
  /** Each topic's dead-letter topic; its drain subscription is `<dead-letter topic>-drain`. */
  deadLetter: Record<TopicKey, string>;
  /** Base URL of each registered function. */
  url(fn: string): string;
  /** Delivers what is waiting on a topic's subscription to the function; returns the HTTP statuses. */
  pump(topic: TopicKey, fn: string): Promise<number[]>;
  /** Sends one message straight to a function as a Pub/Sub push would. */
  push(fn: string, data: unknown, messageId?: string): Promise<Response>;
  /** A signed webhook delivery for `repo` (a push, or another event such as issue_comment). */
  signedPush(repo: string, event?: string): Promise<Response>;
  /** A valid ID token for `email` from the stack's issuer, minted for restoreRepo. */
  idToken(email: string, claims?: Record<string, unknown>): string;
  /** Headers of a restoreRepo call by a member of the restorer role. */
  asRestorer(): Record<string, string>;
  close(): Promise<void>;
}

export async function startCloudStack(): Promise<CloudStack> {
  const { projectId, pubsubHost } = emulators();
  const root = await mkdtemp(join(tmpdir(), "infinity-cloud-"));
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  const appId = 777;
  // The git server asks the GitHub stand-in (started next, with the git server's URL) about tokens.
  const standin: { github?: GitHubStandin } = {};
  const git = await startGitHttpServer({
    root,
    checkPassword: (password, repo) => standin.github?.canRead(password, repo) ?? false,
  });
  const github = (standin.github = await startGitHubStandin({
    appId,
    publicKey,
    gitUrl: git.url,
    gitRoot: root,
  }));
  github.install("acme");
  const kms = await startKmsStandin();
  const pubsub = pubsubClient();
  const topic = Object.fromEntries(TOPICS.map((t) => [t, uniqueName(t)])) as Record<TopicKey, string>;
  const subscription = Object.fromEntries(TOPICS.map((t) => [t, `${topic[t]}-sub`])) as Record<
    TopicKey,
    string
  >;
  for (const t of TOPICS) {
    const [created] = await pubsub.createTopic(topic[t]);
    await created.createSubscription(subscription[t], { ackDeadlineSeconds: 60 });
  }
  // The dead-letter topics and their drains, as pubsub.tf declares them (backupHealth counts them).
  const deadLetter = Object.fromEntries(TOPICS.map((t) => [t, `${topic[t]}-dead-letter`])) as Record<
    TopicKey,
    string
  >;
  for (const t of TOPICS) {
    const [created] = await pubsub.createTopic(deadLetter[t]);
    await created.createSubscription(`${deadLetter[t]}-drain`, { ackDeadlineSeconds: 60 });
  }
  // Callers of restoreRepo prove who they are with ID tokens from this issuer (wiring: idTokens).
  const issuer = await startOidcIssuer();
  const idToken = (email: string, claims: Record<string, unknown> = {}) =>
    issuer.token({ sub: `sub-${email}`, aud: RESTORE_AUDIENCE, email, email_verified: true, ...claims });
  const storage = storageClient();
  const archives = uniqueName("archives");
  const restores = uniqueName("restores");
  await storage.createBucket(archives);
  await storage.createBucket(restores);
  const env: NodeJS.ProcessEnv = {
    GOOGLE_CLOUD_PROJECT: projectId,
    BACKUP_LOCATION: `gs://${archives}`,
    RESTORE_BUCKET: restores,
    KMS_KEY_NAME: KMS_TEST_KEY,
    SNAPSHOT_TOPIC: topic["snapshot-requests"],
    VERIFY_TOPIC: topic["verify-requests"],
    LARGE_SNAPSHOT_TOPIC: topic["snapshot-large"],
    PRUNE_TOPIC: topic["prune-requests"],
    LARGE_SNAPSHOT_SUBSCRIPTION: subscription["snapshot-large"],
    RESTORE_TOPIC: topic["restore-requests"],
    VERIFY_BACKUPS: "true",
    GITHUB_ORG: "acme",
    GITHUB_APP_ID: String(appId),
    GITHUB_APP_PRIVATE_KEY: privateKey,
    GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
    SMTP_PASSWORD: SMTP_PASSWORD,
    DEAD_LETTER_SUBSCRIPTIONS: TOPICS.map((t) => `${deadLetter[t]}-drain`).join(","),
    GITHUB_API_URL: github.url,
    GITHUB_GIT_URL: git.url,
    FIRESTORE_DATABASE: "(default)", // the client comes from the overrides, on the emulator
    ARCHIVE_RETENTION_MODE: "Unlocked",
    ROLE_OPERATOR_MEMBERS: `user:${PEOPLE.operator}`,
    ROLE_RESTORER_MEMBERS: `user:${PEOPLE.restorer}`,
    ROLE_AUDITOR_MEMBERS: "",
    ROLE_ADMIN_MEMBERS: `user:${PEOPLE.admin}`,
    AUTH_AUDIENCES: RESTORE_AUDIENCE,
  };
  // Each workload is started with exactly the variables Terraform gives it (plain and secret), as
  // deployed with the GitHub API and git URLs set (the stand-ins'); values are the test stack's.
  const infra = await loadInfra(INFRA_DIR);
  const envOf = (workload: Workload): NodeJS.ProcessEnv => {
    const deployed = deployedEnv(infra, workload, TF_VARS);
    const names = [...Object.keys(deployed.plain), ...deployed.secrets];
    const missing = names.filter((n) => env[n] === undefined);
    if (missing.length)
      throw new Error(`the test stack has no value for ${missing.join(", ")} (${workload})`);
    return Object.fromEntries(names.map((n) => [n, env[n]]));
  };
  const overrides: CloudOverrides = {
    storage,
    // Its own emulator project: nothing another test file writes is seen here.
    firestore: new Firestore({ projectId: uniqueName("e2e") }),
    kms: kms.client(),
    pubsub,
    idTokens: { jwksUrl: issuer.jwksUrl, issuers: [issuer.issuer] },
  };
  const appFor = memoizedApps((fn) => cloudApp(fn, envOf(fn), overrides));
  registerFunctions(appFor);
  const apps = new Map<Workload, Promise<CloudApp>>();
  const getApp = (workload: Workload = "restoreRepo") => {
    if (!apps.has(workload)) apps.set(workload, cloudApp(workload, envOf(workload), overrides));
    return apps.get(workload)!;
  };
  const servers = new Map<string, Server>();
  for (const fn of FUNCTION_NAMES) {
    const server = getTestServer(fn);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.set(fn, server);
  }
  const url = (fn: string) => `http://127.0.0.1:${(servers.get(fn)!.address() as AddressInfo).port}/`;
  const [host, port] = pubsubHost.split(":");
  const subscriber = new v1.SubscriberClient({
    servicePath: host,
    port: Number(port),
    sslCreds: grpc.credentials.createInsecure(),
  });
  const subPath = (t: TopicKey) => `projects/${projectId}/subscriptions/${subscription[t]}`;

  const push = (fn: string, data: unknown, messageId = randomBytes(6).toString("hex")) =>
    fetch(url(fn), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        message: { data: Buffer.from(JSON.stringify(data)).toString("base64"), messageId, attributes: {} },
        subscription: `projects/${projectId}/subscriptions/test`,
      }),
    });

  return {
    root,
    git,
    github,
    kms,
    pubsub,
    env,
    envOf,
    overrides,
    app: getApp,
    topic,
    subscription,
    deadLetter,
    url,
    push,
    async pump(t, fn) {
      const statuses: number[] = [];
      for (;;) {
        const [response] = await subscriber.pull({
          subscription: subPath(t),
          maxMessages: 50,
          returnImmediately: true,
        });
        const received = response.receivedMessages ?? [];
        if (!received.length) return statuses;
        for (const r of received) {
          const data = JSON.parse(Buffer.from(r.message!.data as Uint8Array).toString("utf8"));
          const res = await push(fn, data, r.message!.messageId!);
          statuses.push(res.status);
          await res.arrayBuffer();
          if (res.ok) await subscriber.acknowledge({ subscription: subPath(t), ackIds: [r.ackId!] });
          else
            await subscriber.modifyAckDeadline({
              subscription: subPath(t),
              ackIds: [r.ackId!],
              ackDeadlineSeconds: 0,
            });
        }
        if (statuses.some((s) => s >= 300)) return statuses; // let the caller decide on retries
      }
    },
    async signedPush(repo, event = "push") {
      const body = JSON.stringify({ ref: "refs/heads/main", repository: { full_name: repo } });
      const signature = `sha256=${createHmac("sha256", WEBHOOK_SECRET).update(body).digest("hex")}`;
      return fetch(url("githubWebhook"), {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": event,
          "x-github-delivery": randomBytes(8).toString("hex"),
          "x-hub-signature-256": signature,
        },
        body,
      });
    },
    idToken,
    asRestorer: () => ({ authorization: `Bearer ${idToken(PEOPLE.restorer)}` }),
    async close() {
      await issuer.close();
      for (const server of servers.values()) server.close();
      await subscriber.close();
      await kms.close();
      await github.close();
      await git.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
