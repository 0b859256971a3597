# Identities and every grant they hold. One service account per workload,
# each with the least it needs; every grant is on the one resource it concerns
# (a key, a bucket, a topic, a secret), except Firestore, whose roles are
# project-level and therefore conditioned to our database, and the builder's read of
# the functions' source bucket, conditioned to that bucket (see "Build").
#
# The separations that matter:
#   - snapshot writes new archives (objectCreator) and wraps keys (encrypt):
#     it can neither delete an archive nor read one back in plaintext;
#   - prune deletes and rewrites archives (objectUser) but cannot decrypt
#     (compaction of layers, which must, it hands to the job);
#   - verify and restore decrypt and read, and cannot delete;
#   - nobody holds Owner, Editor or storage.admin.
# test/infra/terraform.test.ts holds the exact table of these grants.

locals {
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  # Where Cloud Functions keeps the sources it builds from (see the builder's grants).
  function_sources_bucket = "gcf-v2-sources-${data.google_project.this.number}-${var.region}"

  # Firestore IAM is project-wide; this condition narrows it to our database.
  firestore_condition = {
    title       = "infinity-backup-index-only"
    description = "Only the infinity-backup Firestore database."
    expression  = "resource.name == \"projects/${var.project_id}/databases/${google_firestore_database.index.name}\""
  }
}

# --- Service accounts -----------------------------------------------------

resource "google_service_account" "sweep" {
  account_id   = "ib-sweep"
  display_name = "infinity-backup sweep"
}

resource "google_service_account" "snapshot" {
  account_id   = "ib-snapshot"
  display_name = "infinity-backup snapshotRepo"
}

resource "google_service_account" "snapshot_job" {
  account_id   = "ib-snapshot-job"
  display_name = "infinity-backup snapshot-job (Cloud Run job)"
}

resource "google_service_account" "verify" {
  account_id   = "ib-verify"
  display_name = "infinity-backup verifySnapshot"
}

resource "google_service_account" "prune" {
  account_id   = "ib-prune"
  display_name = "infinity-backup pruneSnapshots"
}

# forgetRepo: destroys a repository's keys in the index (Firestore only: no KMS, no bucket).
resource "google_service_account" "forget" {
  account_id   = "ib-forget"
  display_name = "infinity-backup forgetRepo"
}

# rotateKeys: rewraps key records in the index under the KMS key (no bucket).
resource "google_service_account" "keys" {
  account_id   = "ib-keys"
  display_name = "infinity-backup rotateKeys"
}

resource "google_service_account" "restore" {
  account_id   = "ib-restore"
  display_name = "infinity-backup restoreRepo"
}

# restoreOrg: plans from the index, reads the restores' journals, publishes restore-requests.
# No KMS, no bucket, no GitHub key.
resource "google_service_account" "restore_org" {
  account_id   = "ib-restore-org"
  display_name = "infinity-backup restoreOrg"
}

# restoreOrgRepo: restores one repository to GitHub (restoreRepo's reads and writes) and hands
# itself on by publishing to restore-requests.
resource "google_service_account" "restore_org_repo" {
  account_id   = "ib-restore-org-repo"
  display_name = "infinity-backup restoreOrgRepo"
}

resource "google_service_account" "health" {
  account_id   = "ib-health"
  display_name = "infinity-backup backupHealth"
}

resource "google_service_account" "drill" {
  account_id   = "ib-drill"
  display_name = "infinity-backup restoreDrill"
}

resource "google_service_account" "webhook" {
  account_id   = "ib-webhook"
  display_name = "infinity-backup githubWebhook"
}

# Signs the OIDC tokens of Pub/Sub push deliveries to the functions.
resource "google_service_account" "pubsub_push" {
  account_id   = "ib-pubsub-push"
  display_name = "infinity-backup Pub/Sub push identity"
}

# Calls backupHealth and starts snapshot-job on a clock.
resource "google_service_account" "scheduler" {
  account_id   = "ib-scheduler"
  display_name = "infinity-backup Cloud Scheduler identity"
}

# Builds the functions and the snapshot-job image (docs/DEPLOY.md, step 7), instead
# of the default Cloud Build or compute account: new projects no longer give those
# broad rights, and old ones give them too many (Editor).
resource "google_service_account" "builder" {
  account_id   = "ib-builder"
  display_name = "infinity-backup builder (functions and job image)"
}

# --- KMS: wrap with one key, unwrap with another role ---------------------

locals {
  # Who may use the archive key, and how, by grant name (a resource of its own each before; the
  # moved blocks in moved.tf carry an existing deployment's grants over, without destroy and create).
  archive_key_grants = {
    snapshot_encrypts = { role = "roles/cloudkms.cryptoKeyEncrypter", member = "serviceAccount:${google_service_account.snapshot.email}" }
    # Per-repository keys (docs/SECURITY-KEYS.md): a snapshot wraps its data key with its repository's
    # key, which it must first unwrap with the archive key; only a repository's first snapshot makes
    # (wraps) a new one. Without Decrypt every snapshot after the first would fail.
    snapshot_unwraps_repository_keys = { role = "roles/cloudkms.cryptoKeyDecrypter", member = "serviceAccount:${google_service_account.snapshot.email}" }
    snapshot_job_encrypts            = { role = "roles/cloudkms.cryptoKeyEncrypter", member = "serviceAccount:${google_service_account.snapshot_job.email}" }
    # The job also drills the repositories too large for restoreDrill (it restores them).
    snapshot_job_decrypts_for_drills = { role = "roles/cloudkms.cryptoKeyDecrypter", member = "serviceAccount:${google_service_account.snapshot_job.email}" }
    verify_decrypts                  = { role = "roles/cloudkms.cryptoKeyDecrypter", member = "serviceAccount:${google_service_account.verify.email}" }
    drill_decrypts                   = { role = "roles/cloudkms.cryptoKeyDecrypter", member = "serviceAccount:${google_service_account.drill.email}" }
    restore_decrypts                 = { role = "roles/cloudkms.cryptoKeyDecrypter", member = "serviceAccount:${google_service_account.restore.email}" }
    restore_org_repo_decrypts        = { role = "roles/cloudkms.cryptoKeyDecrypter", member = "serviceAccount:${google_service_account.restore_org_repo.email}" }
    # rotateKeys unwraps each repository key and wraps it again under the primary version.
    keys_rewraps = { role = "roles/cloudkms.cryptoKeyEncrypterDecrypter", member = "serviceAccount:${google_service_account.keys.email}" }
  }
}

resource "google_kms_crypto_key_iam_member" "archive_key" {
  for_each = local.archive_key_grants

  crypto_key_id = google_kms_crypto_key.archive.id
  role          = each.value.role
  member        = each.value.member
}

# --- Cloud Storage ----------------------------------------------------------

# objectCreator: create only. No get, no delete, no overwrite.
# Writing an object with a retention, and extending it, takes
# storage.objects.setRetention, which no predefined role below carries. Shortening
# an Unlocked retention (storage.objects.overrideUnlockedRetention) is granted to
# nobody.
resource "google_project_iam_custom_role" "archive_retention" {
  role_id     = "infinityBackupArchiveRetention"
  title       = "infinity-backup archive retention"
  description = "Set (and only lengthen) the retention of archives in the archive bucket."
  permissions = ["storage.objects.setRetention"]
}

resource "google_storage_bucket_iam_member" "archive_retention" {
  for_each = {
    snapshot     = google_service_account.snapshot.email
    snapshot_job = google_service_account.snapshot_job.email
    prune        = google_service_account.prune.email
  }

  bucket = google_storage_bucket.archive.name
  role   = google_project_iam_custom_role.archive_retention.id
  member = "serviceAccount:${each.value}"
}

locals {
  # Who may do what in the archive and restore buckets, by grant name (a resource of its own each
  # before; their moved blocks in moved.tf carry an existing deployment's grants over).
  bucket_grants = {
    snapshot_creates_archives     = { bucket = google_storage_bucket.archive.name, role = "roles/storage.objectCreator", member = "serviceAccount:${google_service_account.snapshot.email}" }
    snapshot_job_creates_archives = { bucket = google_storage_bucket.archive.name, role = "roles/storage.objectCreator", member = "serviceAccount:${google_service_account.snapshot_job.email}" }
    verify_reads_archives         = { bucket = google_storage_bucket.archive.name, role = "roles/storage.objectViewer", member = "serviceAccount:${google_service_account.verify.email}" }
    # objectUser: list, read, delete, update metadata (customTime) and rewrite
    # (storage class). The retention floor still protects young archives.
    prune_manages_archives                 = { bucket = google_storage_bucket.archive.name, role = "roles/storage.objectUser", member = "serviceAccount:${google_service_account.prune.email}" }
    drill_reads_archives                   = { bucket = google_storage_bucket.archive.name, role = "roles/storage.objectViewer", member = "serviceAccount:${google_service_account.drill.email}" }
    snapshot_job_reads_archives_for_drills = { bucket = google_storage_bucket.archive.name, role = "roles/storage.objectViewer", member = "serviceAccount:${google_service_account.snapshot_job.email}" }
    restore_reads_archives                 = { bucket = google_storage_bucket.archive.name, role = "roles/storage.objectViewer", member = "serviceAccount:${google_service_account.restore.email}" }
    restore_writes_bundles                 = { bucket = google_storage_bucket.restore.name, role = "roles/storage.objectUser", member = "serviceAccount:${google_service_account.restore.email}" }
    restore_org_repo_reads_archives        = { bucket = google_storage_bucket.archive.name, role = "roles/storage.objectViewer", member = "serviceAccount:${google_service_account.restore_org_repo.email}" }
    # The mapping of old to new numbers is written beside the restore, in the restore bucket.
    restore_org_repo_writes_mappings = { bucket = google_storage_bucket.restore.name, role = "roles/storage.objectUser", member = "serviceAccount:${google_service_account.restore_org_repo.email}" }
    # Restores to GitHub handed on to the job write their mapping and attachments there too.
    snapshot_job_writes_restore_mappings = { bucket = google_storage_bucket.restore.name, role = "roles/storage.objectUser", member = "serviceAccount:${google_service_account.snapshot_job.email}" }
  }
}

resource "google_storage_bucket_iam_member" "bucket_access" {
  for_each = local.bucket_grants

  bucket = each.value.bucket
  role   = each.value.role
  member = each.value.member
}

# --- Firestore (the index) --------------------------------------------------

resource "google_project_iam_member" "firestore_user" {
  for_each = {
    snapshot     = google_service_account.snapshot.email
    snapshot_job = google_service_account.snapshot_job.email
    verify       = google_service_account.verify.email
    prune        = google_service_account.prune.email
    restore      = google_service_account.restore.email
    # restoreOrg plans from the index and reads the restores' journals (restores/)
    restore_org = google_service_account.restore_org.email
    # restoreOrgRepo restores one repository and keeps its journal (restores/)
    restore_org_repo = google_service_account.restore_org_repo.email
    # the drill records its results in the audit trail (auditChains/)
    drill = google_service_account.drill.email
    # forget destroys a repository's key records and marks its snapshots shredded
    forget = google_service_account.forget.email
    # rotateKeys rewrites key records (repositoryKeys/, their data key records) and the audit trail
    keys = google_service_account.keys.email
    # backupHealth reports from the index, and keeps the notification incidents
    # (alertIncidents/) it opens and closes
    health = google_service_account.health.email
    # sweep registers the repositories it lists (repositories/{id}: renames, transfers)
    sweep = google_service_account.sweep.email
    # the webhook records delivery ids (deliveries/{id}) so a redelivery is not published twice,
    # and applies inventory events (created, renamed, deleted…) to the repository registry
    webhook = google_service_account.webhook.email
  }

  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${each.value}"

  condition {
    title       = local.firestore_condition.title
    description = local.firestore_condition.description
    expression  = local.firestore_condition.expression
  }
}

# --- Pub/Sub: who may publish where ----------------------------------------

locals {
  # Who may publish to which topic, by grant name (a resource of its own each before; their moved
  # blocks in moved.tf carry an existing deployment's grants over, without destroy and create).
  topic_publishers = {
    sweep_publishes_snapshot_requests   = { topic = "snapshot-requests", member = "serviceAccount:${google_service_account.sweep.email}" }
    sweep_publishes_verify_requests     = { topic = "verify-requests", member = "serviceAccount:${google_service_account.sweep.email}" }
    webhook_publishes_snapshot_requests = { topic = "snapshot-requests", member = "serviceAccount:${google_service_account.webhook.email}" }
    snapshot_publishes_verify_requests  = { topic = "verify-requests", member = "serviceAccount:${google_service_account.snapshot.email}" }
    snapshot_publishes_large            = { topic = "snapshot-large", member = "serviceAccount:${google_service_account.snapshot.email}" }
    # restoreDrill hands the drills of large repositories to snapshot-job.
    drill_publishes_large                  = { topic = "snapshot-large", member = "serviceAccount:${google_service_account.drill.email}" }
    snapshot_job_publishes_verify_requests = { topic = "verify-requests", member = "serviceAccount:${google_service_account.snapshot_job.email}" }
    restore_org_publishes_restore_requests = { topic = "restore-requests", member = "serviceAccount:${google_service_account.restore_org.email}" }
    # A restore past its deadline hands the rest on to a new run of itself.
    restore_org_repo_publishes_restore_requests = { topic = "restore-requests", member = "serviceAccount:${google_service_account.restore_org_repo.email}" }
    # A restore to GitHub past its deadline (restoreRepo), or whose code push is too long for a
    # function (restoreOrgRepo), goes on in snapshot-job; the job hands its own on near its limit.
    restore_publishes_snapshot_large          = { topic = "snapshot-large", member = "serviceAccount:${google_service_account.restore.email}" }
    restore_org_repo_publishes_snapshot_large = { topic = "snapshot-large", member = "serviceAccount:${google_service_account.restore_org_repo.email}" }
    # A deep verification too big for verifySnapshot goes to the job.
    verify_publishes_snapshot_large = { topic = "snapshot-large", member = "serviceAccount:${google_service_account.verify.email}" }
    # The scheduled prune cannot decrypt: it hands compactions of layers to the job.
    prune_publishes_snapshot_large        = { topic = "snapshot-large", member = "serviceAccount:${google_service_account.prune.email}" }
    snapshot_job_publishes_snapshot_large = { topic = "snapshot-large", member = "serviceAccount:${google_service_account.snapshot_job.email}" }
  }
}

resource "google_pubsub_topic_iam_member" "publishes" {
  for_each = local.topic_publishers

  topic  = google_pubsub_topic.topic[each.value.topic].name
  role   = "roles/pubsub.publisher"
  member = each.value.member
}

resource "google_pubsub_subscription_iam_member" "snapshot_job_pulls_large" {
  subscription = google_pubsub_subscription.delivery["snapshot-large"].name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${google_service_account.snapshot_job.email}"
}

# Dead-lettering is done by the Pub/Sub service agent: it must publish to the
# dead-letter topic and acknowledge on the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.topics

  topic  = google_pubsub_topic.dead_letter[each.key].name
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_forwarder" {
  for_each = local.topics

  subscription = google_pubsub_subscription.delivery[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

# Projects created before April 2021 need the service agent to be able to
# mint the push identity's OIDC tokens; granted on that one account only.
resource "google_service_account_iam_member" "pubsub_signs_push_tokens" {
  service_account_id = google_service_account.pubsub_push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

# --- Secrets: each secret to the workloads that use it ---------------------

resource "google_secret_manager_secret_iam_member" "github_app_private_key" {
  for_each = {
    sweep        = google_service_account.sweep.email
    snapshot     = google_service_account.snapshot.email
    snapshot_job = google_service_account.snapshot_job.email
    restore      = google_service_account.restore.email
    # restores each repository of an organization's restore to GitHub
    restore_org_repo = google_service_account.restore_org_repo.email
  }

  secret_id = google_secret_manager_secret.github_app_private_key.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${each.value}"
}

# The workloads that send notifications (cloud-env.ts part "notify").
resource "google_secret_manager_secret_iam_member" "smtp_password" {
  for_each = {
    snapshot = google_service_account.snapshot.email
    verify   = google_service_account.verify.email
    health   = google_service_account.health.email
    drill    = google_service_account.drill.email
    # drills of large repositories run in the job
    snapshot_job = google_service_account.snapshot_job.email
  }

  secret_id = google_secret_manager_secret.smtp_password.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${each.value}"
}

# backupHealth counts the dead letters: it pulls them and hands them back at
# once, never acknowledging one (adapters/gcp/pubsub-dead-letters.ts).
resource "google_pubsub_subscription_iam_member" "health_counts_dead_letters" {
  for_each = local.topics

  subscription = google_pubsub_subscription.dead_letter[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${google_service_account.health.email}"
}

resource "google_secret_manager_secret_iam_member" "github_webhook_secret" {
  for_each = {
    webhook = google_service_account.webhook.email
  }

  secret_id = google_secret_manager_secret.github_webhook_secret.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${each.value}"
}

# --- Who may call what -------------------------------------------------------
# A 2nd-gen function is served by a Cloud Run service; invoking it takes
# roles/run.invoker on that service.

resource "google_cloud_run_v2_service_iam_member" "pubsub_push_invokes" {
  for_each = {
    sweep          = google_cloudfunctions2_function.fn["sweep"].service_config[0].service
    snapshotRepo   = google_cloudfunctions2_function.fn["snapshotRepo"].service_config[0].service
    verifySnapshot = google_cloudfunctions2_function.fn["verifySnapshot"].service_config[0].service
    pruneSnapshots = google_cloudfunctions2_function.fn["pruneSnapshots"].service_config[0].service
    restoreOrgRepo = google_cloudfunctions2_function.fn["restoreOrgRepo"].service_config[0].service
  }

  location = var.region
  name     = each.value
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.pubsub_push.email}"
}

# The four roles (variables.tf, docs/SECURITY.md), bound per function. Restorers
# may call restoreRepo, which also checks the caller's ID token against
# var.restorer_members (handlers/authz.ts), so this binding alone opens nothing.
resource "google_cloud_run_v2_service_iam_member" "restorers_invoke_restore" {
  for_each = toset(var.restorer_members)

  location = var.region
  name     = google_cloudfunctions2_function.fn["restoreRepo"].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value
}

# Restorers may call restoreOrg, which checks the caller's ID token against
# var.restorer_members too (handlers/authz.ts).
resource "google_cloud_run_v2_service_iam_member" "restorers_invoke_restore_org" {
  for_each = toset(var.restorer_members)

  location = var.region
  name     = google_cloudfunctions2_function.fn["restoreOrg"].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value
}

# Admins may call forgetRepo, which also checks the caller's ID token against
# var.admin_members (handlers/authz.ts).
resource "google_cloud_run_v2_service_iam_member" "admins_invoke_forget" {
  for_each = toset(var.admin_members)

  location = var.region
  name     = google_cloudfunctions2_function.fn["forgetRepo"].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value
}

# Admins may call rotateKeys, which also checks the caller's ID token against
# var.admin_members (handlers/authz.ts).
resource "google_cloud_run_v2_service_iam_member" "admins_invoke_rotate_keys" {
  for_each = toset(var.admin_members)

  location = var.region
  name     = google_cloudfunctions2_function.fn["rotateKeys"].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value
}

# Every role reads status.
resource "google_cloud_run_v2_service_iam_member" "operators_invoke_health" {
  for_each = toset(var.operator_members)

  location = var.region
  name     = google_cloudfunctions2_function.fn["backupHealth"].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value
}

resource "google_cloud_run_v2_service_iam_member" "restorers_invoke_health" {
  for_each = toset(var.restorer_members)

  location = var.region
  name     = google_cloudfunctions2_function.fn["backupHealth"].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value
}

resource "google_cloud_run_v2_service_iam_member" "auditors_invoke_health" {
  for_each = toset(var.auditor_members)

  location = var.region
  name     = google_cloudfunctions2_function.fn["backupHealth"].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value
}

resource "google_cloud_run_v2_service_iam_member" "admins_invoke_health" {
  for_each = toset(var.admin_members)

  location = var.region
  name     = google_cloudfunctions2_function.fn["backupHealth"].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value
}

# Operators run backups and verifications the way the scheduler does: a message
# on snapshot-sweep (all repositories) or verify-requests (one snapshot). sweep,
# snapshotRepo and verifySnapshot take internal traffic only, so no person calls
# them directly.
resource "google_pubsub_topic_iam_member" "operators_publish_sweep" {
  for_each = toset(var.operator_members)

  topic  = google_pubsub_topic.topic["snapshot-sweep"].name
  role   = "roles/pubsub.publisher"
  member = each.value
}

resource "google_pubsub_topic_iam_member" "operators_publish_verify" {
  for_each = toset(var.operator_members)

  topic  = google_pubsub_topic.topic["verify-requests"].name
  role   = "roles/pubsub.publisher"
  member = each.value
}

# Auditors read the audit log bucket (monitoring.tf) and nothing else of the
# project's logs: logging.viewAccessor conditioned to that bucket's views.
resource "google_project_iam_member" "auditors_read_audit_log" {
  for_each = toset(var.auditor_members)

  project = var.project_id
  role    = "roles/logging.viewAccessor"
  member  = each.value

  condition {
    title       = "infinity-backup audit log only"
    description = "Views of the infinity-backup-audit log bucket."
    expression  = "resource.name.startsWith(\"projects/${var.project_id}/locations/${var.region}/buckets/${google_logging_project_bucket_config.audit.bucket_id}/views/\")"
  }
}

resource "google_cloud_run_v2_service_iam_member" "scheduler_invokes_drill" {
  location = var.region
  name     = google_cloudfunctions2_function.fn["restoreDrill"].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}

resource "google_cloud_run_v2_service_iam_member" "scheduler_invokes_health" {
  location = var.region
  name     = google_cloudfunctions2_function.fn["backupHealth"].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}

# The only public endpoint: GitHub cannot authenticate to Google. The function
# rejects any request whose X-Hub-Signature-256 does not verify.
resource "google_cloud_run_v2_service_iam_member" "github_webhook_is_public" {
  location = var.region
  name     = google_cloudfunctions2_function.fn["githubWebhook"].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_cloud_run_v2_job_iam_member" "scheduler_runs_snapshot_job" {
  location = var.region
  name     = google_cloud_run_v2_job.snapshot_job.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}

# --- Build ------------------------------------------------------------------
# What a Cloud Build run as ib-builder needs: write its log, read its source, push
# the image. Nothing at run time uses this account.

resource "google_project_iam_member" "builder_log_writer" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.builder.email}"
}

resource "google_artifact_registry_repository_iam_member" "builder_writes_images" {
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${google_service_account.builder.email}"
}

# Our source bucket: the function zip, and the tarballs `gcloud builds submit`
# stages for the job image.
resource "google_storage_bucket_iam_member" "builder_reads_source" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.builder.email}"
}

# Cloud Functions copies our zip into a bucket of its own,
# gcf-v2-sources-<project number>-<region>, and the build fetches it from there
# (without this: "Access to bucket gcf-v2-sources-... denied", as in
# terraform-provider-google#20571). That bucket is created by the first function
# deployment in the region, during this same apply, so a bucket-level grant
# (google_storage_bucket_iam_member) cannot be declared before it exists. The
# provider's own builder example grants roles/storage.objectAdmin on the whole
# project instead; we grant only reading (the build reads the source and writes
# nothing there), at project level so that it works before the bucket exists, with
# an IAM condition that narrows it to that one bucket and its objects.
resource "google_project_iam_member" "builder_reads_function_sources" {
  project = var.project_id
  role    = "roles/storage.objectViewer"
  member  = "serviceAccount:${google_service_account.builder.email}"

  condition {
    title       = "gcf-v2-sources-only"
    description = "Only the bucket Cloud Functions copies function sources to in this region."
    expression  = "resource.name == \"projects/_/buckets/${local.function_sources_bucket}\" || resource.name.startsWith(\"projects/_/buckets/${local.function_sources_bucket}/\")"
  }
}

# --- Propagation ------------------------------------------------------------------
# A new IAM grant usually takes about two minutes to be honoured everywhere (Google's
# IAM documentation, "access change propagation"), while the function builds and the
# job's secret check start right after the grants are created in the same apply.
# Functions and the job wait for this instead of failing the first apply. The wait
# runs again when the set of secret readers changes.

resource "time_sleep" "iam_propagation" {
  create_duration = "120s"

  triggers = {
    secret_readers = join(",", concat(
      [for g in google_secret_manager_secret_iam_member.github_app_private_key : "${g.secret_id} ${g.member}"],
      [for g in google_secret_manager_secret_iam_member.github_webhook_secret : "${g.secret_id} ${g.member}"],
      [for g in google_secret_manager_secret_iam_member.smtp_password : "${g.secret_id} ${g.member}"],
    ))
  }

  depends_on = [
    google_project_iam_member.builder_log_writer,
    google_artifact_registry_repository_iam_member.builder_writes_images,
    google_storage_bucket_iam_member.builder_reads_source,
    google_project_iam_member.builder_reads_function_sources,
    google_secret_manager_secret_iam_member.github_app_private_key,
    google_secret_manager_secret_iam_member.github_webhook_secret,
    google_secret_manager_secret_iam_member.smtp_password,
  ]
}

# --- Audit: every read of an archive, every unwrap of a key, every read of the index ---
# (Authoritative for these three services' audit settings in the project.)

resource "google_project_iam_audit_config" "data_access" {
  for_each = var.enable_data_access_audit_logs ? toset(["storage.googleapis.com", "cloudkms.googleapis.com", "datastore.googleapis.com"]) : toset([])

  project = var.project_id
  service = each.value

  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}
