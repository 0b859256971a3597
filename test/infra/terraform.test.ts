// The deployment's promises, checked by reading infra/*.tf. Terraform's own validate and
// plan need the google provider, which cannot be downloaded here, so the configuration is
// parsed (@cdktf/hcl2json) and its properties asserted. The "rules" below also run against
// deliberately broken copies of the configuration, to show that each one would catch the
// breakage it names.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  block,
  blocks,
  collectGrants,
  dynamicContents,
  loadInfra,
  localValue,
  references,
  resolve,
  resourceBody,
  resourcesOf,
  variableDefault,
  type Body,
  type TerraformDoc,
} from "./terraform-model.js";

const INFRA_DIR = fileURLToPath(new URL("../../infra", import.meta.url));
const TERRAFORM = "/usr/local/bin/terraform";
const infra = await loadInfra(INFRA_DIR);

const TOPICS = ["snapshot-sweep", "snapshot-requests", "verify-requests", "prune-requests", "snapshot-large"];
const ENTRY_POINTS = [
  "sweep",
  "snapshotRepo",
  "verifySnapshot",
  "pruneSnapshots",
  "restoreRepo",
  "backupHealth",
  "githubWebhook",
];
const fn = (name: string): string => `google_cloudfunctions2_function.fn["${name}"]`;
const topic = (name: string): string => `google_pubsub_topic.topic["${name}"]`;

const ARCHIVE_KEY = "google_kms_crypto_key.archive";
const ARCHIVE_BUCKET = "google_storage_bucket.archive";
const APP_KEY = "google_secret_manager_secret.github_app_private_key";
const WEBHOOK_SECRET = "google_secret_manager_secret.github_webhook_secret";

// Every grant in the deployment: [principal, role, target]. Adding a grant means adding it here.
const EXPECTED_GRANTS: [string, string, string][] = [
  ["sweep", "roles/pubsub.publisher", topic("snapshot-requests")],
  ["sweep", "roles/pubsub.publisher", topic("verify-requests")],
  ["sweep", "roles/datastore.viewer", "project"],
  ["sweep", "roles/secretmanager.secretAccessor", APP_KEY],

  ["snapshot", "roles/cloudkms.cryptoKeyEncrypter", ARCHIVE_KEY],
  ["snapshot", "roles/storage.objectCreator", ARCHIVE_BUCKET],
  ["snapshot", "roles/datastore.user", "project"],
  ["snapshot", "roles/pubsub.publisher", topic("verify-requests")],
  ["snapshot", "roles/pubsub.publisher", topic("snapshot-large")],
  ["snapshot", "roles/secretmanager.secretAccessor", APP_KEY],

  ["snapshot_job", "roles/cloudkms.cryptoKeyEncrypter", ARCHIVE_KEY],
  ["snapshot_job", "roles/storage.objectCreator", ARCHIVE_BUCKET],
  ["snapshot_job", "roles/datastore.user", "project"],
  ["snapshot_job", "roles/pubsub.publisher", topic("verify-requests")],
  ["snapshot_job", "roles/pubsub.subscriber", 'google_pubsub_subscription.delivery["snapshot-large"]'],
  ["snapshot_job", "roles/secretmanager.secretAccessor", APP_KEY],

  ["verify", "roles/cloudkms.cryptoKeyDecrypter", ARCHIVE_KEY],
  ["verify", "roles/storage.objectViewer", ARCHIVE_BUCKET],
  ["verify", "roles/datastore.user", "project"],

  ["prune", "roles/storage.objectUser", ARCHIVE_BUCKET],
  ["prune", "roles/datastore.user", "project"],

  ["restore", "roles/cloudkms.cryptoKeyDecrypter", ARCHIVE_KEY],
  ["restore", "roles/storage.objectViewer", ARCHIVE_BUCKET],
  ["restore", "roles/storage.objectUser", "google_storage_bucket.restore"],
  ["restore", "roles/datastore.user", "project"],
  ["restore", "roles/secretmanager.secretAccessor", APP_KEY],

  ["health", "roles/datastore.viewer", "project"],

  ["webhook", "roles/pubsub.publisher", topic("snapshot-requests")],
  ["webhook", "roles/secretmanager.secretAccessor", WEBHOOK_SECRET],

  ["pubsub_push", "roles/run.invoker", fn("sweep")],
  ["pubsub_push", "roles/run.invoker", fn("snapshotRepo")],
  ["pubsub_push", "roles/run.invoker", fn("verifySnapshot")],
  ["pubsub_push", "roles/run.invoker", fn("pruneSnapshots")],
  ["pubsub-agent", "roles/pubsub.publisher", "google_pubsub_topic.dead_letter[each.key]"],
  ["pubsub-agent", "roles/pubsub.subscriber", "google_pubsub_subscription.delivery[each.key]"],
  ["pubsub-agent", "roles/iam.serviceAccountTokenCreator", "google_service_account.pubsub_push"],

  ["scheduler", "roles/run.invoker", fn("backupHealth")],
  ["scheduler", "roles/run.invoker", "google_cloud_run_v2_job.snapshot_job"],
  ["var.operator_members", "roles/run.invoker", fn("restoreRepo")],
  ["var.operator_members", "roles/run.invoker", fn("backupHealth")],
  ["allUsers", "roles/run.invoker", fn("githubWebhook")],

  ["builder", "roles/logging.logWriter", "project"],
  ["builder", "roles/storage.objectViewer", "google_storage_bucket.source"],
  ["builder", "roles/artifactregistry.writer", "google_artifact_registry_repository.images"],
];

// Roles a principal must never hold, whatever the table above says.
const FORBIDDEN_ROLES: { principal: string; role: RegExp; why: string }[] = [
  { principal: "*", role: /^roles\/(owner|editor|viewer)$/, why: "no basic roles" },
  { principal: "*", role: /^roles\/storage\.admin$/, why: "no storage.admin anywhere" },
  { principal: "*", role: /^roles\/cloudkms\.admin$/, why: "no key administration" },
  {
    principal: "snapshot",
    role: /objectAdmin|objectUser|storage\.admin|Decrypter/,
    why: "snapshot cannot delete or decrypt",
  },
  {
    principal: "snapshot_job",
    role: /objectAdmin|objectUser|storage\.admin|Decrypter/,
    why: "the job cannot delete or decrypt",
  },
  { principal: "prune", role: /Decrypter/, why: "prune cannot decrypt" },
  { principal: "verify", role: /objectAdmin|objectUser|objectCreator|Encrypter/, why: "verify only reads" },
  {
    principal: "health",
    role: /storage|cloudkms|secretmanager|datastore\.user/,
    why: "health reads the index only",
  },
  { principal: "sweep", role: /storage|cloudkms|datastore\.user/, why: "sweep only publishes" },
  { principal: "webhook", role: /storage|cloudkms|datastore/, why: "the webhook only publishes" },
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
        (f) => (f.principal === "*" || f.principal === g.principal) && f.role.test(g.role),
      ).map((f) => `${g.address}: ${g.principal} has ${g.role} (${f.why})`),
    ),

  "only githubWebhook is public; restoreRepo and backupHealth need IAM": (doc) => {
    const problems = collectGrants(doc)
      .filter((g) => g.principal === "allUsers" || g.principal === "allAuthenticatedUsers")
      .filter((g) => g.target !== fn("githubWebhook"))
      .map((g) => `${g.address} makes ${g.target} public`);
    const ingress = localValue(doc, "functions") as Record<string, Body>;
    for (const name of ["sweep", "snapshotRepo", "verifySnapshot", "pruneSnapshots"]) {
      if (ingress[name]?.["ingress"] !== "ALLOW_INTERNAL_ONLY")
        problems.push(`${name} accepts external traffic`);
    }
    return problems;
  },

  "every schedule has its Cloud Scheduler job": (doc) => {
    const problems: string[] = [];
    for (const [job, schedule, target] of SCHEDULER_JOBS) {
      const body = doc.resource["google_cloud_scheduler_job"]?.[job]?.[0];
      if (!body) {
        problems.push(`google_cloud_scheduler_job.${job} is missing`);
        continue;
      }
      if (body["schedule"] !== `\${var.${schedule}}`) problems.push(`${job} is not on var.${schedule}`);
      if (body["time_zone"] !== "Etc/UTC") problems.push(`${job} is not in UTC`);
      const to = blocks(body, "pubsub_target")[0]?.["topic_name"] ?? blocks(body, "http_target")[0]?.["uri"];
      if (!String(to).includes(target)) problems.push(`${job} does not target ${target}`);
    }
    return problems;
  },
} satisfies Record<string, Rule>;

type RuleName = keyof typeof rules;

// [Scheduler job, schedule variable, what it reaches]
const SCHEDULER_JOBS: [string, string, string][] = [
  ["daily_sweep", "backup_schedule", topic("snapshot-sweep")],
  ["rpo_sweep", "rpo_sweep_schedule", topic("snapshot-sweep")],
  ["verify_sweep", "verify_schedule", topic("snapshot-sweep")],
  ["prune", "prune_schedule", topic("prune-requests")],
  ["health_check", "health_check_schedule", fn("backupHealth")],
  ["snapshot_job", "snapshot_job_schedule", "google_cloud_run_v2_job.snapshot_job"],
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
      (resourceBody(doc, "google_storage_bucket_iam_member", "snapshot_creates_archives")["role"] =
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
    rule: "every schedule has its Cloud Scheduler job",
    breakIt: (doc) => delete doc.resource["google_cloud_scheduler_job"]!["prune"],
  },
  {
    name: "no RPO sweep",
    rule: "every schedule has its Cloud Scheduler job",
    breakIt: (doc) => delete doc.resource["google_cloud_scheduler_job"]!["rpo_sweep"],
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
  const CONCERNS: [RegExp, string][] = [
    [/_iam_|^google_service_account$/, "iam.tf"],
    [/^google_kms_/, "kms.tf"],
    [/^google_(storage_bucket|storage_bucket_object|artifact_registry_repository)$/, "storage.tf"],
    [/^google_firestore_/, "firestore.tf"],
    [/^google_pubsub_/, "pubsub.tf"],
    [/^google_cloud_scheduler_job$/, "scheduler.tf"],
    [/^google_cloudfunctions2_function$/, "functions.tf"],
    [/^google_cloud_run_v2_job$/, "run_job.tf"],
    [/^google_secret_manager_secret$/, "secrets.tf"],
    [/^google_(monitoring|logging)_/, "monitoring.tf"],
  ];

  it("every resource lives in the file of its concern", () => {
    const misplaced = Object.entries(infra.resourcesByFile).flatMap(([file, addresses]) =>
      addresses.filter((a) => {
        const concern = CONCERNS.find(([pattern]) => pattern.test(a.split(".")[0]!));
        return concern?.[1] !== file;
      }),
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
    expect([...references(infra.doc)].filter((r) => !declared.has(r))).toEqual([]);
  });

  it("pins the google provider", () => {
    const providers = block(infra.doc.terraform[0]!, "required_providers");
    expect(providers["google"]).toMatchObject({ source: "hashicorp/google" });
  });

  it("documents every variable and output", () => {
    const undocumented = [
      ...Object.entries(infra.doc.variable).filter(([, [v]]) => !v?.["description"] || !v["type"]),
      ...Object.entries(infra.doc.output).filter(([, [o]]) => !o?.["description"]),
    ].map(([name]) => name);
    expect(undocumented).toEqual([]);
  });

  it.each([
    ["backup_schedule", "0 0 * * *"],
    ["rpo_sweep_schedule", "*/15 * * * *"],
    ["retention_days", 30],
    ["retention_floor_days", 7],
    ["kms_rotation_period", "7776000s"],
    ["verify_backups", true],
    ["nearline_after_days", 30],
    ["coldline_after_days", 90],
    ["archive_after_days", 365],
  ])("var.%s defaults to %j", (name, value) => {
    expect(variableDefault(infra.doc, name)).toEqual(value);
  });

  it.each([
    "project_id",
    "github_org",
    "retention_floor_days",
    "kms_rotation_period",
    "backup_schedule",
    "rpo_sweep_schedule",
    "max_delivery_attempts",
    "operator_members",
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

  it("incomplete multipart uploads are aborted", () => {
    const actions = blocks(archive, "lifecycle_rule").map((r) => block(r, "action")["type"]);
    expect(actions).toContain("AbortIncompleteMultipartUpload");
  });

  it("secrets hold no values in Terraform (no secret versions in state)", () => {
    expect(
      resourcesOf(infra.doc, "google_secret_manager_secret")
        .map((s) => s.name)
        .sort(),
    ).toEqual(["github_app_private_key", "github_webhook_secret"]);
    expect(infra.doc.resource["google_secret_manager_secret_version"]).toBeUndefined();
  });
});

describe("the Firestore index", () => {
  const indexFields = (name: string): [string, string][] =>
    blocks(resourceBody(infra.doc, "google_firestore_index", name), "fields").map((f) => [
      String(f["field_path"]),
      String(f["order"]),
    ]);

  it.each([
    [
      "snapshots_by_status_taken_at",
      "COLLECTION",
      [
        ["status", "ASCENDING"],
        ["takenAt", "DESCENDING"],
      ],
    ],
    [
      "snapshots_by_verdict_taken_at",
      "COLLECTION_GROUP",
      [
        ["verification.verdict", "ASCENDING"],
        ["takenAt", "DESCENDING"],
      ],
    ],
    [
      "snapshots_by_status_expires_at",
      "COLLECTION_GROUP",
      [
        ["status", "ASCENDING"],
        ["expiresAt", "ASCENDING"],
      ],
    ],
  ])("declares %s (%s)", (name, scope, fields) => {
    expect(resourceBody(infra.doc, "google_firestore_index", name)).toMatchObject({
      collection: "snapshots",
      query_scope: scope,
    });
    expect(indexFields(name)).toEqual(fields);
  });

  it("indexes expiresAt for collection-group range queries", () => {
    const field = resourceBody(infra.doc, "google_firestore_field", "snapshots_expires_at");
    const scopes = blocks(block(field, "index_config"), "indexes").map((i) => i["query_scope"]);
    expect(scopes).toContain("COLLECTION_GROUP");
  });

  it("expires deliveries/{messageId} by TTL on expireAt", () => {
    const ttl = resourceBody(infra.doc, "google_firestore_field", "deliveries_expire_at");
    expect(ttl).toMatchObject({ collection: "deliveries", field: "expireAt" });
    expect(blocks(ttl, "ttl_config")).toHaveLength(1);
  });
});

describe("functions and the snapshot job", () => {
  const functions = localValue(infra.doc, "functions") as Record<string, Body>;
  const resource = resourceBody(infra.doc, "google_cloudfunctions2_function", "fn");
  const grants = collectGrants(infra.doc);

  it("deploys the seven entry points from one source, as 2nd-gen functions on a supported Node runtime", () => {
    expect(Object.keys(functions).sort()).toEqual([...ENTRY_POINTS].sort());
    expect(resource).toMatchObject({ for_each: "${local.functions}", name: "${each.key}" });
    const build = block(resource, "build_config");
    expect(build).toMatchObject({ runtime: "${var.function_runtime}", entry_point: "${each.key}" });
    // nodejs20 was decommissioned by Google on 2026-10-30.
    expect(variableDefault(infra.doc, "function_runtime")).toBe("nodejs22");
    expect(block(block(build, "source"), "storage_source")["object"]).toContain("function_source");
  });

  it("runs no npm scripts in the deploy build (the code runs TypeScript through tsx)", () => {
    expect(block(resource, "build_config")["environment_variables"]).toEqual({ GOOGLE_NODE_RUN_SCRIPTS: "" });
  });

  it("runs each function as its own service account", () => {
    const accounts = Object.values(functions).map((f) => f["service_account"]);
    expect(new Set(accounts).size).toBe(ENTRY_POINTS.length);
  });

  it("passes the environment the code reads", () => {
    expect(block(resource, "service_config")["environment_variables"]).toBe("${local.function_env}");
    expect(localValue(infra.doc, "function_env")).toMatchObject({
      INFINITY_BACKEND: "gcp",
      BACKUP_LOCATION: `gs://\${${ARCHIVE_BUCKET}.name}`,
      RESTORE_BUCKET: "${google_storage_bucket.restore.name}",
      KMS_KEY_NAME: `\${${ARCHIVE_KEY}.id}`,
      FIRESTORE_DATABASE: "${google_firestore_database.index.name}",
      GOOGLE_CLOUD_PROJECT: "${var.project_id}",
      SNAPSHOT_TOPIC: `\${${topic("snapshot-requests")}.name}`,
      VERIFY_TOPIC: `\${${topic("verify-requests")}.name}`,
      LARGE_SNAPSHOT_TOPIC: `\${${topic("snapshot-large")}.name}`,
      VERIFY_BACKUPS: "${tostring(var.verify_backups)}",
      RETENTION_DAYS: "${tostring(var.retention_days)}",
      GITHUB_ORG: "${var.github_org}",
      GITHUB_APP_ID: "${var.github_app_id}",
    });
  });

  it.each([
    ["sweep", ["GITHUB_APP_PRIVATE_KEY"]],
    ["snapshotRepo", ["GITHUB_APP_PRIVATE_KEY"]],
    ["verifySnapshot", []],
    ["pruneSnapshots", []],
    ["restoreRepo", ["GITHUB_APP_PRIVATE_KEY"]],
    ["backupHealth", []],
    ["githubWebhook", ["GITHUB_WEBHOOK_SECRET"]],
  ])("%s gets secrets %j, and may read them", (name, secrets) => {
    expect(functions[name]!["secrets"]).toEqual(secrets);
    const principal = /google_service_account\.([a-z0-9_]+)\.email/.exec(
      String(functions[name]!["service_account"]),
    )![1];
    const secretResource = { GITHUB_APP_PRIVATE_KEY: APP_KEY, GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET };
    for (const secret of secrets as (keyof typeof secretResource)[]) {
      expect(grants).toContainEqual(
        expect.objectContaining({
          principal,
          role: "roles/secretmanager.secretAccessor",
          target: secretResource[secret],
        }),
      );
    }
  });

  it("mounts secrets from Secret Manager, not plain env", () => {
    const secretEnv = dynamicContents(block(resource, "service_config"), "secret_environment_variables");
    expect(secretEnv).toEqual([
      expect.objectContaining({ secret: "${local.secret_env[secret_environment_variables.value]}" }),
    ]);
  });

  it("delivers the four event topics by push to their function, and says why not Eventarc", () => {
    const topics = localValue(infra.doc, "topics") as Record<string, Body>;
    expect(Object.fromEntries(Object.entries(topics).map(([t, v]) => [t, v["push_function"]]))).toEqual({
      "snapshot-sweep": "sweep",
      "snapshot-requests": "snapshotRepo",
      "verify-requests": "verifySnapshot",
      "prune-requests": "pruneSnapshots",
      "snapshot-large": null,
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
    expect(JSON.stringify(dynamicContents(container, "env"))).toContain("env.key");
    expect(JSON.stringify(block(container, "env"))).toContain(APP_KEY);
    expect(JSON.stringify(job)).toContain("LARGE_SNAPSHOT_SUBSCRIPTION");
  });
});

describe("monitoring", () => {
  const policies = resourcesOf(infra.doc, "google_monitoring_alert_policy");

  it.each([
    ["snapshot_failures", "snapshot_failed", "snapshot_failed"],
    ["verification_failures", "verification_failed", "verification_failed"],
    ["stale_repos", "stale_repo", "stale_repo"],
  ])("log metric %s counts %s and alerts through %s", (metric, event, policy) => {
    expect(JSON.stringify(localValue(infra.doc, "log_event"))).toContain(event);
    expect(resourceBody(infra.doc, "google_logging_metric", metric)["filter"]).toContain(
      `local.log_event.${event}`,
    );
    expect(JSON.stringify(resourceBody(infra.doc, "google_monitoring_alert_policy", policy))).toContain(
      `google_logging_metric.${metric}.name`,
    );
  });

  it("alerts when a dead-letter subscription holds a message", () => {
    const filter = JSON.stringify(resourceBody(infra.doc, "google_monitoring_alert_policy", "dead_letters"));
    expect(filter).toContain("num_undelivered_messages");
    expect(filter).toContain("local.dead_letter_subscriptions");
  });

  it("every alert mails var.alert_email", () => {
    const channel = resourceBody(infra.doc, "google_monitoring_notification_channel", "email");
    expect(channel).toMatchObject({ type: "email", labels: { email_address: "${var.alert_email}" } });
    const silent = policies.filter(
      (p) =>
        JSON.stringify(p.body["notification_channels"]) !==
        '["${google_monitoring_notification_channel.email.id}"]',
    );
    expect(silent.map((p) => p.name)).toEqual([]);
  });
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
