// Issue 11 on the Terraform model: backups no credential of ours can delete early (object
// retention, soft delete, the only permission that touches retention), and the four roles (their
// variables, their bindings, the environment the caller-checked functions compare callers with).
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { WORKLOAD_PARTS, workloadEnv, type Workload } from "../../functions/config/cloud-env.js";
import {
  block,
  blocks,
  collectGrants,
  deployedEnv,
  loadInfra,
  localValue,
  resourceBody,
  resourcesOf,
  variableDefault,
} from "./terraform-model.js";

const infra = await loadInfra(fileURLToPath(new URL("../../infra", import.meta.url)));
const { doc } = infra;
const archive = resourceBody(doc, "google_storage_bucket", "archive");
const validation = (name: string) => JSON.stringify(blocks(doc.variable[name]![0]!, "validation"));

describe("archives no credential can delete early", () => {
  it("the archive bucket takes object retention, keeps soft-deleted archives 7 to 90 days, and cannot be destroyed", () => {
    expect(archive["enable_object_retention"]).toBe(true);
    expect(block(archive, "soft_delete_policy")["retention_duration_seconds"]).toBe(
      "${var.soft_delete_days * 86400}",
    );
    expect(variableDefault(doc, "soft_delete_days")).toBeGreaterThanOrEqual(7);
    // Soft delete cannot be turned off (0 was allowed once).
    expect(validation("soft_delete_days")).toContain(
      "var.soft_delete_days >= 7 && var.soft_delete_days <= 90",
    );
    expect(validation("soft_delete_days")).not.toContain("== 0");
    expect(blocks(archive, "lifecycle")[0]?.["prevent_destroy"]).toBe(true);
  });

  it("retention is written Unlocked by default, Locked on request, and every archive workload is told which", () => {
    expect(variableDefault(doc, "archive_retention_mode")).toBe("Unlocked");
    expect(validation("archive_retention_mode")).toContain('[\\"Unlocked\\", \\"Locked\\"]');
    const archiveWorkloads = (Object.keys(WORKLOAD_PARTS) as Workload[]).filter((w) =>
      workloadEnv(w).includes("BACKUP_LOCATION"),
    );
    expect(archiveWorkloads).toEqual(
      expect.arrayContaining(["snapshotRepo", "pruneSnapshots", "snapshotJob"]),
    );
    for (const workload of archiveWorkloads)
      expect(deployedEnv(infra, workload).plain["ARCHIVE_RETENTION_MODE"], workload).toBe(
        "${var.archive_retention_mode}",
      );
  });

  it("the only retention permission granted is setRetention (lengthen), to the writers and prune; nobody may shorten one", () => {
    const roles = resourcesOf(doc, "google_project_iam_custom_role");
    const retention = roles.find((r) => r.name === "archive_retention")!.body;
    expect(retention["permissions"]).toEqual(["storage.objects.setRetention"]);
    for (const { name, body } of roles)
      expect(JSON.stringify(body["permissions"]), name).not.toMatch(
        /overrideUnlockedRetention|storage\.objects\.delete/,
      );
    const holders = collectGrants(doc)
      .filter((g) => g.role === "${google_project_iam_custom_role.archive_retention.id}")
      .map((g) => `${g.principal} on ${g.target}`)
      .sort();
    expect(holders).toEqual([
      "prune on google_storage_bucket.archive",
      "snapshot on google_storage_bucket.archive",
      "snapshot_job on google_storage_bucket.archive",
    ]);
    // No predefined role that can shorten a retention or lift a hold on every object is held.
    expect(collectGrants(doc).filter((g) => /storage\.(admin|objectAdmin)$/.test(g.role))).toEqual([]);
  });
});

describe("roles", () => {
  const ROLE_VARS = ["operator_members", "restorer_members", "auditor_members", "admin_members"];

  it.each(ROLE_VARS)("var.%s is a list of IAM members, empty by default, never allUsers", (name) => {
    expect(variableDefault(doc, name)).toEqual([]);
    expect(validation(name)).toContain('!contains([\\"allUsers\\", \\"allAuthenticatedUsers\\"], m)');
    expect(validation(name)).toContain("(user|group|serviceAccount|domain):");
  });

  it("restoreRepo is caller-checked: its environment names every role's members and the URLs tokens are minted for", () => {
    expect(localValue(doc, "caller_checked_functions")).toContain("restoreRepo");
    const env = deployedEnv(infra, "restoreRepo").plain;
    expect(env).toMatchObject({
      ROLE_OPERATOR_MEMBERS: '${join(",", var.operator_members)}',
      ROLE_RESTORER_MEMBERS: '${join(",", var.restorer_members)}',
      ROLE_AUDITOR_MEMBERS: '${join(",", var.auditor_members)}',
      ROLE_ADMIN_MEMBERS: '${join(",", var.admin_members)}',
    });
    expect(env["AUTH_AUDIENCES"]).toContain("local.caller_checked_functions");
    expect(env["AUTH_AUDIENCES"]).toContain(".run.app");
    expect(env["AUTH_AUDIENCES"]).toContain(".cloudfunctions.net/");
    // Workloads that do not check callers do not get the member lists.
    expect(deployedEnv(infra, "backupHealth").plain["ROLE_RESTORER_MEMBERS"]).toBeUndefined();
  });

  it("no caller-checked function is public: Cloud Run's IAM check runs before ours, which relies on it", () => {
    const functions = localValue(doc, "functions") as Record<string, unknown>;
    for (const name of ["restoreRepo", "restoreOrg", "forgetRepo", "rotateKeys"].filter(
      (n) => n in functions,
    )) {
      const open = collectGrants(doc).filter(
        (g) => g.target.includes(`fn["${name}"]`) && /allUsers|allAuthenticatedUsers/.test(g.principal),
      );
      expect(open, name).toEqual([]);
    }
  });

  it("each role reaches exactly its functions and topics", () => {
    const byRole = (v: string) =>
      collectGrants(doc)
        .filter((g) => g.principal === `var.${v}`)
        .map((g) => `${g.role} ${g.target}`)
        .sort();
    expect(byRole("restorer_members")).toEqual([
      'roles/run.invoker google_cloudfunctions2_function.fn["backupHealth"]',
      'roles/run.invoker google_cloudfunctions2_function.fn["restoreOrg"]',
      'roles/run.invoker google_cloudfunctions2_function.fn["restoreRepo"]',
    ]);
    expect(byRole("operator_members")).toEqual([
      'roles/pubsub.publisher google_pubsub_topic.topic["snapshot-sweep"]',
      'roles/pubsub.publisher google_pubsub_topic.topic["verify-requests"]',
      'roles/run.invoker google_cloudfunctions2_function.fn["backupHealth"]',
    ]);
    expect(byRole("auditor_members")).toEqual([
      "roles/logging.viewAccessor project",
      'roles/run.invoker google_cloudfunctions2_function.fn["backupHealth"]',
    ]);
    expect(byRole("admin_members")).toEqual([
      'roles/run.invoker google_cloudfunctions2_function.fn["backupHealth"]',
      'roles/run.invoker google_cloudfunctions2_function.fn["forgetRepo"]',
      'roles/run.invoker google_cloudfunctions2_function.fn["rotateKeys"]',
    ]);
  });

  it("auditors read the audit log bucket's views and no other log", () => {
    const grant = resourceBody(doc, "google_project_iam_member", "auditors_read_audit_log");
    expect(String(block(grant, "condition")["expression"])).toContain(
      "/buckets/${google_logging_project_bucket_config.audit.bucket_id}/views/",
    );
  });
});
