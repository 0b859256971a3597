// The one place that chooses adapters and builds SDK clients: from the settings and the environment
// to the ports an entry point is handed. Imported only by entry points (functions/index.ts, the CLI,
// the job, tests and benchmarks); nothing below it imports an adapter.
import { access, constants, mkdir, readFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ConfigSourceHost } from "./adapters/local/config-sources.js";
import { FsBlobStore } from "./adapters/local/fs-blob-store.js";
import { JsonlAuditLog } from "./adapters/local/jsonl-audit-log.js";
import { KeyFileWrapper } from "./adapters/local/keyfile-wrapper.js";
import { SqliteSnapshotIndex } from "./adapters/local/sqlite-index.js";
import { SqliteRestoreJournal } from "./adapters/local/sqlite-restore-journal.js";
import type { CloudApp, LocalApp } from "./app.js";
import {
  cloudEnvSchema,
  PART_ENV,
  WORKLOAD_PARTS,
  workloadEnv,
  type CloudEnv,
  type Part,
  type Workload,
} from "./config/cloud-env.js";
import { DEFAULT_CONFIG } from "./config/default-config.js";
import { loadSettings, type Settings } from "./config/settings.js";
import { applyHeapPolicy } from "./heap-policy.js";
import { applyTlsPolicy } from "./tls-policy.js";
import { UserInputError } from "./core/errors.js";
import { lineageIndex } from "./core/lineage/lineage-index.js";
import { parseMessage } from "./core/messages.js";
import { scrubbingAudit } from "./core/redact.js";
import { retryingIndex, retryingKeys, retryingStore } from "./core/retrying-ports.js";
import { retainingStore, retentionOnWrite } from "./core/retention-lock.js";
import { auditOrElse, readOnlyIndex, readOnlyStore } from "./core/read-only.js";
import type { SourceRepo } from "./core/model.js";
import type { BlobStore, ConfigTrail, RestoreJournal } from "./core/ports.js";
import type { GitHubRestorePorts } from "./core/restore-github/restore-to-github.js";
import type { OctokitLike } from "./adapters/github/metadata-http.js";
import {
  systemClock,
  type AlertLedger,
  type Clock,
  type GitRemote,
  type Notifier,
  type SourceHost,
} from "./core/ports.js";
import { incidentNotifier, silentNotifier, type AlertChannel } from "./core/incidents.js";
import { JsonAlertLedger } from "./adapters/local/json-alert-ledger.js";
import { webhookChannel } from "./adapters/notify/webhook.js";
import { scrub } from "./core/redact.js";
import { settingsView } from "./config/settings-view.js";
import { recordConfigChange } from "./core/audit-config.js";

export type { CloudApp, LocalApp, Workload };

export { DEFAULT_CONFIG };

/** The installed package's root (config/ ships beside functions/, also in a deployment). */
export function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // functions/wiring.ts runs from functions/ (sources) or dist/functions/ (compiled).
  return here.endsWith(`${"dist"}/functions`) ? resolve(here, "../..") : resolve(here, "..");
}

/**
 * The local mode (the CLI, `npm start`): archives in a folder, SQLite, a key file. A data folder
 * that cannot be written (or `readOnly`, or INFINITY_BACKUP_READ_ONLY=1 in the environment) is
 * opened read-only: list, status, verify and restore work, backup and prune are refused.
 */
export async function openApp(
  configFile: string,
  options: { clock?: Clock; env?: NodeJS.ProcessEnv; readOnly?: boolean } = {},
): Promise<LocalApp> {
  const settings = await loadSettings(configFile, options.env ?? process.env);
  applyTlsPolicy(settings);
  applyHeapPolicy();
  const config = settings.backup;
  const clock = options.clock ?? systemClock;
  if (config.backend !== "local") {
    throw new UserInputError(
      `${configFile}: backend "${config.backend}" runs as Cloud Functions (see docs/DEPLOY.md); the CLI works on the local backend`,
    );
  }
  const dataDir = resolve(settings.baseDir, config.local.dataDir);
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "EEXIST" || code === "ENOTDIR" ? "it is a file, not a folder" : `cannot create it (${code})`;
    throw new UserInputError(`data folder ${dataDir} (local.dataDir or BACKUP_LOCATION): ${why}`, {
      cause: err,
    });
  }
  const indexFile = join(dataDir, "index.sqlite");
  const readOnly =
    options.readOnly ??
    ((options.env ?? process.env).INFINITY_BACKUP_READ_ONLY === "1" || !(await writable(dataDir, indexFile)));
  const tell = (line: string) => void process.stderr.write(`infinity-backup: ${line}\n`);
  const opened = new SqliteSnapshotIndex({ path: indexFile, clock, readOnly });
  const index = readOnly ? readOnlyIndex(opened, dataDir, tell) : opened;
  let journal: SqliteRestoreJournal | undefined;
  try {
    // A new key only for an empty index: existing archives need the key they were made with.
    const hasSnapshots = (await index.repos()).length > 0;
    const keys = await KeyFileWrapper.open(join(dataDir, "keys.json"), {
      create: !hasSnapshots && !readOnly,
      clock,
    });
    const configured = new ConfigSourceHost(config.sources, settings.baseDir);
    const store = new FsBlobStore({ root: join(dataDir, "archives"), clock });
    const audit = new JsonlAuditLog({ path: join(dataDir, "audit.jsonl"), clock });
    // A configuration that changed since the trail last recorded it is an audit entry (once).
    if (!readOnly) await auditConfig(audit, settings, `cli:${osUser()}`, tell);
    const github = config.github
      ? await githubSource(await localGitHubCredentials(options.env ?? process.env), settings, clock)
      : undefined;
    journal = github && !readOnly ? new SqliteRestoreJournal(indexFile) : undefined;
    return {
      settings,
      dataDir,
      readOnly,
      clock,
      // Transient failures of calls that are safe to repeat are tried again (core/retrying-ports.ts).
      // Names resolved through the repository registry: renamed repositories keep their history.
      index: lineageIndex(retryingIndex(index)),
      keys: retryingKeys(keys),
      // Per-repository keys and the redaction list, in the same SQLite file (core/keys/).
      keyRecords: opened.keyRecords(),
      redactions: opened.keyRecords(),
      // Layer records of layered snapshots, in the same SQLite file (sqlite-layers.ts).
      layers: opened.layerIndex(),
      // Restore drill results, in the same SQLite file (sqlite-drills.ts).
      drills: opened.drillRecords(),
      // Storage-class replays kept for the status page, in the same file (core/class-checkpoints.ts).
      classCheckpoints: opened.classCheckpoints(),
      rotateKeyFile: () => keys.rotate(),
      // Archives are read-only files, written under the retention the policy promises.
      store: retryingStore(
        readOnly
          ? readOnlyStore(store, dataDir)
          : retainingStore(store, retentionOnWrite(settings.retention), clock),
      ),
      // An entry the log cannot take (a read-only or full disk) goes to stderr, never lost silently.
      audit: scrubbingAudit(auditOrElse(readOnly ? undefined : audit, tell)),
      auditTrail: audit,
      notifier: await buildNotifier(settings, options.env ?? process.env, {
        ledger: new JsonAlertLedger(join(dataDir, "alerts.json")),
        clock,
        tell,
        email: true,
      }),
      sources: github?.sources ?? configured,
      ...(github ? { metadata: github.metadata, orgMetadata: github.metadata } : {}),
      // Restores to GitHub journal in the index's SQLite file, and write their mapping beside the archives.
      // Attachments are copied beside the mapping and linked as files (restore-github/attachments.ts).
      ...(github && journal
        ? {
            githubRestore: github.restoreTo(
              journal,
              store,
              (key) => pathToFileURL(join(dataDir, "archives", key)).href,
            ),
          }
        : {}),
      async close() {
        index.close();
        journal?.close();
      },
    };
  } catch (err) {
    index.close();
    throw err;
  }
}

/** Records a configuration change in the trail; a trail that cannot take it is told, never fatal. */
async function auditConfig(
  trail: ConfigTrail,
  settings: Settings,
  actor: string,
  tell: (line: string) => void,
): Promise<void> {
  try {
    await recordConfigChange(trail, settingsView(settings), actor);
  } catch (err) {
    tell(`configuration change not audited: ${scrub(err instanceof Error ? err.message : String(err))}`);
  }
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}

/** Whether this process may write the data folder and its index (a missing index will be made). */
async function writable(dataDir: string, indexFile: string): Promise<boolean> {
  const can = (file: string) =>
    access(file, constants.W_OK).then(
      () => true,
      (err: NodeJS.ErrnoException) => err.code === "ENOENT",
    );
  return (await can(dataDir)) && (await can(indexFile));
}

/** SDK clients a test (or another runtime) may supply instead of the ones built from the env. */
export interface CloudOverrides {
  storage?: import("@google-cloud/storage").Storage;
  firestore?: import("@google-cloud/firestore").Firestore;
  kms?: import("@google-cloud/kms").KeyManagementServiceClient;
  pubsub?: import("@google-cloud/pubsub").PubSub;
  clock?: Clock;
  /** The config file to read instead of the packaged config/backup-config.yaml. */
  configFile?: string;
  /** ID tokens from another issuer than Google (tests start their own issuer and JWKS). */
  idTokens?: { jwksUrl: string; issuers: readonly string[]; acceptPlatformVerified?: boolean };
  /** Group membership from another directory than Cloud Identity. */
  groups?: import("./core/roles.js").GroupDirectory;
}

/**
 * One cloud workload's app, from its environment (set by infra/ per workload). Only the parts the
 * workload uses are wired, and only their variables are read: a missing one is named at start, a
 * variable of another part is never looked at. SDKs load lazily, so the CLI does not pay for them.
 */
export async function cloudApp(
  workload: Workload,
  env: NodeJS.ProcessEnv,
  overrides: CloudOverrides = {},
): Promise<CloudApp> {
  const names = workloadEnv(workload);
  const picked = Object.fromEntries(names.filter((n) => env[n] !== undefined).map((n) => [n, env[n]]));
  const schema = cloudEnvSchema.pick(Object.fromEntries(names.map((n) => [n, true])) as never);
  const e = parseMessage(schema, picked, `environment of ${workload}`) as Partial<CloudEnv>;
  const parts = new Set<Part>(WORKLOAD_PARTS[workload]);
  const settings = await loadSettings(
    overrides.configFile ?? join(packageRoot(), DEFAULT_CONFIG),
    picked as NodeJS.ProcessEnv,
  );
  applyTlsPolicy(settings);
  applyHeapPolicy();
  // Every cloud workload runs on the gcp backend, also those that do not read BACKUP_LOCATION.
  settings.backup.backend = "gcp";
  const clock = overrides.clock ?? systemClock;
  const wired: Partial<CloudApp> = { settings, clock };

  const project = e.GOOGLE_CLOUD_PROJECT!;
  const pubsub = async () => {
    const { PubSub } = await import("@google-cloud/pubsub");
    return overrides.pubsub ?? new PubSub({ projectId: project });
  };
  if (parts.has("archives") || parts.has("restoreBucket")) {
    const [{ Storage }, { GcsBlobStore }] = await Promise.all([
      import("@google-cloud/storage"),
      import("./adapters/gcp/gcs-blob-store.js"),
    ]);
    const storage = overrides.storage ?? new Storage({ projectId: project });
    if (parts.has("archives")) {
      const bucket = e.BACKUP_LOCATION!.slice("gs://".length).replace(/\/.*$/, "");
      // Archives are written under retention and only ever kept longer (core/retention-lock.ts).
      const archives = new GcsBlobStore({ storage, bucket, clock, retentionMode: e.ARCHIVE_RETENTION_MODE! });
      wired.store = retryingStore(retainingStore(archives, retentionOnWrite(settings.retention), clock));
    }
    if (parts.has("restoreBucket"))
      wired.restoreStore = new GcsBlobStore({ storage, bucket: e.RESTORE_BUCKET!, clock });
  }
  if (parts.has("index")) {
    const [{ Firestore }, { FirestoreSnapshotIndex }] = await Promise.all([
      import("@google-cloud/firestore"),
      import("./adapters/gcp/firestore-index.js"),
    ]);
    const firestore =
      overrides.firestore ?? new Firestore({ projectId: project, databaseId: e.FIRESTORE_DATABASE! });
    wired.index = lineageIndex(retryingIndex(new FirestoreSnapshotIndex({ firestore, clock })));
    // Per-repository keys and the redaction list live beside the snapshot records (core/keys/).
    const { FirestoreKeyRecords } = await import("./adapters/gcp/firestore-key-records.js");
    wired.keyRecords = wired.redactions = new FirestoreKeyRecords({ firestore });
    // Layer records of layered snapshots, beside the snapshot records (firestore-layers.ts).
    const { FirestoreLayerIndex } = await import("./adapters/gcp/firestore-layers.js");
    wired.layers = new FirestoreLayerIndex({ firestore });
    // Restore drill results, beside the snapshot records (firestore-drills.ts).
    const { FirestoreDrillRecords } = await import("./adapters/gcp/firestore-drills.js");
    wired.drills = new FirestoreDrillRecords({ firestore });
    // Storage-class replays kept for the status page (core/class-checkpoints.ts).
    const { FirestoreClassCheckpoints } = await import("./adapters/gcp/firestore-class-checkpoints.js");
    wired.classCheckpoints = new FirestoreClassCheckpoints({ firestore });
  }
  if (parts.has("keys")) {
    const [{ KeyManagementServiceClient }, { KmsKeyWrapper }] = await Promise.all([
      import("@google-cloud/kms"),
      import("./adapters/gcp/kms-key-wrapper.js"),
    ]);
    wired.keys = retryingKeys(
      new KmsKeyWrapper({
        client: overrides.kms ?? new KeyManagementServiceClient(),
        keyName: e.KMS_KEY_NAME!,
      }),
    );
  }
  const topics = {
    "snapshot-requests": parts.has("publishSnapshots") ? e.SNAPSHOT_TOPIC : undefined,
    "verify-requests": parts.has("publishVerify") ? e.VERIFY_TOPIC : undefined,
    "snapshot-large": parts.has("publishLarge") ? e.LARGE_SNAPSHOT_TOPIC : undefined,
    "restore-requests": parts.has("publishRestores") ? e.RESTORE_TOPIC : undefined,
  };
  if (Object.values(topics).some(Boolean)) {
    const { PubSubPublisher } = await import("./adapters/gcp/pubsub-publisher.js");
    wired.publisher = new PubSubPublisher({ pubsub: await pubsub(), topicNames: topics });
  }
  if (parts.has("drainLarge")) {
    const { PubSubQueueDrain } = await import("./adapters/gcp/pubsub-drain.js");
    wired.drainLarge = new PubSubQueueDrain(await pubsub(), e.LARGE_SNAPSHOT_SUBSCRIPTION!);
  }
  if (parts.has("deadLetters") && e.DEAD_LETTER_SUBSCRIPTIONS) {
    const { PubSubDeadLetters } = await import("./adapters/gcp/pubsub-dead-letters.js");
    wired.deadLetters = new PubSubDeadLetters(await pubsub(), e.DEAD_LETTER_SUBSCRIPTIONS.split(","));
  }
  if (parts.has("github")) {
    const github = await githubSource(
      {
        appId: e.GITHUB_APP_ID!,
        privateKey: e.GITHUB_APP_PRIVATE_KEY!,
        ...(e.GITHUB_API_URL ? { apiUrl: e.GITHUB_API_URL } : {}),
        ...(e.GITHUB_GIT_URL ? { gitUrl: e.GITHUB_GIT_URL } : {}),
      },
      settings,
      clock,
    );
    wired.sources = github.sources;
    wired.metadata = github.metadata;
    wired.orgMetadata = github.metadata;
    wired.createRepository = github.createRepository;
    if (parts.has("index") && parts.has("restoreBucket")) {
      // Restores to GitHub journal in Firestore beside the index, their mapping in the restore bucket.
      const [{ Firestore }, { FirestoreRestoreJournal }] = await Promise.all([
        import("@google-cloud/firestore"),
        import("./adapters/gcp/firestore-restore-journal.js"),
      ]);
      const firestore =
        overrides.firestore ?? new Firestore({ projectId: project, databaseId: e.FIRESTORE_DATABASE! });
      // Attachments are copied beside the mapping; a body links the copy in the console's browser.
      const bucket = e.RESTORE_BUCKET!;
      wired.githubRestore = github.restoreTo(
        new FirestoreRestoreJournal({ firestore }),
        wired.restoreStore!,
        (key) =>
          `https://storage.cloud.google.com/${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`,
      );
    }
  }
  if (parts.has("restoreJournal")) {
    const [{ Firestore }, { FirestoreRestoreJournal }] = await Promise.all([
      import("@google-cloud/firestore"),
      import("./adapters/gcp/firestore-restore-journal.js"),
    ]);
    const firestore =
      overrides.firestore ?? new Firestore({ projectId: project, databaseId: e.FIRESTORE_DATABASE! });
    wired.restoreJournal = new FirestoreRestoreJournal({ firestore });
  }
  if (parts.has("deliveries")) {
    const [{ Firestore }, { FirestoreDeliveryLog }] = await Promise.all([
      import("@google-cloud/firestore"),
      import("./adapters/gcp/firestore-delivery-log.js"),
    ]);
    const firestore =
      overrides.firestore ?? new Firestore({ projectId: project, databaseId: e.FIRESTORE_DATABASE! });
    wired.deliveries = new FirestoreDeliveryLog({ firestore });
  }
  if (parts.has("callers")) {
    const [{ Authorizer }, idToken, { parseRoleMembers }, { CloudIdentityGroups }] = await Promise.all([
      import("./handlers/authz.js"),
      import("./handlers/id-token.js"),
      import("./core/roles.js"),
      import("./adapters/gcp/cloud-identity-groups.js"),
    ]);
    const members = parseRoleMembers({
      operator: e.ROLE_OPERATOR_MEMBERS,
      restorer: e.ROLE_RESTORER_MEMBERS,
      auditor: e.ROLE_AUDITOR_MEMBERS,
      admin: e.ROLE_ADMIN_MEMBERS,
    });
    const issuer = overrides.idTokens ?? {
      jwksUrl: idToken.GOOGLE_JWKS_URL,
      issuers: idToken.GOOGLE_ISSUERS,
      // Every caller-checked function sits behind roles/run.invoker (infra/iam.tf), whose check
      // verifies the token and strips its signature; see docs/SECURITY.md.
      acceptPlatformVerified: true,
    };
    wired.authorizer = new Authorizer({
      verifier: new idToken.IdTokenVerifier({
        ...issuer,
        audiences: e
          .AUTH_AUDIENCES!.split(",")
          .map((a) => a.trim())
          .filter(Boolean),
      }),
      members,
      groups: overrides.groups ?? new CloudIdentityGroups(),
    });
  }
  if (parts.has("webhookSecret")) {
    const { GitHubWebhookReceiver } = await import("./adapters/github/webhook.js");
    wired.webhooks = new GitHubWebhookReceiver(e.GITHUB_WEBHOOK_SECRET!);
  }
  const { LogAuditLog } = await import("./adapters/gcp/log-audit.js");
  wired.audit = new LogAuditLog();
  const { log } = await import("./log.js");
  wired.notifier = await buildNotifier(settings, picked as NodeJS.ProcessEnv, {
    ledger: await cloudAlertLedger(parts, project, e, overrides),
    clock,
    tell: (line) => log("WARNING", line, { event: "notification_failed" }),
    email: parts.has("notify"),
  });
  if (parts.has("index")) {
    // Where the index lives, the audit trail is also kept as hash chains (Cloud Logging mirrors it).
    const [{ Firestore }, { FirestoreAuditLog }] = await Promise.all([
      import("@google-cloud/firestore"),
      import("./adapters/gcp/firestore-audit-log.js"),
    ]);
    const firestore =
      overrides.firestore ?? new Firestore({ projectId: project, databaseId: e.FIRESTORE_DATABASE! });
    const trail = new FirestoreAuditLog({ firestore, clock, mirror: wired.audit });
    wired.audit = trail;
    wired.auditTrail = trail;
    wired.configTrail = trail;
  }
  return guardUnwired(workload, wired);
}

/**
 * Where a cloud workload keeps its incident memory: Firestore (alertIncidents/), shared by every
 * instance, when the workload has the index; its own memory otherwise.
 */
async function cloudAlertLedger(
  parts: Set<Part>,
  project: string,
  e: Partial<CloudEnv>,
  overrides: CloudOverrides,
): Promise<AlertLedger> {
  if (!parts.has("index")) {
    const { MemoryAlertLedger } = await import("./adapters/notify/memory-alert-ledger.js");
    return new MemoryAlertLedger();
  }
  const [{ Firestore }, { FirestoreAlertLedger }] = await Promise.all([
    import("@google-cloud/firestore"),
    import("./adapters/gcp/firestore-alert-ledger.js"),
  ]);
  const firestore =
    overrides.firestore ?? new Firestore({ projectId: project, databaseId: e.FIRESTORE_DATABASE! });
  return new FirestoreAlertLedger({ firestore });
}

/**
 * The notifier of the config's notifications section: each channel (email, every webhook) with
 * its own incident memory in `ledger` (a failed send is tried again next run), one message per
 * incident and one when it clears. No section: a notifier that sends nothing. A channel or ledger
 * that fails is told (scrubbed) and never fails the caller.
 */
export async function buildNotifier(
  settings: Settings,
  env: NodeJS.ProcessEnv,
  o: { ledger: AlertLedger; clock: Clock; tell: (line: string) => void; email: boolean },
): Promise<Notifier> {
  const n = settings.backup.notifications;
  const channels: AlertChannel[] = [];
  if (n?.email && o.email) {
    const { emailChannel } = await import("./adapters/notify/email.js");
    const password = env.SMTP_PASSWORD;
    // Said on every command, but none refused: restore and config must work without the mail.
    if (n.email.smtp.user && !password)
      o.tell(
        `notifications by email are off: notifications.email.smtp.user is "${n.email.smtp.user}" but SMTP_PASSWORD is not set in the environment`,
      );
    else
      channels.push(
        emailChannel({
          to: n.email.to,
          from: n.email.from,
          host: n.email.smtp.host,
          port: n.email.smtp.port,
          secure: n.email.smtp.secure,
          minTlsVersion: settings.backup.network.minTlsVersion,
          ...(n.email.smtp.user ? { user: n.email.smtp.user, password } : {}),
        }),
      );
  }
  for (const w of n?.webhooks ?? []) channels.push(webhookChannel(w.url));
  if (!channels.length) return silentNotifier;
  const secrets = [env.SMTP_PASSWORD, ...(n?.webhooks ?? []).map((w) => w.url)].filter(
    (x): x is string => !!x,
  );
  const clean = (text: string) => secrets.reduce((t, secret) => t.split(secret).join("***"), scrub(text));
  const told = (what: string, err: unknown) =>
    o.tell(clean(`notification ${what} failed: ${err instanceof Error ? err.message : String(err)}`));
  // A memory that cannot be read or written never silences an alert: at worst one is sent twice.
  const ledger: AlertLedger = {
    claim: (key, at, before) =>
      o.ledger.claim(key, at, before).catch((err: unknown) => {
        told("memory read", err);
        return true;
      }),
    release: (key) =>
      o.ledger.release(key).catch((err: unknown) => {
        told("memory write", err);
        return undefined;
      }),
    record: (key, at) =>
      o.ledger.record(key, at).catch((err: unknown) => {
        told("memory write", err);
      }),
    // Unread, nothing is known open: every alert goes to its claim, which decides as before.
    openIncidents: (prefix) =>
      o.ledger.openIncidents(prefix).catch((err: unknown) => {
        told("memory read", err);
        return new Map<string, string>();
      }),
  };
  const windowMs = n!.repeatAfterHours * 3600 * 1000;
  return incidentNotifier(
    channels.map((channel, i) => ({ channel, id: `${i}:${channel.name}` })),
    ledger,
    o.clock,
    (name, err) => told(`via ${name}`, err),
    windowMs,
  );
}

/** Reading a port the workload did not wire names the mistake instead of failing on undefined. */
function guardUnwired(workload: Workload, wired: Partial<CloudApp>): CloudApp {
  return new Proxy(wired, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (value === undefined && typeof key === "string" && PORT_PART[key]) {
        throw new Error(
          `${workload} uses ${key}, which it does not wire: add "${PORT_PART[key]}" to WORKLOAD_PARTS.${workload} ` +
            `(functions/config/cloud-env.ts) and give it ${PART_ENV[PORT_PART[key]].join(", ")} in infra/`,
        );
      }
      return value;
    },
  }) as CloudApp;
}

/** Which part wires each port of CloudApp. */
const PORT_PART: Record<string, Part> = {
  store: "archives",
  restoreStore: "restoreBucket",
  index: "index",
  keys: "keys",
  publisher: "publishVerify",
  drainLarge: "drainLarge",
  sources: "github",
  createRepository: "github",
  githubRestore: "github",
  restoreJournal: "restoreJournal",
  webhooks: "webhookSecret",
  deliveries: "deliveries",
  authorizer: "callers",
};

/** What a GitHub App source is built from: the App's credentials and the config's github section. */
interface GitHubCredentials {
  appId: string;
  privateKey: string;
  /** The environment's API and git roots (GitHub Enterprise Server) win over the config's. */
  apiUrl?: string;
  gitUrl?: string;
}

/**
 * Every installation of the GitHub App (filtered by the config's github section), plus the
 * repositories backup-config.yaml lists by URL (outside the installations: mirrors, other hosts).
 */
async function githubSource(credentials: GitHubCredentials, settings: Settings, clock: Clock) {
  const [{ App }, { GitHubAppSource }, { resilientOctokit }, { GitHubMetadataSource }] = await Promise.all([
    import("@octokit/app"),
    import("./adapters/github/app-source.js"),
    import("./adapters/github/metadata-octokit.js"),
    import("./adapters/github/metadata-source.js"),
  ]);
  const config = settings.backup.github;
  const apiUrl = credentials.apiUrl ?? config?.apiUrl;
  const gitUrl = credentials.gitUrl ?? config?.gitUrl;
  // Rate limits (primary and secondary) are waited out and 5xx retried, for listing and metadata alike.
  const app = new App({
    appId: credentials.appId,
    privateKey: credentials.privateKey,
    Octokit: resilientOctokit(apiUrl ? { baseUrl: apiUrl } : {}),
  });
  const github = new GitHubAppSource({
    app,
    clock,
    ...(gitUrl ? { gitBaseUrl: gitUrl } : {}),
    ...(config?.owners.length ? { owners: config.owners } : {}),
    ...(config
      ? { include: config.include, exclude: config.exclude, excludeForks: config.excludeForks }
      : {}),
  });
  const listed = settings.backup.sources.filter((s) => !s.demo);
  const sources = listed.length
    ? new CombinedSourceHost(github, new ConfigSourceHost(listed, settings.baseDir))
    : github;
  // The cast: @octokit/app types its clients as its own Octokit; the metadata reads need only `request`.
  const metadata = new GitHubMetadataSource({
    octokitFor: async (repo) => (await github.apiFor(repo)) as unknown as OctokitLike,
  });
  const { gitHubRestoreWriters } = await import("./adapters/github/restore-clients.js");
  const writers = gitHubRestoreWriters({
    appId: credentials.appId,
    privateKey: credentials.privateKey,
    ...(apiUrl ? { apiUrl } : {}),
    ...(config?.owners.length ? { owners: config.owners } : {}),
  });
  const createRepository = async (name: string, isPrivate: boolean) =>
    github.gitRemote(await github.createRepo(name, { private: isPrivate }));
  return {
    sources,
    metadata,
    createRepository,
    /** What a restore to GitHub writes through, with the workload's journal and mapping store. */
    restoreTo: (
      journal: RestoreJournal,
      mappingStore: BlobStore,
      attachmentLink?: (key: string) => string,
    ): GitHubRestorePorts => ({
      createRepository,
      remoteOf: (name) => github.gitRemote({ name, url: "" }),
      ...writers,
      journal,
      mappingStore,
      ...(attachmentLink ? { attachmentLink } : {}),
    }),
  };
}

/**
 * The local mode's GitHub credentials, from the environment only (never the config file):
 * GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY, or GITHUB_APP_PRIVATE_KEY_FILE naming a PEM file.
 */
async function localGitHubCredentials(env: NodeJS.ProcessEnv): Promise<GitHubCredentials> {
  const appId = env.GITHUB_APP_ID?.trim();
  let privateKey = env.GITHUB_APP_PRIVATE_KEY;
  const keyFile = env.GITHUB_APP_PRIVATE_KEY_FILE?.trim();
  if (!privateKey && keyFile) {
    try {
      privateKey = await readFile(keyFile, "utf8");
    } catch (err) {
      throw new UserInputError(
        `GITHUB_APP_PRIVATE_KEY_FILE: cannot read ${keyFile} (${(err as NodeJS.ErrnoException).code})`,
        { cause: err },
      );
    }
  }
  if (!appId || !privateKey) {
    throw new UserInputError(
      "backup-config.yaml has a github section: set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY (or " +
        "GITHUB_APP_PRIVATE_KEY_FILE) in the environment to back up the App's installations",
    );
  }
  return {
    appId,
    privateKey,
    ...(env.GITHUB_API_URL ? { apiUrl: env.GITHUB_API_URL } : {}),
    ...(env.GITHUB_GIT_URL ? { gitUrl: env.GITHUB_GIT_URL } : {}),
  };
}

/** The App's repositories first; a configured repository of the same name is the App's. */
class CombinedSourceHost implements SourceHost {
  constructor(
    private readonly primary: SourceHost,
    private readonly extra: SourceHost,
  ) {}

  async listRepos(): Promise<SourceRepo[]> {
    const repos = await this.primary.listRepos();
    const known = new Set(repos.map((r) => r.name.toLowerCase()));
    const extra = (await this.extra.listRepos()).filter((r) => !known.has(r.name.toLowerCase()));
    return [...repos, ...extra].sort((a, b) => a.name.localeCompare(b.name));
  }

  async getRepo(name: string): Promise<SourceRepo | undefined> {
    return (await this.primary.getRepo(name)) ?? this.extra.getRepo(name);
  }

  /** The App's budget: configured repositories spend none. */
  rateLimit(): Promise<import("./core/ports.js").RateLimit> {
    if (!this.primary.rateLimit) throw new Error("the primary source host has no rate limit");
    return this.primary.rateLimit();
  }

  /** A configured repository is read as configured (no App token sent to another host). */
  async gitRemote(repo: SourceRepo): Promise<GitRemote> {
    const configured = await this.extra.getRepo(repo.name);
    return configured && configured.url === repo.url
      ? this.extra.gitRemote(repo)
      : this.primary.gitRemote(repo);
  }
}
