// The deployment's promises, checked by reading infra/*.tf. Terraform's own validate and
// plan need the google provider, which cannot be downloaded here, so the configuration is
// parsed (@cdktf/hcl2json) and its properties asserted. The "rules" below also run against
// deliberately broken copies of the configuration, to show that each one would catch the
// breakage it names.
//
// Two contracts owned elsewhere are checked here: the environment each workload reads
// (functions/config/cloud-env.ts) against what Terraform gives it (deployedEnv, the same model
// the end-to-end tests start the functions with), and the clocks of config/schedule.yaml against
// the Scheduler jobs. The Firestore indexes are checked against the code's queries in
// firestore-indexes.test.ts.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { drillRequestSchema, pruneRequestSchema, sweepRequestSchema } from "../../functions/core/messages.js";
import { backupConfigSchema } from "../../functions/config/backup-config.js";
import { parse as parseYaml } from "yaml";
import {
  SECRET_ENV,
  WORKLOAD_PARTS,
  requiredEnv,
  workloadEnv,
  type Workload,
} from "../../functions/config/cloud-env.js";
import {
  block,
  blocks,
  collectGrants,
  deployedEnv,
  dynamicContents,
  instanceBody,
  instancesOf,
  loadInfra,
  localValue,
  references,
  resolve,
  resourceBody,
  resourcesOf,
  variableDefault,
  variableValue,
  workloadServiceAccount,
  type Body,
  type TerraformDoc,
  type TfVars,
} from "./terraform-model.js";
import { ORG_RESTORES_AT_ONCE } from "../../functions/core/restore-org.js";
import { ARCHIVES_PREFIX, archiveKey, layerKey, layerOidsKey } from "../../functions/core/object-keys.js";

const INFRA_DIR = fileURLToPath(new URL("../../infra", import.meta.url));
const SCHEDULE_FILE = fileURLToPath(new URL("../../config/schedule.yaml", import.meta.url));
const TERRAFORM = "/usr/local/bin/terraform";
const infra = await loadInfra(INFRA_DIR);

const WORKLOADS = Object.keys(WORKLOAD_PARTS) as Workload[];
const SECRETS: readonly string[] = SECRET_ENV;
// Terraform variable => the environment variable through which it overrides config/*.yaml.
const OVERRIDES: Record<string, string> = {
  verify_backups: "VERIFY_BACKUPS",
  retention_days: "RETENTION_DAYS",
  legal_hold_repos: "LEGAL_HOLD_REPOS",
  github_api_url: "GITHUB_API_URL",
  github_git_url: "GITHUB_GIT_URL",
};
const isUnset = (value: unknown): boolean => value === null || (Array.isArray(value) && value.length === 0);
// Every override of config/*.yaml set, as an operator could set them in terraform.tfvars.
const ALL_OVERRIDES: TfVars = {
  backup_schedule: "0 2 * * *",
  retention_days: 45,
  verify_backups: false,
  legal_hold_repos: ["acme/litigation"],
  github_api_url: "https://github.example.com/api/v3",
  github_git_url: "https://github.example.com",
};

const TOPICS = [
  "snapshot-sweep",
  "snapshot-requests",
  "verify-requests",
  "prune-requests",
  "snapshot-large",
  "restore-requests",
];
const ENTRY_POINTS = [
  "sweep",
  "snapshotRepo",
  "verifySnapshot",
  "pruneSnapshots",
  "restoreRepo",
  "backupHealth",
  "githubWebhook",
  "restoreDrill",
  "forgetRepo",
  "restoreOrg",
  "restoreOrgRepo",
  "rotateKeys",
];
const fn = (name: string): string => `google_cloudfunctions2_function.fn["${name}"]`;
const topic = (name: string): string => `google_pubsub_topic.topic["${name}"]`;

const SCHEDULE = parseYaml(readFileSync(SCHEDULE_FILE, "utf8")) as Record<string, unknown>;
const GCF_SOURCES_BUCKET = "gcf-v2-sources-${data.google_project.this.number}-${var.region}";
const squash = (value: unknown): string => String(value).replace(/\s+/g, " ");

const ARCHIVE_KEY = "google_kms_crypto_key.archive";
const ARCHIVE_BUCKET = "google_storage_bucket.archive";
const APP_KEY = "google_secret_manager_secret.github_app_private_key";
const WEBHOOK_SECRET = "google_secret_manager_secret.github_webhook_secret";
const SMTP_PASSWORD = "google_secret_manager_secret.smtp_password";

// Every grant in the deployment: [principal, role, target]. Adding a grant means adding it here.
const EXPECTED_GRANTS: [string, string, string][] = [
  ["sweep", "roles/pubsub.publisher", topic("snapshot-requests")],
  ["sweep", "roles/pubsub.publisher", topic("verify-requests")],
  ["sweep", "roles/datastore.user", "project"],
  ["sweep", "roles/secretmanager.secretAccessor", APP_KEY],

  ["snapshot", "roles/cloudkms.cryptoKeyEncrypter", ARCHIVE_KEY],
  // Per-repository keys: a snapshot unwraps its repository's key to wrap the new data key.
  ["snapshot", "roles/cloudkms.cryptoKeyDecrypter", ARCHIVE_KEY],
  ["snapshot", "roles/storage.objectCreator", ARCHIVE_BUCKET],
  ["snapshot", "roles/datastore.user", "project"],
  ["snapshot", "roles/pubsub.publisher", topic("verify-requests")],
  ["snapshot", "roles/pubsub.publisher", topic("snapshot-large")],
  ["snapshot", "roles/secretmanager.secretAccessor", APP_KEY],
  ["snapshot", "roles/secretmanager.secretAccessor", SMTP_PASSWORD],

  ["snapshot_job", "roles/cloudkms.cryptoKeyEncrypter", ARCHIVE_KEY],
  ["snapshot_job", "roles/storage.objectCreator", ARCHIVE_BUCKET],
  ["snapshot_job", "roles/datastore.user", "project"],
  ["snapshot_job", "roles/pubsub.publisher", topic("verify-requests")],
  ["snapshot_job", "roles/pubsub.subscriber", 'google_pubsub_subscription.delivery["snapshot-large"]'],
  ["snapshot_job", "roles/secretmanager.secretAccessor", APP_KEY],
  // Drills of repositories too large for restoreDrill run in the job: it restores them.
  ["snapshot_job", "roles/cloudkms.cryptoKeyDecrypter", ARCHIVE_KEY],
  ["snapshot_job", "roles/storage.objectViewer", ARCHIVE_BUCKET],
  ["snapshot_job", "roles/secretmanager.secretAccessor", SMTP_PASSWORD],
  // Restores to GitHub handed on by restoreRepo and restoreOrgRepo run in the job too.
  ["snapshot_job", "roles/storage.objectUser", "google_storage_bucket.restore"],
  ["snapshot_job", "roles/pubsub.publisher", topic("snapshot-large")],

  ["verify", "roles/cloudkms.cryptoKeyDecrypter", ARCHIVE_KEY],
  ["verify", "roles/storage.objectViewer", ARCHIVE_BUCKET],
  ["verify", "roles/datastore.user", "project"],
  ["verify", "roles/secretmanager.secretAccessor", SMTP_PASSWORD],
  ["verify", "roles/pubsub.publisher", topic("snapshot-large")],

  ["prune", "roles/storage.objectUser", ARCHIVE_BUCKET],
  ["prune", "roles/datastore.user", "project"],
  ["prune", "roles/pubsub.publisher", topic("snapshot-large")],

  ["restore", "roles/cloudkms.cryptoKeyDecrypter", ARCHIVE_KEY],
  ["restore", "roles/storage.objectViewer", ARCHIVE_BUCKET],
  ["restore", "roles/storage.objectUser", "google_storage_bucket.restore"],
  ["restore", "roles/datastore.user", "project"],
  ["restore", "roles/secretmanager.secretAccessor", APP_KEY],
  ["restore", "roles/pubsub.publisher", topic("snapshot-large")],

  ["restore_org", "roles/datastore.user", "project"],
  ["restore_org", "roles/pubsub.publisher", topic("restore-requests")],

  ["restore_org_repo", "roles/cloudkms.cryptoKeyDecrypter", ARCHIVE_KEY],
  ["restore_org_repo", "roles/storage.objectViewer", ARCHIVE_BUCKET],
  ["restore_org_repo", "roles/storage.objectUser", "google_storage_bucket.restore"],
  ["restore_org_repo", "roles/datastore.user", "project"],
  ["restore_org_repo", "roles/secretmanager.secretAccessor", APP_KEY],
  ["restore_org_repo", "roles/pubsub.publisher", topic("restore-requests")],
  ["restore_org_repo", "roles/pubsub.publisher", topic("snapshot-large")],

  ["health", "roles/datastore.user", "project"],
  ["health", "roles/secretmanager.secretAccessor", SMTP_PASSWORD],
  ["health", "roles/pubsub.subscriber", "google_pubsub_subscription.dead_letter[each.key]"],

  ["drill", "roles/cloudkms.cryptoKeyDecrypter", ARCHIVE_KEY],
  ["drill", "roles/storage.objectViewer", ARCHIVE_BUCKET],
  ["drill", "roles/datastore.user", "project"],
  ["drill", "roles/secretmanager.secretAccessor", SMTP_PASSWORD],
  ["drill", "roles/pubsub.publisher", topic("snapshot-large")],

  ["webhook", "roles/pubsub.publisher", topic("snapshot-requests")],
  ["webhook", "roles/datastore.user", "project"],
  ["forget", "roles/datastore.user", "project"],
  // rotateKeys unwraps and wraps again: both KMS directions, on the one key, and the index.
  ["keys", "roles/cloudkms.cryptoKeyEncrypterDecrypter", ARCHIVE_KEY],
  ["keys", "roles/datastore.user", "project"],
  ["webhook", "roles/secretmanager.secretAccessor", WEBHOOK_SECRET],

  ["pubsub_push", "roles/run.invoker", fn("sweep")],
  ["pubsub_push", "roles/run.invoker", fn("snapshotRepo")],
  ["pubsub_push", "roles/run.invoker", fn("verifySnapshot")],
  ["pubsub_push", "roles/run.invoker", fn("pruneSnapshots")],
  ["pubsub_push", "roles/run.invoker", fn("restoreOrgRepo")],
  ["pubsub-agent", "roles/pubsub.publisher", "google_pubsub_topic.dead_letter[each.key]"],
  ["pubsub-agent", "roles/pubsub.subscriber", "google_pubsub_subscription.delivery[each.key]"],
  ["pubsub-agent", "roles/iam.serviceAccountTokenCreator", "google_service_account.pubsub_push"],

  ["scheduler", "roles/run.invoker", fn("backupHealth")],
  ["scheduler", "roles/run.invoker", fn("restoreDrill")],
  ["scheduler", "roles/run.invoker", "google_cloud_run_v2_job.snapshot_job"],
  // The four roles (docs/SECURITY.md): restorers restore, operators run backups and
  // verifications (by publishing, as the scheduler does), auditors read the audit log, all read status.
  ["var.restorer_members", "roles/run.invoker", fn("restoreRepo")],
  ["var.restorer_members", "roles/run.invoker", fn("restoreOrg")],
  ["var.admin_members", "roles/run.invoker", fn("forgetRepo")],
  ["var.admin_members", "roles/run.invoker", fn("rotateKeys")],
  ["var.operator_members", "roles/run.invoker", fn("backupHealth")],
  ["var.restorer_members", "roles/run.invoker", fn("backupHealth")],
  ["var.auditor_members", "roles/run.invoker", fn("backupHealth")],
  ["var.admin_members", "roles/run.invoker", fn("backupHealth")],
  ["var.operator_members", "roles/pubsub.publisher", topic("snapshot-sweep")],
  ["var.operator_members", "roles/pubsub.publisher", topic("verify-requests")],
  // Conditioned to the audit log bucket's views (test/infra/retention-roles.test.ts checks it).
  ["var.auditor_members", "roles/logging.viewAccessor", "project"],
  // storage.objects.setRetention only: archives written under retention, retention lengthened.
  ["snapshot", "${google_project_iam_custom_role.archive_retention.id}", ARCHIVE_BUCKET],
  ["snapshot_job", "${google_project_iam_custom_role.archive_retention.id}", ARCHIVE_BUCKET],
  ["prune", "${google_project_iam_custom_role.archive_retention.id}", ARCHIVE_BUCKET],
  ["allUsers", "roles/run.invoker", fn("githubWebhook")],

  ["builder", "roles/logging.logWriter", "project"],
  ["builder", "roles/storage.objectViewer", "google_storage_bucket.source"],
  // Conditioned to gcf-v2-sources-<number>-<region> (a rule below checks the condition).
  ["builder", "roles/storage.objectViewer", "project"],
  ["builder", "roles/artifactregistry.writer", "google_artifact_registry_repository.images"],
];

// Roles a principal must never hold, whatever the table above says.
const FORBIDDEN_ROLES: { principal: string; role: RegExp; why: string; target?: string }[] = [
  { principal: "*", role: /^roles\/(owner|editor|viewer)$/, why: "no basic roles" },
  { principal: "*", role: /^roles\/storage\.admin$/, why: "no storage.admin anywhere" },
  { principal: "*", role: /^roles\/cloudkms\.admin$/, why: "no key administration" },
  {
    principal: "snapshot",
    role: /objectAdmin|objectUser|objectViewer|storage\.admin/,
    why: "snapshot cannot delete or read archives (it unwraps repository keys, never an archive)",
  },
  {
    principal: "snapshot_job",
    role: /objectAdmin|objectUser|storage\.admin/,
    target: ARCHIVE_BUCKET,
    why: "the job cannot delete archives (it reads and decrypts only to drill and restore large repositories)",
  },
  { principal: "prune", role: /Decrypter/, why: "prune cannot decrypt" },
  { principal: "verify", role: /objectAdmin|objectUser|objectCreator|Encrypter/, why: "verify only reads" },
  {
    principal: "health",
    role: /storage|cloudkms|datastore\.(owner|admin)|pubsub\.(publisher|editor|admin)/,
    why: "health reads the index, keeps notification incidents and counts dead letters: no archive, no key",
  },
  {
    principal: "drill",
    role: /objectAdmin|objectUser|objectCreator|Encrypter|storage\.admin/,
    why: "the drill only reads archives",
  },
  {
    principal: "sweep",
    role: /storage|cloudkms|datastore\.(owner|admin)/,
    why: "sweep publishes and keeps the repository registry",
  },
  {
    principal: "webhook",
    role: /storage|cloudkms|datastore\.(owner|admin)/,
    why: "the webhook only publishes, records delivery ids and keeps the repository registry",
  },
];

type Rule = (doc: TerraformDoc) => string[];

const rules = {
  "every topic is delivered with retries and a dead-letter topic": (doc) => {
    const problems: string[] = [];
    const declared = Object.keys(localValue(doc, "topics") as Body).sort();
    if (JSON.stringify(declared) !== JSON.stringify([...TOPICS].sort()))
      problems.push(`topics are ${declared}`);
    for (const [type, name] of [
      ["google_pubsub_topic", "topic"],
      ["google_pubsub_topic", "dead_letter"],
      ["google_pubsub_subscription", "delivery"],
      ["google_pubsub_subscription", "dead_letter"],
    ] as const) {
      const body = doc.resource[type]?.[name]?.[0];
      if (!body) problems.push(`${type}.${name} is missing`);
      else if (body["for_each"] !== "${local.topics}") problems.push(`${type}.${name} is not one per topic`);
    }
    for (const { name, body } of resourcesOf(doc, "google_pubsub_subscription")) {
      if (blocks(body, "expiration_policy")[0]?.["ttl"] !== "") problems.push(`${name} expires when idle`);
      if (String(body["topic"]).includes("google_pubsub_topic.dead_letter")) continue; // a drain
      const dlq = blocks(body, "dead_letter_policy")[0];
      const attempts = Number(resolve(doc, dlq?.["max_delivery_attempts"]));
      if (!dlq) problems.push(`${name} has no dead_letter_policy`);
      else if (!String(dlq["dead_letter_topic"]).includes("google_pubsub_topic.dead_letter[each.key]"))
        problems.push(`${name} dead-letters to ${dlq["dead_letter_topic"]}`);
      else if (!(attempts >= 5 && attempts <= 100))
        problems.push(`${name} max_delivery_attempts ${attempts}`);
      const retry = blocks(body, "retry_policy")[0];
      if (!retry?.["minimum_backoff"] || !retry["maximum_backoff"])
        problems.push(`${name} has no retry_policy`);
    }
    for (const [type, name] of [
      ["google_pubsub_topic_iam_member", "dead_letter_publisher"],
      ["google_pubsub_subscription_iam_member", "dead_letter_forwarder"],
    ] as const) {
      if (doc.resource[type]?.[name]?.[0]?.["for_each"] !== "${local.topics}")
        problems.push(`the Pub/Sub service agent lacks ${type}.${name} on every topic`);
    }
    return problems;
  },

  "the archive bucket deletes only by the expiry prune sets (customTime), never by age": (doc) => {
    const rulesOfBucket = blocks(resourceBody(doc, "google_storage_bucket", "archive"), "lifecycle_rule");
    const deletes = rulesOfBucket.filter((r) => block(r, "action")["type"] === "Delete");
    const problems: string[] = [];
    if (deletes.length === 0) problems.push("no delete rule by days_since_custom_time");
    for (const rule of deletes) {
      const condition = block(rule, "condition");
      const keys = Object.keys(condition).filter((k) => !k.startsWith("send_"));
      if (JSON.stringify(keys) !== '["days_since_custom_time"]') problems.push(`delete rule on ${keys}`);
      else if (!(Number(resolve(doc, condition["days_since_custom_time"])) >= 1))
        problems.push("delete rule races prune (days_since_custom_time < 1)");
    }
    return problems;
  },

  "the key, key ring, archive bucket and index cannot be destroyed by Terraform": (doc) =>
    [
      ["google_kms_key_ring", "backup"],
      ["google_kms_crypto_key", "archive"],
      ["google_storage_bucket", "archive"],
      ["google_firestore_database", "index"],
    ]
      .filter(
        ([type, name]) =>
          blocks(resourceBody(doc, type!, name!), "lifecycle")[0]?.["prevent_destroy"] !== true,
      )
      .map(([type, name]) => `${type}.${name} lacks prevent_destroy`),

  "IAM grants are exactly the least-privilege table": (doc) => {
    const key = (g: [string, string, string]): string => g.join(" | ");
    const actual = collectGrants(doc).map((g) => key([g.principal, g.role, g.target]));
    const expected = EXPECTED_GRANTS.map(key);
    return [
      ...actual.filter((g) => !expected.includes(g)).map((g) => `unexpected grant: ${g}`),
      ...expected.filter((g) => !actual.includes(g)).map((g) => `missing grant: ${g}`),
    ];
  },

  "project-level Firestore roles are conditioned to the index database": (doc) =>
    collectGrants(doc)
      .filter((g) => g.target === "project" && g.role.startsWith("roles/datastore."))
      .filter(
        (g) =>
          !g.conditioned || !JSON.stringify(localValue(doc, "firestore_condition")).includes("databases/"),
      )
      .map((g) => `${g.address}: ${g.principal} has ${g.role} on every database`),

  "no principal holds a forbidden role": (doc) =>
    collectGrants(doc).flatMap((g) =>
      FORBIDDEN_ROLES.filter(
        (f) =>
          (f.principal === "*" || f.principal === g.principal) &&
          f.role.test(g.role) &&
          (f.target === undefined || f.target === g.target),
      ).map((f) => `${g.address}: ${g.principal} has ${g.role} (${f.why})`),
    ),

  "only githubWebhook is public; restoreRepo and backupHealth need IAM": (doc) => {
    const problems = collectGrants(doc)
      .filter((g) => g.principal === "allUsers" || g.principal === "allAuthenticatedUsers")
      .filter((g) => g.target !== fn("githubWebhook"))
      .map((g) => `${g.address} makes ${g.target} public`);
    const ingress = localValue(doc, "functions") as Record<string, Body>;
    for (const name of ["sweep", "snapshotRepo", "verifySnapshot", "pruneSnapshots", "restoreOrgRepo"]) {
      if (ingress[name]?.["ingress"] !== "ALLOW_INTERNAL_ONLY")
        problems.push(`${name} accepts external traffic`);
    }
    return problems;
  },

  "project-level Cloud Storage roles reach only the functions' source bucket": (doc) => {
    const problems = collectGrants(doc)
      .filter((g) => g.target === "project" && g.role.startsWith("roles/storage."))
      .filter((g) => {
        const [type, name] = g.address.split(".") as [string, string];
        const expression = String(blocks(resourceBody(doc, type, name), "condition")[0]?.["expression"]);
        return !expression.includes("projects/_/buckets/${local.function_sources_bucket}");
      })
      .map((g) => `${g.address}: ${g.principal} has ${g.role} on every bucket`);
    if (localValue(doc, "function_sources_bucket") !== GCF_SOURCES_BUCKET)
      problems.push(`local.function_sources_bucket is not ${GCF_SOURCES_BUCKET}`);
    return problems;
  },

  "every clock of config/schedule.yaml has its Cloud Scheduler job": (doc) => {
    const problems: string[] = [];
    if (
      squash(localValue(doc, "schedule")) !== '${yamldecode(file("${path.module}/../config/schedule.yaml"))}'
    )
      problems.push("local.schedule is not read from config/schedule.yaml");
    if (localValue(doc, "daily_schedule") !== "${coalesce(var.backup_schedule, local.schedule.daily)}")
      problems.push("var.backup_schedule does not override the daily clock");
    const clocks = Object.keys(SCHEDULE).filter((k) => k !== "version");
    const planned = SCHEDULER_JOBS.map(([, clock]) => clock);
    problems.push(...clocks.filter((c) => !planned.includes(c)).map((c) => `no Scheduler job runs on ${c}`));
    const jobs = instancesOf(doc, "google_cloud_scheduler_job");
    const declared = Object.keys(jobs);
    problems.push(
      ...declared
        .filter((job) => !SCHEDULER_JOBS.some(([j]) => j === job))
        .map((job) => `google_cloud_scheduler_job.${job} runs on no clock of the file`),
    );
    for (const [job, clock, target] of SCHEDULER_JOBS) {
      const body = jobs[job];
      if (!body) {
        problems.push(`google_cloud_scheduler_job.${job} is missing`);
        continue;
      }
      const expected = clock === "daily" ? "${local.daily_schedule}" : `\${local.schedule.${clock}}`;
      if (body["schedule"] !== expected) problems.push(`${job} is not on the ${clock} clock`);
      if (body["time_zone"] !== "Etc/UTC") problems.push(`${job} is not in UTC`);
      const to = blocks(body, "pubsub_target")[0]?.["topic_name"] ?? blocks(body, "http_target")[0]?.["uri"];
      if (!String(to).includes(target)) problems.push(`${job} does not target ${target}`);
    }
    return problems;
  },

  "every workload is given exactly the variables its code reads": (doc) => {
    const problems: string[] = [];
    const given = new Set<string>();
    for (const w of WORKLOADS) {
      for (const [vars, when] of [
        [{}, ""],
        [ALL_OVERRIDES, " (every override set)"],
      ] as const) {
        const env = deployedEnv({ doc }, w, vars);
        const names = [...Object.keys(env.plain), ...env.secrets];
        names.forEach((n) => given.add(n));
        const reads: string[] = workloadEnv(w);
        problems.push(
          ...names
            .filter((n) => !reads.includes(n))
            .map((n) => `${w} is given ${n}, which it does not read${when}`),
          ...requiredEnv(w)
            .filter((n) => !names.includes(n))
            .map((n) => `${w} needs ${n} and is not given it${when}`),
          ...Object.keys(env.plain)
            .filter((n) => SECRETS.includes(n))
            .map((n) => `${w} gets the secret ${n} as plain environment`),
          ...reads
            .filter((n) => SECRETS.includes(n) && !env.secrets.includes(n))
            .map((n) => `${w} reads the secret ${n} and is not given it`),
        );
        // With every override set, a workload gets all it reads: no variable is beyond reach.
        if (vars === ALL_OVERRIDES) {
          problems.push(
            ...reads
              .filter((n) => !names.includes(n))
              .map((n) => `${w} reads ${n}, which Terraform never sets`),
          );
        }
      }
    }
    const declared = [
      ...Object.keys(localValue(doc, "env_always") as object),
      ...Object.keys(localValue(doc, "env_when_set") as object),
      ...Object.keys(localValue(doc, "secret_env") as object),
    ];
    problems.push(
      ...declared.filter((n) => !given.has(n)).map((n) => `${n} is set, and no workload reads it`),
    );
    return problems;
  },

  "overrides of config/*.yaml reach the code only when set": (doc) => {
    const problems = Object.entries(OVERRIDES)
      .filter(([variable]) => !isUnset(variableValue(doc, variable)))
      .map(([variable]) => `var.${variable} has a default; the file is the one home of the default`);
    for (const w of WORKLOADS) {
      const unset = Object.keys(deployedEnv({ doc }, w).plain).filter((n) =>
        Object.values(OVERRIDES).includes(n),
      );
      problems.push(...unset.map((n) => `${w} is given ${n} although its Terraform variable is unset`));
      const set = Object.keys(deployedEnv({ doc }, w, ALL_OVERRIDES).plain);
      problems.push(
        ...Object.entries(OVERRIDES)
          .filter(([, n]) => (workloadEnv(w) as string[]).includes(n) && !set.includes(n))
          .map(([variable, n]) => `${w} reads ${n} and is not given it when var.${variable} is set`),
      );
    }
    return problems;
  },

  "each secret is readable by exactly the workloads that read it": (doc) => {
    const secretEnv = localValue(doc, "secret_env") as Record<string, string>;
    const grants = collectGrants(doc).filter((g) => g.role === "roles/secretmanager.secretAccessor");
    const problems = grants
      .filter((g) => !Object.values(secretEnv).some((e) => e.includes(`\${${g.target}.`)))
      .map((g) => `${g.address} grants a secret no workload reads: ${g.target}`);
    for (const name of SECRET_ENV) {
      const secret = /\$\{(google_secret_manager_secret\.[a-z0-9_]+)\.secret_id\}/.exec(
        secretEnv[name] ?? "",
      )?.[1];
      if (!secret) {
        problems.push(`local.secret_env has no secret for ${name}`);
        continue;
      }
      const readers = WORKLOADS.filter((w) => workloadEnv(w).includes(name)).map((w) =>
        workloadServiceAccount({ doc }, w),
      );
      const holders = grants.filter((g) => g.target === secret).map((g) => g.principal);
      problems.push(
        ...readers
          .filter((r) => !holders.includes(r))
          .map((r) => `${r} reads ${name} and cannot access ${secret}`),
        ...holders
          .filter((h) => !readers.includes(h))
          .map((h) => `${h} can access ${secret} without reading ${name}`),
      );
    }
    return problems;
  },
} satisfies Record<string, Rule>;

type RuleName = keyof typeof rules;

// [Scheduler job, its clock in config/schedule.yaml, what it reaches]
/** A job of the for_each over local.published_jobs, by its key (its address before the for_each). */
const published = (key: string): string => `published["${key}"]`;
/** local.published_jobs of a document (a clone, in the breakage table). */
const publishedJobs = (doc: TerraformDoc) => localValue(doc, "published_jobs") as Record<string, Body>;
/** Each Scheduler job (its instance address under google_cloud_scheduler_job), clock and target. */
const SCHEDULER_JOBS: [string, string, string][] = [
  [published("daily_sweep"), "daily", topic("snapshot-sweep")],
  [published("rpo_sweep"), "rpoSweep", topic("snapshot-sweep")],
  [published("verify_sweep"), "verifySweep", topic("snapshot-sweep")],
  [published("metadata_reconcile"), "metadataReconcile", topic("snapshot-sweep")],
  [published("org_snapshot"), "orgSnapshot", topic("snapshot-sweep")],
  [published("prune"), "prune", topic("prune-requests")],
  ["health_check", "healthCheck", fn("backupHealth")],
  ["restore_drill", "restoreDrill", fn("restoreDrill")],
  ["snapshot_job", "snapshotJob", "google_cloud_run_v2_job.snapshot_job"],
];

describe("infra/ keeps its promises", () => {
  it.each(Object.keys(rules) as RuleName[])("%s", (name) => {
    expect(rules[name](infra.doc)).toEqual([]);
  });
});

// Each breakage must make its rule report a problem.
const BREAKAGES: { name: string; rule: RuleName; breakIt: (doc: TerraformDoc) => void }[] = [
  {
    name: "a delivery subscription without dead_letter_policy",
    rule: "every topic is delivered with retries and a dead-letter topic",
    breakIt: (doc) =>
      delete resourceBody(doc, "google_pubsub_subscription", "delivery")["dead_letter_policy"],
  },
  {
    name: "no dead-letter topics",
    rule: "every topic is delivered with retries and a dead-letter topic",
    breakIt: (doc) => delete doc.resource["google_pubsub_topic"]!["dead_letter"],
  },
  {
    name: "a subscription without retry_policy",
    rule: "every topic is delivered with retries and a dead-letter topic",
    breakIt: (doc) => delete resourceBody(doc, "google_pubsub_subscription", "delivery")["retry_policy"],
  },
  {
    name: "an age-based delete rule on the archive bucket",
    rule: "the archive bucket deletes only by the expiry prune sets (customTime), never by age",
    breakIt: (doc) =>
      blocks(resourceBody(doc, "google_storage_bucket", "archive"), "lifecycle_rule").push({
        condition: [{ age: 365 }],
        action: [{ type: "Delete" }],
      }),
  },
  {
    name: "age added to the customTime delete rule",
    rule: "the archive bucket deletes only by the expiry prune sets (customTime), never by age",
    breakIt: (doc) => {
      const rule = blocks(resourceBody(doc, "google_storage_bucket", "archive"), "lifecycle_rule").find(
        (r) => block(r, "action")["type"] === "Delete",
      );
      block(rule!, "condition")["age"] = 30;
    },
  },
  {
    name: "the crypto key without prevent_destroy",
    rule: "the key, key ring, archive bucket and index cannot be destroyed by Terraform",
    breakIt: (doc) => delete resourceBody(doc, "google_kms_crypto_key", "archive")["lifecycle"],
  },
  {
    name: "objectAdmin instead of objectCreator for snapshot",
    rule: "no principal holds a forbidden role",
    breakIt: (doc) =>
      ((localValue(doc, "bucket_grants") as Record<string, Body>)["snapshot_creates_archives"]!["role"] =
        "roles/storage.objectAdmin"),
  },
  {
    name: "storage.admin on the project",
    rule: "no principal holds a forbidden role",
    breakIt: (doc) =>
      addGrant(doc, "google_project_iam_member", "snapshot", "roles/storage.admin", { project: "x" }),
  },
  {
    name: "Editor on the project",
    rule: "no principal holds a forbidden role",
    breakIt: (doc) => addGrant(doc, "google_project_iam_member", "health", "roles/editor", { project: "x" }),
  },
  {
    name: "decrypt for prune",
    rule: "no principal holds a forbidden role",
    breakIt: (doc) =>
      addGrant(doc, "google_kms_crypto_key_iam_member", "prune", "roles/cloudkms.cryptoKeyDecrypter", {
        crypto_key_id: `\${${ARCHIVE_KEY}.id}`,
      }),
  },
  {
    name: "datastore.user without the database condition",
    rule: "project-level Firestore roles are conditioned to the index database",
    breakIt: (doc) => delete resourceBody(doc, "google_project_iam_member", "firestore_user")["condition"],
  },
  {
    name: "an extra grant not in the table",
    rule: "IAM grants are exactly the least-privilege table",
    breakIt: (doc) =>
      addGrant(doc, "google_storage_bucket_iam_member", "health", "roles/storage.objectViewer", {
        bucket: `\${${ARCHIVE_BUCKET}.name}`,
      }),
  },
  {
    name: "a public restoreRepo",
    rule: "only githubWebhook is public; restoreRepo and backupHealth need IAM",
    breakIt: (doc) => {
      doc.resource["google_cloud_run_v2_service_iam_member"]!["restore_public"] = [
        {
          name: `\${${fn("restoreRepo")}.service_config[0].service}`,
          role: "roles/run.invoker",
          member: "allUsers",
        },
      ];
    },
  },
  {
    name: "no prune Scheduler job",
    rule: "every clock of config/schedule.yaml has its Cloud Scheduler job",
    breakIt: (doc) => delete publishedJobs(doc)["prune"],
  },
  {
    name: "no RPO sweep",
    rule: "every clock of config/schedule.yaml has its Cloud Scheduler job",
    breakIt: (doc) => delete publishedJobs(doc)["rpo_sweep"],
  },
  {
    name: "a schedule written in Terraform instead of read from the file",
    rule: "every clock of config/schedule.yaml has its Cloud Scheduler job",
    breakIt: (doc) => (publishedJobs(doc)["prune"]!["schedule"] = "0 3 * * *"),
  },
  {
    name: "var.backup_schedule no longer overriding the daily clock",
    rule: "every clock of config/schedule.yaml has its Cloud Scheduler job",
    breakIt: (doc) => (publishedJobs(doc)["daily_sweep"]!["schedule"] = "${local.schedule.daily}"),
  },
  {
    name: "the builder reading every bucket of the project",
    rule: "project-level Cloud Storage roles reach only the functions' source bucket",
    breakIt: (doc) =>
      delete resourceBody(doc, "google_project_iam_member", "builder_reads_function_sources")["condition"],
  },
  {
    name: "INFINITY_BACKEND set again (nothing reads it)",
    rule: "every workload is given exactly the variables its code reads",
    breakIt: (doc) => ((localValue(doc, "env_always") as Record<string, string>)["INFINITY_BACKEND"] = "gcp"),
  },
  {
    name: "GITHUB_ORG given with the GitHub part (the code no longer reads it)",
    rule: "every workload is given exactly the variables its code reads",
    breakIt: (doc) => {
      (localValue(doc, "env_parts") as Record<string, string[]>)["github"]!.push("GITHUB_ORG");
      (localValue(doc, "env_always") as Record<string, string>)["GITHUB_ORG"] = "${var.github_org}";
    },
  },
  {
    name: "verifySnapshot wired with GitHub (it would get, and need, the App key)",
    rule: "every workload is given exactly the variables its code reads",
    breakIt: (doc) =>
      (localValue(doc, "workload_parts") as Record<string, string[]>)["verifySnapshot"]!.push("github"),
  },
  {
    name: "the job without its subscription",
    rule: "every workload is given exactly the variables its code reads",
    breakIt: (doc) =>
      delete (localValue(doc, "env_always") as Record<string, string>)["LARGE_SNAPSHOT_SUBSCRIPTION"],
  },
  {
    name: "VERIFY_BACKUPS always passed (the file's default would never apply)",
    rule: "overrides of config/*.yaml reach the code only when set",
    breakIt: (doc) => {
      delete (localValue(doc, "env_when_set") as Record<string, string>)["VERIFY_BACKUPS"];
      (localValue(doc, "env_always") as Record<string, string>)["VERIFY_BACKUPS"] =
        "${tostring(var.verify_backups)}";
    },
  },
  {
    name: "RETENTION_DAYS defaulting in Terraform (a second home of the default)",
    rule: "overrides of config/*.yaml reach the code only when set",
    breakIt: (doc) => (doc.variable["retention_days"]![0]!["default"] = 30),
  },
  {
    name: "backupHealth able to read the App key",
    rule: "each secret is readable by exactly the workloads that read it",
    breakIt: (doc) => {
      const forEach = resourceBody(doc, "google_secret_manager_secret_iam_member", "github_app_private_key")[
        "for_each"
      ] as Record<string, string>;
      forEach["health"] = "${google_service_account.health.email}";
    },
  },
  {
    name: "sweep unable to read the App key",
    rule: "each secret is readable by exactly the workloads that read it",
    breakIt: (doc) => {
      const forEach = resourceBody(doc, "google_secret_manager_secret_iam_member", "github_app_private_key")[
        "for_each"
      ] as Record<string, string>;
      delete forEach["sweep"];
    },
  },
];

function addGrant(doc: TerraformDoc, type: string, sa: string, role: string, target: Body): void {
  (doc.resource[type] ??= {})[`added_${sa}`] = [
    { ...target, role, member: `serviceAccount:\${google_service_account.${sa}.email}` },
  ];
}

describe("the rules catch breakage", () => {
  it.each(BREAKAGES)("$name", ({ rule, breakIt }) => {
    const broken = structuredClone(infra.doc);
    breakIt(broken);
    expect(rules[rule](broken)).not.toEqual([]);
  });
});

describe("layout and consistency", () => {
  // Matched against "type.name".
  const CONCERNS: [RegExp, string][] = [
    [/^google_[a-z0-9_]+_iam_|^google_service_account\.|^time_sleep\.iam_propagation$/, "iam.tf"],
    [/^google_kms_/, "kms.tf"],
    [/^google_(storage_bucket|storage_bucket_object|artifact_registry_repository)\./, "storage.tf"],
    [/^google_firestore_/, "firestore.tf"],
    [/^google_pubsub_/, "pubsub.tf"],
    [/^google_cloud_scheduler_job\./, "scheduler.tf"],
    [/^google_cloudfunctions2_function\./, "functions.tf"],
    [/^google_cloud_run_v2_job\./, "run_job.tf"],
    [/^google_secret_manager_secret\./, "secrets.tf"],
    [/^google_(monitoring|logging)_|^time_sleep\.log_metrics$/, "monitoring.tf"],
  ];

  it("every resource lives in the file of its concern", () => {
    const misplaced = Object.entries(infra.resourcesByFile).flatMap(([file, addresses]) =>
      addresses.filter((a) => CONCERNS.find(([pattern]) => pattern.test(a))?.[1] !== file),
    );
    expect(misplaced).toEqual([]);
  });

  it("every reference names something declared", () => {
    const declared = new Set([
      ...Object.entries(infra.doc.resource).flatMap(([t, byName]) =>
        Object.keys(byName).map((n) => `${t}.${n}`),
      ),
      ...Object.entries(infra.doc.data).flatMap(([t, byName]) =>
        Object.keys(byName).map((n) => `data.${t}.${n}`),
      ),
      ...Object.keys(infra.doc.variable).map((v) => `var.${v}`),
      ...infra.doc.locals.flatMap((l) => Object.keys(l).map((k) => `local.${k}`)),
    ]);
    // A moved block's `from` names an address that is gone by design; its `to` must be declared.
    const { moved, ...rest } = infra.doc;
    const named = [...references(rest), ...references(moved.map((m) => m["to"]))];
    expect(named.filter((r) => !declared.has(r))).toEqual([]);
  });

  it("pins each provider to one major version (the lock file pins the exact one)", () => {
    const providers = block(infra.doc.terraform[0]!, "required_providers");
    expect(providers).toEqual({
      google: { source: "hashicorp/google", version: "~> 7.0" },
      time: { source: "hashicorp/time", version: "~> 0.13" },
    });
    expect(infra.sources["versions.tf"]).toContain(".terraform.lock.hcl");
  });

  it("documents every variable and output", () => {
    const undocumented = [
      ...Object.entries(infra.doc.variable).filter(([, [v]]) => !v?.["description"] || !v["type"]),
      ...Object.entries(infra.doc.output).filter(([, [o]]) => !o?.["description"]),
    ].map(([name]) => name);
    expect(undocumented).toEqual([]);
  });

  it.each([
    // The clocks and the retention rules default in config/*.yaml, not here.
    ["backup_schedule", null],
    ["retention_days", null],
    ["verify_backups", null],
    ["legal_hold_repos", []],
    ["github_api_url", null],
    ["github_git_url", null],
    ["retention_floor_days", 7],
    ["kms_rotation_period", "7776000s"],
    ["nearline_after_days", 30],
    ["coldline_after_days", 90],
    ["archive_after_days", 365],
  ])("var.%s defaults to %j", (name, value) => {
    expect(variableDefault(infra.doc, name)).toEqual(value);
  });

  it("has no variable the code no longer reads, and no second home for a clock", () => {
    const names = Object.keys(infra.doc.variable);
    expect(names).not.toContain("github_org");
    expect(names.filter((n) => n.endsWith("_schedule"))).toEqual(["backup_schedule"]);
  });

  it.each([
    "project_id",
    "github_app_id",
    "github_api_url",
    "github_git_url",
    "retention_floor_days",
    "kms_rotation_period",
    "backup_schedule",
    "retention_days",
    "legal_hold_repos",
    "max_delivery_attempts",
    "operator_members",
    "restorer_members",
    "auditor_members",
    "admin_members",
    "soft_delete_days",
    "archive_retention_mode",
    "alert_email",
  ])("var.%s is validated", (name) => {
    expect(blocks(infra.doc.variable[name]![0]!, "validation")).not.toHaveLength(0);
  });

  it.each([
    "github_webhook_url",
    "restore_repo_url",
    "backup_health_url",
    "archive_bucket",
    "restore_bucket",
    "kms_key_name",
    "topics",
    "dead_letter_subscriptions",
    "builder_service_account",
    "source_bucket",
  ])("outputs %s", (name) => {
    expect(infra.doc.output[name]).toBeDefined();
  });
});

describe("keys and storage", () => {
  const archive = resourceBody(infra.doc, "google_storage_bucket", "archive");

  it("the crypto key encrypts/decrypts and rotates on var.kms_rotation_period", () => {
    const key = resourceBody(infra.doc, "google_kms_crypto_key", "archive");
    expect(key).toMatchObject({ purpose: "ENCRYPT_DECRYPT", rotation_period: "${var.kms_rotation_period}" });
  });

  it("the archive bucket is private, uniform, unversioned, with a retention floor", () => {
    expect(archive).toMatchObject({
      uniform_bucket_level_access: true,
      public_access_prevention: "enforced",
    });
    expect(block(archive, "versioning")["enabled"]).toBe(false);
    expect(block(archive, "retention_policy")["retention_period"]).toContain("var.retention_floor_days");
  });

  it("the archive bucket has no CMEK, and says why", () => {
    expect(archive["encryption"]).toBeUndefined();
    expect(infra.sources["storage.tf"]).toMatch(/CMEK[\s\S]*envelope-encrypted/);
  });

  it("archives move to colder classes at 30, 90 and 365 days", () => {
    const transitions = Object.fromEntries(
      blocks(archive, "lifecycle_rule")
        .filter((r) => block(r, "action")["type"] === "SetStorageClass")
        .map((r) => [block(r, "action")["storage_class"], resolve(infra.doc, block(r, "condition")["age"])]),
    );
    expect(transitions).toEqual({ NEARLINE: 30, COLDLINE: 90, ARCHIVE: 365 });
  });

  it("age moves snapshot archives only: no class rule matches a layer's key", () => {
    const rules = blocks(archive, "lifecycle_rule").filter(
      (r) => block(r, "action")["type"] === "SetStorageClass",
    );
    expect(rules).toHaveLength(3);
    const archiveObject = archiveKey("acme/app", new Date("2026-12-01T00:00:00Z"), "s1");
    for (const rule of rules) {
      const prefixes = block(rule, "condition")["matches_prefix"] as string[] | undefined;
      // Without a prefix a rule matches every object, layers included.
      expect(prefixes).toEqual([ARCHIVES_PREFIX]);
      const matches = (key: string) => prefixes!.some((prefix) => key.startsWith(prefix));
      expect(matches(archiveObject)).toBe(true);
      expect(matches(layerKey("acme/app", "l1"))).toBe(false);
      expect(matches(layerOidsKey("acme/app", "l1"))).toBe(false);
    }
  });

  it("incomplete multipart uploads are aborted", () => {
    const actions = blocks(archive, "lifecycle_rule").map((r) => block(r, "action")["type"]);
    expect(actions).toContain("AbortIncompleteMultipartUpload");
  });

  it("secrets hold no values in Terraform (no secret versions in state)", () => {
    expect(
      resourcesOf(infra.doc, "google_secret_manager_secret")
        .map((s) => s.name)
        .sort(),
    ).toEqual(["github_app_private_key", "github_webhook_secret", "smtp_password"]);
    expect(infra.doc.resource["google_secret_manager_secret_version"]).toBeUndefined();
  });
});

describe("the audit trail", () => {
  it("routes our audit entries to a log bucket of their own, kept seven years, lockable", () => {
    const bucket = resourceBody(infra.doc, "google_logging_project_bucket_config", "audit");
    expect(bucket).toMatchObject({
      locked: "${var.lock_audit_log}",
      retention_days: "${var.audit_log_retention_days}",
    });
    expect(variableDefault(infra.doc, "audit_log_retention_days")).toBeGreaterThanOrEqual(7 * 365);
    expect(variableDefault(infra.doc, "lock_audit_log")).toBe(false);
    const sink = resourceBody(infra.doc, "google_logging_project_sink", "audit");
    expect(sink["filter"]).toBe("jsonPayload.audit = true");
    expect(String(sink["destination"])).toMatch(
      /^logging\.googleapis\.com\/projects\/\$\{var\.project_id\}\/locations\/\$\{var\.region\}\/buckets\/\$\{google_logging_project_bucket_config\.audit\.bucket_id\}$/,
    );
  });

  it("the field the sink filters on is the one our audit entries carry", async () => {
    const { LogAuditLog } = await import("../../functions/adapters/gcp/log-audit.js");
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const capture = (chunk: string | Uint8Array): boolean => (lines.push(String(chunk)), true);
    process.stdout.write = capture as typeof process.stdout.write;
    const stderr = process.stderr.write.bind(process.stderr);
    process.stderr.write = capture as typeof process.stderr.write;
    try {
      await new LogAuditLog().record({ action: "restore.completed", actor: "t", outcome: "success" });
    } finally {
      process.stdout.write = write;
      process.stderr.write = stderr;
    }
    const entry = JSON.parse(lines.join("").trim().split("\n").at(-1)!) as Record<string, unknown>;
    expect(entry["audit"]).toBe(true);
  });

  it("Data Access audit logs cover the archives, the key and the index", () => {
    const audit = resourceBody(infra.doc, "google_project_iam_audit_config", "data_access");
    for (const service of ["storage.googleapis.com", "cloudkms.googleapis.com", "datastore.googleapis.com"])
      expect(String(audit["for_each"])).toContain(service);
  });

  it("no function may configure or delete logs", () => {
    const roles = collectGrants(infra.doc).map((g) => g.role);
    expect(roles.filter((r) => /^roles\/logging\.(admin|configWriter|bucketWriter)$/.test(r))).toEqual([]);
  });
});

describe("the Firestore index", () => {
  // Its composite indexes and field overrides are checked against the code's queries in
  // firestore-indexes.test.ts.
  it("is a protected native database that Terraform abandons rather than deletes", () => {
    expect(resourceBody(infra.doc, "google_firestore_database", "index")).toMatchObject({
      type: "FIRESTORE_NATIVE",
      delete_protection_state: "DELETE_PROTECTION_ENABLED",
      point_in_time_recovery_enablement: "POINT_IN_TIME_RECOVERY_ENABLED",
      deletion_policy: "ABANDON",
    });
  });
});

describe("functions and the snapshot job", () => {
  const functions = localValue(infra.doc, "functions") as Record<string, Body>;
  const resource = resourceBody(infra.doc, "google_cloudfunctions2_function", "fn");
  const grants = collectGrants(infra.doc);

  it("deploys the twelve entry points from one source, as 2nd-gen functions on a supported Node runtime", () => {
    expect(Object.keys(functions).sort()).toEqual([...ENTRY_POINTS].sort());
    expect(resource).toMatchObject({ for_each: "${local.functions}", name: "${each.key}" });
    const build = block(resource, "build_config");
    expect(build).toMatchObject({ runtime: "${var.function_runtime}", entry_point: "${each.key}" });
    // nodejs20 was decommissioned by Google on 2026-10-30.
    expect(variableDefault(infra.doc, "function_runtime")).toBe("nodejs22");
    expect(block(block(build, "source"), "storage_source")).toEqual({
      bucket: "${google_storage_bucket.source.name}",
      object: "${google_storage_bucket_object.function_source.name}",
      generation: "${google_storage_bucket_object.function_source.generation}",
    });
  });

  it("runs as many restoreOrgRepo instances as the organization restore's pace is shared between", () => {
    expect(functions["restoreOrgRepo"]!["max_instances"]).toBe(ORG_RESTORES_AT_ONCE);
  });

  it("keeps one backupHealth instance warm, with the memory for what it keeps, and no other function", () => {
    // A fresh instance replays every repository's storage classes before its first page (bench/README.md).
    expect(block(resource, "service_config")["min_instance_count"]).toBe("${each.value.min_instances}");
    expect(functions["backupHealth"]!["min_instances"]).toBe(1);
    expect(functions["backupHealth"]!["memory"]).toBe("1Gi");
    for (const [name, fn] of Object.entries(functions))
      if (name !== "backupHealth") expect(fn["min_instances"], name).toBe(0);
  });

  it("lets the Node.js buildpack run package.json's gcp-build (compiled JavaScript in production)", () => {
    // GOOGLE_NODE_RUN_SCRIPTS="" would skip gcp-build, and the functions would have no dist/.
    expect(block(resource, "build_config")["environment_variables"]).toBeUndefined();
    expect(JSON.stringify(resource)).not.toContain("GOOGLE_NODE_RUN_SCRIPTS");
  });

  it("runs each function as its own service account", () => {
    const accounts = Object.values(functions).map((f) => f["service_account"]);
    expect(new Set(accounts).size).toBe(ENTRY_POINTS.length);
  });

  it("deploys every workload of functions/config/cloud-env.ts, and only those", () => {
    expect([...ENTRY_POINTS, "snapshotJob"].sort()).toEqual([...WORKLOADS].sort());
    expect(Object.keys(localValue(infra.doc, "workload_parts") as object).sort()).toEqual(
      [...WORKLOADS].sort(),
    );
  });

  it("mirrors cloud-env.ts part for part", async () => {
    const { PART_ENV } = await import("../../functions/config/cloud-env.js");
    expect(localValue(infra.doc, "env_parts")).toEqual(PART_ENV);
    expect(localValue(infra.doc, "workload_parts")).toEqual(WORKLOAD_PARTS);
  });

  describe.each(WORKLOADS)("%s", (workload) => {
    const reads: string[] = workloadEnv(workload);
    const required: string[] = requiredEnv(workload);

    it.each([
      ["the defaults", {}],
      ["every override set", ALL_OVERRIDES],
    ] as const)("with %s, is given a part of what it reads, including all it needs", (_, vars) => {
      const { plain, secrets } = deployedEnv(infra, workload, vars);
      const names = [...Object.keys(plain), ...secrets];
      expect(names.filter((n) => !reads.includes(n))).toEqual([]);
      expect(required.filter((n) => !names.includes(n))).toEqual([]);
      if (vars === ALL_OVERRIDES) expect(names.sort()).toEqual([...reads].sort());
    });

    it("gets exactly the secrets it reads, from Secret Manager only", () => {
      const { plain, secrets } = deployedEnv(infra, workload);
      expect(secrets).toEqual(reads.filter((n) => SECRETS.includes(n)).sort());
      expect(Object.keys(plain).filter((n) => SECRETS.includes(n))).toEqual([]);
    });

    it("may read each secret it gets, as its own account", () => {
      const account = workloadServiceAccount(infra, workload);
      const secretEnv = localValue(infra.doc, "secret_env") as Record<string, string>;
      for (const name of deployedEnv(infra, workload).secrets) {
        const secret = /\$\{(google_secret_manager_secret\.[a-z0-9_]+)\.secret_id\}/.exec(
          secretEnv[name]!,
        )![1];
        expect(grants).toContainEqual(
          expect.objectContaining({
            principal: account,
            role: "roles/secretmanager.secretAccessor",
            target: secret,
          }),
        );
      }
    });
  });

  // The readable form of the rules above: who holds which secret.
  it.each([
    ["sweep", ["GITHUB_APP_PRIVATE_KEY"]],
    ["snapshotRepo", ["GITHUB_APP_PRIVATE_KEY", "SMTP_PASSWORD"]],
    ["verifySnapshot", ["SMTP_PASSWORD"]],
    ["pruneSnapshots", []],
    ["restoreRepo", ["GITHUB_APP_PRIVATE_KEY"]],
    ["restoreOrg", []],
    ["restoreOrgRepo", ["GITHUB_APP_PRIVATE_KEY"]],
    ["backupHealth", ["SMTP_PASSWORD"]],
    ["restoreDrill", ["SMTP_PASSWORD"]],
    ["githubWebhook", ["GITHUB_WEBHOOK_SECRET"]],
    ["snapshotJob", ["GITHUB_APP_PRIVATE_KEY", "SMTP_PASSWORD"]],
  ])("%s gets the secrets %j", (workload, secrets) => {
    expect(deployedEnv(infra, workload).secrets).toEqual(secrets);
  });

  it.each([...SECRET_ENV])("%s is readable by exactly the accounts of the workloads that read it", (name) => {
    const secretEnv = localValue(infra.doc, "secret_env") as Record<string, string>;
    const secret = /\$\{(google_secret_manager_secret\.[a-z0-9_]+)\.secret_id\}/.exec(secretEnv[name]!)![1];
    const readers = WORKLOADS.filter((w) => (workloadEnv(w) as string[]).includes(name)).map((w) =>
      workloadServiceAccount(infra, w),
    );
    const holders = grants
      .filter((g) => g.role === "roles/secretmanager.secretAccessor" && g.target === secret)
      .map((g) => g.principal);
    expect(holders.sort()).toEqual(readers.sort());
  });

  it("sets nothing the code no longer reads (INFINITY_BACKEND, BACKUP_SCHEDULE, GITHUB_ORG)", () => {
    for (const workload of WORKLOADS) {
      const { plain } = deployedEnv(infra, workload, ALL_OVERRIDES);
      expect(Object.keys(plain)).not.toContain("INFINITY_BACKEND");
      expect(Object.keys(plain)).not.toContain("BACKUP_SCHEDULE");
      expect(Object.keys(plain)).not.toContain("GITHUB_ORG");
    }
  });

  it("passes the overrides of config/*.yaml only when set, legal holds joined by commas", () => {
    expect(deployedEnv(infra, "pruneSnapshots").plain).not.toHaveProperty("LEGAL_HOLD_REPOS");
    expect(deployedEnv(infra, "pruneSnapshots").plain).not.toHaveProperty("RETENTION_DAYS");
    expect(deployedEnv(infra, "snapshotRepo").plain).not.toHaveProperty("VERIFY_BACKUPS");
    expect(deployedEnv(infra, "pruneSnapshots", ALL_OVERRIDES).plain).toMatchObject({
      LEGAL_HOLD_REPOS: '${join(",", var.legal_hold_repos)}',
      RETENTION_DAYS: "${tostring(var.retention_days)}",
    });
    expect(deployedEnv(infra, "snapshotJob", { verify_backups: false }).plain).toMatchObject({
      VERIFY_BACKUPS: "${tostring(var.verify_backups)}",
    });
  });

  it("mounts secrets from Secret Manager, not plain env", () => {
    const secretEnv = dynamicContents(block(resource, "service_config"), "secret_environment_variables");
    expect(secretEnv).toEqual([
      expect.objectContaining({
        key: "${secret_environment_variables.value}",
        secret: "${local.secret_env[secret_environment_variables.value]}",
        version: "latest",
      }),
    ]);
    expect(localValue(infra.doc, "secret_env")).toEqual({
      GITHUB_APP_PRIVATE_KEY: `\${${APP_KEY}.secret_id}`,
      GITHUB_WEBHOOK_SECRET: `\${${WEBHOOK_SECRET}.secret_id}`,
      SMTP_PASSWORD: `\${${SMTP_PASSWORD}.secret_id}`,
    });
  });

  it("delivers the five event topics by push to their function, and says why not Eventarc", () => {
    const topics = localValue(infra.doc, "topics") as Record<string, Body>;
    expect(Object.fromEntries(Object.entries(topics).map(([t, v]) => [t, v["push_function"]]))).toEqual({
      "snapshot-sweep": "sweep",
      "snapshot-requests": "snapshotRepo",
      "verify-requests": "verifySnapshot",
      "prune-requests": "pruneSnapshots",
      "snapshot-large": null,
      "restore-requests": "restoreOrgRepo",
    });
    expect(resource["event_trigger"]).toBeUndefined();
    expect(infra.sources["pubsub.tf"]).toMatch(/Eventarc[\s\S]*cannot take dead-letter settings/);
  });

  it("runs snapshot-job with the same code, its own account, and the snapshot-large subscription", () => {
    const job = resourceBody(infra.doc, "google_cloud_run_v2_job", "snapshot_job");
    const template = block(block(job, "template"), "template");
    const container = block(template, "containers");
    expect(job["name"]).toBe("snapshot-job");
    expect(template["service_account"]).toBe("${google_service_account.snapshot_job.email}");
    expect(container).toMatchObject({
      image: "${var.snapshot_job_image}",
      command: ["node"],
      args: ["bin/infinity-backup.mjs", "job", "snapshot"],
    });
    // The subscription the job drains is the one pubsub.tf declares for snapshot-large.
    const subscription = '${local.delivery_subscription_names["snapshot-large"]}';
    expect(deployedEnv(infra, "snapshotJob").plain["LARGE_SNAPSHOT_SUBSCRIPTION"]).toBe(subscription);
    expect(resourceBody(infra.doc, "google_pubsub_subscription", "delivery")["name"]).toBe(
      "${local.delivery_subscription_names[each.key]}",
    );
  });
});

describe("the clocks: config/schedule.yaml", () => {
  /** The cron a Scheduler job runs on, as Terraform would evaluate it. */
  const scheduleOf = (job: string, vars: TfVars = {}): unknown => {
    const expression = instancesOf(infra.doc, "google_cloud_scheduler_job")[job]!["schedule"];
    const clock = /^\$\{local\.schedule\.([A-Za-z]+)\}$/.exec(String(expression))?.[1];
    if (clock) return SCHEDULE[clock];
    expect(expression).toBe("${local.daily_schedule}");
    expect(localValue(infra.doc, "daily_schedule")).toBe(
      "${coalesce(var.backup_schedule, local.schedule.daily)}",
    );
    return variableValue(infra.doc, "backup_schedule", vars) ?? SCHEDULE["daily"];
  };

  it("is the file Terraform reads", () => {
    expect(squash(localValue(infra.doc, "schedule"))).toBe(
      '${yamldecode(file("${path.module}/../config/schedule.yaml"))}',
    );
    expect(SCHEDULE["version"]).toBe(1);
  });

  it("the Scheduler jobs run exactly on the file's clocks", () => {
    const fromJobs = Object.fromEntries(SCHEDULER_JOBS.map(([job, clock]) => [clock, scheduleOf(job)]));
    const { version: _version, ...clocks } = SCHEDULE;
    expect(fromJobs).toEqual(clocks);
    expect(Object.keys(instancesOf(infra.doc, "google_cloud_scheduler_job")).sort()).toEqual(
      SCHEDULER_JOBS.map(([job]) => job).sort(),
    );
  });

  it("the published jobs keep their names and move from their old addresses, not replaced", () => {
    // Each was a resource of its own, named by its key; an existing deployment's state moves.
    const keys = Object.keys(publishedJobs(infra.doc)).sort();
    expect(keys).toEqual(
      ["daily_sweep", "metadata_reconcile", "org_snapshot", "prune", "rpo_sweep", "verify_sweep"].sort(),
    );
    const moved = infra.doc.moved.map((m) => [m["from"], m["to"]]);
    for (const key of keys)
      expect(moved, key).toContainEqual([
        `\${google_cloud_scheduler_job.${key}}`,
        `\${google_cloud_scheduler_job.${published(key)}}`,
      ]);
    // The job's name, as Terraform evaluates it: the key with dashes, as each was named before.
    const jobs = instancesOf(infra.doc, "google_cloud_scheduler_job");
    for (const key of keys) {
      expect(jobs[published(key)]!["name"]).toBe(`infinity-backup-\${replace("${key}", "_", "-")}`);
    }
    const names = keys.map((key) => `infinity-backup-${key.replaceAll("_", "-")}`);
    expect(names).toContain("infinity-backup-daily-sweep");
    // Each publishes its own message of local.scheduled_messages, with the old retry counts.
    for (const key of keys) {
      const job = jobs[published(key)]!;
      expect(block(job, "pubsub_target")["data"]).toBe(
        `\${base64encode(jsonencode(local.scheduled_messages["${key}"]))}`,
      );
      expect(block(job, "retry_config")["retry_count"]).toBe(key === "rpo_sweep" ? 1 : 3);
    }
  });

  it("var.backup_schedule (BACKUP_SCHEDULE) overrides the daily sweep, and only it", () => {
    const vars = { backup_schedule: "0 2 * * *" };
    for (const [job, clock] of SCHEDULER_JOBS) {
      expect(scheduleOf(job, vars)).toBe(clock === "daily" ? "0 2 * * *" : SCHEDULE[clock]);
    }
  });

  it("keeps the message bodies the request schemas expect", () => {
    const messages = localValue(infra.doc, "scheduled_messages") as Record<string, unknown>;
    expect(messages).toEqual({
      daily_sweep: { v: 1, reason: "schedule" },
      rpo_sweep: { v: 1, reason: "rpo-sweep" },
      verify_sweep: { v: 1, reason: "verify-sweep" },
      metadata_reconcile: { v: 1, reason: "reconcile" },
      org_snapshot: { v: 1, reason: "org" },
      prune: { v: 1 },
      restore_drill: { v: 1 },
    });
    for (const [job, body] of Object.entries(messages)) {
      const schema =
        job === "prune"
          ? pruneRequestSchema
          : job === "restore_drill"
            ? drillRequestSchema
            : sweepRequestSchema;
      expect(schema.safeParse(body).success, job).toBe(true);
    }
  });
});

describe("a first apply that succeeds", () => {
  const dependsOn = (type: string, name: string): unknown =>
    resourceBody(infra.doc, type, name)["depends_on"];

  it("the builder can read the bucket Cloud Functions builds from, before that bucket exists", () => {
    const grant = resourceBody(infra.doc, "google_project_iam_member", "builder_reads_function_sources");
    expect(grant).toMatchObject({
      role: "roles/storage.objectViewer",
      member: "serviceAccount:${google_service_account.builder.email}",
    });
    const expression = String(block(grant, "condition")["expression"]);
    expect(expression).toContain('resource.name == "projects/_/buckets/${local.function_sources_bucket}"');
    expect(expression).toContain(
      'resource.name.startsWith("projects/_/buckets/${local.function_sources_bucket}/")',
    );
    expect(localValue(infra.doc, "function_sources_bucket")).toBe(GCF_SOURCES_BUCKET);
    expect(infra.sources["iam.tf"]).toMatch(/bucket-level grant[\s\S]*cannot be declared before it exists/);
  });

  it("functions and the job wait for their IAM grants to propagate", () => {
    expect(dependsOn("google_cloudfunctions2_function", "fn")).toEqual(["${time_sleep.iam_propagation}"]);
    expect(dependsOn("google_cloud_run_v2_job", "snapshot_job")).toEqual(["${time_sleep.iam_propagation}"]);
    const sleep = resourceBody(infra.doc, "time_sleep", "iam_propagation");
    expect(sleep["create_duration"]).toBe("120s");
    const builderGrants = collectGrants(infra.doc)
      .filter((g) => g.principal === "builder")
      .map((g) => `\${${g.address}}`);
    const secretGrants = collectGrants(infra.doc)
      .filter((g) => g.role === "roles/secretmanager.secretAccessor")
      .map((g) => `\${${g.address}}`);
    expect(new Set(sleep["depends_on"] as string[])).toEqual(new Set([...builderGrants, ...secretGrants]));
  });

  it("alert policies on log-based metrics wait for the metrics to be usable", () => {
    const sleep = resourceBody(infra.doc, "time_sleep", "log_metrics");
    expect(sleep["create_duration"]).toBe("600s");
    const metrics = Object.keys(instancesOf(infra.doc, "google_logging_metric"));
    expect(metrics).toHaveLength(4);
    for (const metric of metrics)
      expect(String((sleep["triggers"] as Body)["metrics"])).toContain(
        `google_logging_metric.${metric}.name`,
      );
    const usingMetrics = resourcesOf(infra.doc, "google_monitoring_alert_policy").filter((p) =>
      JSON.stringify(p.body).includes("google_logging_metric."),
    );
    expect(usingMetrics.map((p) => p.name).sort()).toEqual([
      "drill_failed",
      "snapshot_failed",
      "stale_repo",
      "verification_failed",
    ]);
    for (const policy of usingMetrics)
      expect(policy.body["depends_on"]).toEqual(["${time_sleep.log_metrics}"]);
  });
});

describe("monitoring", () => {
  const policies = resourcesOf(infra.doc, "google_monitoring_alert_policy");
  /** A log-based metric of the for_each over local.repo_metrics, by key, as Terraform evaluates it. */
  const logMetric = (key: string): Body =>
    instancesOf(infra.doc, "google_logging_metric")[`by_repo["${key}"]`]!;
  const metricName = (key: string) => `google_logging_metric.by_repo["${key}"].name`;
  /** Whether `text` stands anywhere in `body` (in an expression of any attribute or block). */
  const mentions = (body: Body, text: string) =>
    JSON.stringify(body).includes(JSON.stringify(text).slice(1, -1));

  it("the log-based metrics keep their names and move from their old addresses, not replaced", () => {
    const names = {
      snapshot_failures: "infinity-backup/snapshot-failures",
      verification_failures: "infinity-backup/verification-failures",
      stale_repos: "infinity-backup/stale-repos",
      drill_failures: "infinity-backup/drill-failures",
    };
    const moved = infra.doc.moved.map((m) => [m["from"], m["to"]]);
    expect(Object.keys(localValue(infra.doc, "repo_metrics") as Body).sort()).toEqual(
      Object.keys(names).sort(),
    );
    for (const [key, name] of Object.entries(names)) {
      expect(logMetric(key)["name"]).toBe(name);
      expect(logMetric(key)["label_extractors"]).toEqual({ repo: "EXTRACT(jsonPayload.repo)" });
      expect(moved, key).toContainEqual([
        `\${google_logging_metric.${key}}`,
        `\${google_logging_metric.by_repo["${key}"]}`,
      ]);
    }
  });

  it.each([
    ["snapshot_failures", "snapshot_failed", "snapshot_failed"],
    ["verification_failures", "verification_failed", "verification_failed"],
    ["stale_repos", "stale_repo", "stale_repo"],
  ])("log metric %s counts %s and alerts through %s", (metric, event, policy) => {
    expect(JSON.stringify(localValue(infra.doc, "log_event"))).toContain(event);
    expect(logMetric(metric)["filter"]).toContain(`local.log_event.${event}`);
    expect(
      mentions(resourceBody(infra.doc, "google_monitoring_alert_policy", policy), metricName(metric)),
    ).toBe(true);
  });

  it("alerts when a dead-letter subscription holds a message", () => {
    const filter = JSON.stringify(resourceBody(infra.doc, "google_monitoring_alert_policy", "dead_letters"));
    expect(filter).toContain("num_undelivered_messages");
    expect(filter).toContain("local.dead_letter_subscriptions");
  });

  it("every alert mails var.alert_email and every address of notifications.email.to, one channel each", () => {
    const channel = resourceBody(infra.doc, "google_monitoring_notification_channel", "email");
    expect(channel).toMatchObject({
      for_each: "${toset(local.alert_emails)}",
      type: "email",
      labels: { email_address: "${each.key}" },
    });
    expect(squash(localValue(infra.doc, "backup_config"))).toBe(
      '${yamldecode(file("${path.module}/../config/backup-config.yaml"))}',
    );
    expect(localValue(infra.doc, "alert_emails")).toBe(
      "${distinct(concat([var.alert_email], try(local.backup_config.notifications.email.to, [])))}",
    );
    expect(localValue(infra.doc, "alert_channels")).toBe(
      "${[for email in local.alert_emails : google_monitoring_notification_channel.email[email].id]}",
    );
    const silent = policies.filter((p) => p.body["notification_channels"] !== "${local.alert_channels}");
    expect(silent.map((p) => p.name)).toEqual([]);
  });

  it("the channels' list is the one the code mails: the same path, read by the same schema", () => {
    // What Terraform's yamldecode and try() give for a config with and without the section,
    // evaluated here from the file the code reads (backup-config.ts).
    const emailsOf = (text: string, alertEmail: string): string[] => {
      const config = parseYaml(text) as { notifications?: { email?: { to?: string[] } } };
      return [...new Set([alertEmail, ...(config.notifications?.email?.to ?? [])])];
    };
    const shipped = readFileSync(
      fileURLToPath(new URL("../../config/backup-config.yaml", import.meta.url)),
      "utf8",
    );
    expect(emailsOf(shipped, "ops@example.com")).toEqual(["ops@example.com"]);
    const withMail = `${shipped}\nnotifications:\n  email:\n    to: [a@example.com, ops@example.com]\n    from: b@example.com\n    smtp: { host: smtp.example.com }\n`;
    const parsed = backupConfigSchema.parse(parseYaml(withMail));
    expect(parsed.notifications?.email?.to).toEqual(["a@example.com", "ops@example.com"]);
    expect(emailsOf(withMail, "ops@example.com")).toEqual(["ops@example.com", "a@example.com"]);
  });

  it("alerts when a restore drill fails", () => {
    const policy = resourceBody(infra.doc, "google_monitoring_alert_policy", "drill_failed");
    expect(mentions(policy, metricName("drill_failures"))).toBe(true);
    expect(logMetric("drill_failures")["filter"]).toContain("local.function_logs.restoreDrill");
  });
});

describe("IAM grants declared as one for_each", () => {
  it.each([
    ["topic_publishers", "google_pubsub_topic_iam_member", "publishes", 14, /^(\w+?)_publishes_/],
    [
      "archive_key_grants",
      "google_kms_crypto_key_iam_member",
      "archive_key",
      9,
      /^(\w+?)_(?:encrypts|unwraps|decrypts|rewraps)/,
    ],
    [
      "bucket_grants",
      "google_storage_bucket_iam_member",
      "bucket_access",
      11,
      /^(\w+?)_(?:creates|reads|manages|writes)_/,
    ],
  ] as const)(
    "local.%s: each grant moved from its old address, granting to the account its name says",
    (local, type, name, count, account) => {
      const entries = localValue(infra.doc, local) as Record<string, Body>;
      expect(Object.keys(entries)).toHaveLength(count);
      const declared = resourceBody(infra.doc, type, name);
      const moved = infra.doc.moved.map((m) => [m["from"], m["to"]]);
      for (const [key, entry] of Object.entries(entries)) {
        expect(moved, key).toContainEqual([`\${${type}.${key}}`, `\${${type}.${name}["${key}"]}`]);
        const sa = account.exec(key)?.[1];
        expect(sa, key).toBeDefined();
        expect(instanceBody(declared, key, entry)["member"], key).toBe(
          `serviceAccount:\${google_service_account.${sa}.email}`,
        );
      }
      expect(collectGrants(infra.doc).filter((g) => g.address === `${type}.${name}`)).toHaveLength(count);
    },
  );
});

// validate and plan need the google provider, which cannot be downloaded without network;
// only formatting is checked with the real binary.
describe.skipIf(!existsSync(TERRAFORM))(
  "terraform binary (validate/plan need network and are not run)",
  () => {
    it("terraform fmt -check -recursive infra", () => {
      expect(() =>
        execFileSync(TERRAFORM, ["fmt", "-check", "-recursive", INFRA_DIR], {
          stdio: "pipe",
          encoding: "utf8",
        }),
      ).not.toThrow();
    });
  },
);
