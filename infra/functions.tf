# The seven 2nd-gen Cloud Functions, all built from the one source zip.
#
# sweep, snapshotRepo, verifySnapshot and pruneSnapshots are CloudEvent
# functions delivered by our own Pub/Sub push subscriptions (pubsub.tf says
# why not event_trigger); they accept internal traffic only, which includes
# Pub/Sub push from this project. restoreRepo and backupHealth are HTTP
# functions behind IAM (operators call them with `gcloud functions call`);
# githubWebhook is public and checks GitHub's signature itself.

locals {
  # Read by functions/wiring.ts (and by the snapshot-job, run_job.tf).
  function_env = {
    INFINITY_BACKEND     = "gcp"
    GOOGLE_CLOUD_PROJECT = var.project_id
    BACKUP_LOCATION      = "gs://${google_storage_bucket.archive.name}"
    RESTORE_BUCKET       = google_storage_bucket.restore.name
    KMS_KEY_NAME         = google_kms_crypto_key.archive.id
    FIRESTORE_DATABASE   = google_firestore_database.index.name
    SNAPSHOT_TOPIC       = google_pubsub_topic.topic["snapshot-requests"].name
    VERIFY_TOPIC         = google_pubsub_topic.topic["verify-requests"].name
    LARGE_SNAPSHOT_TOPIC = google_pubsub_topic.topic["snapshot-large"].name
    VERIFY_BACKUPS       = tostring(var.verify_backups)
    RETENTION_DAYS       = tostring(var.retention_days)
    BACKUP_SCHEDULE      = var.backup_schedule
    GITHUB_ORG           = var.github_org
    GITHUB_APP_ID        = var.github_app_id
  }

  # Secret env var => Secret Manager secret. Each function lists the ones it
  # needs; iam.tf grants exactly those, per secret.
  secret_env = {
    GITHUB_APP_PRIVATE_KEY = google_secret_manager_secret.github_app_private_key.secret_id
    GITHUB_WEBHOOK_SECRET  = google_secret_manager_secret.github_webhook_secret.secret_id
  }

  # Entry point => how it runs. Memory counts /tmp too (it is in memory).
  functions = {
    sweep = {
      description     = "Lists the org's repositories and publishes one snapshot (or verify) request per repository."
      service_account = google_service_account.sweep.email
      ingress         = "ALLOW_INTERNAL_ONLY"
      memory          = "512Mi"
      cpu             = "1"
      timeout_seconds = 540
      max_instances   = 2
      concurrency     = 1
      secrets         = ["GITHUB_APP_PRIVATE_KEY"]
    }
    snapshotRepo = {
      description     = "Snapshots one repository: git pack, tar, streaming AEAD, upload, index; hands large repositories to snapshot-job."
      service_account = google_service_account.snapshot.email
      ingress         = "ALLOW_INTERNAL_ONLY"
      memory          = "4Gi"
      cpu             = "2"
      timeout_seconds = 540
      max_instances   = var.snapshot_max_instances
      concurrency     = 1
      secrets         = ["GITHUB_APP_PRIVATE_KEY"]
    }
    verifySnapshot = {
      description     = "Streams one archive back, decrypts every segment, checks hashes and git integrity, records the verdict."
      service_account = google_service_account.verify.email
      ingress         = "ALLOW_INTERNAL_ONLY"
      memory          = "2Gi"
      cpu             = "1"
      timeout_seconds = 540
      max_instances   = 10
      concurrency     = 1
      secrets         = []
    }
    pruneSnapshots = {
      description     = "Applies the retention policy: moves expiries forward, deletes expired archives, collects orphans."
      service_account = google_service_account.prune.email
      ingress         = "ALLOW_INTERNAL_ONLY"
      memory          = "1Gi"
      cpu             = "1"
      timeout_seconds = 540
      max_instances   = 1
      concurrency     = 1
      secrets         = []
    }
    restoreRepo = {
      description     = "Restores a repository as of a time to a bucket bundle or a GitHub repository (HTTP, IAM only)."
      service_account = google_service_account.restore.email
      ingress         = "ALLOW_ALL"
      memory          = "8Gi"
      cpu             = "2"
      timeout_seconds = 3600 # the RTO
      max_instances   = 5
      concurrency     = 1
      secrets         = ["GITHUB_APP_PRIVATE_KEY"]
    }
    backupHealth = {
      description     = "Per-repository freshness against the RPO, verification state, storage by tier (HTTP, IAM only)."
      service_account = google_service_account.health.email
      ingress         = "ALLOW_ALL"
      memory          = "512Mi"
      cpu             = "1"
      timeout_seconds = 300
      max_instances   = 2
      concurrency     = 4
      secrets         = []
    }
    githubWebhook = {
      description     = "Receives GitHub push webhooks, verifies the signature, publishes a snapshot request (public)."
      service_account = google_service_account.webhook.email
      ingress         = "ALLOW_ALL"
      memory          = "512Mi"
      cpu             = "1"
      timeout_seconds = 30
      max_instances   = 20
      concurrency     = 20
      secrets         = ["GITHUB_WEBHOOK_SECRET"]
    }
  }
}

resource "google_cloudfunctions2_function" "fn" {
  for_each = local.functions

  name        = each.key
  location    = var.region
  description = each.value.description

  build_config {
    runtime           = var.function_runtime
    entry_point       = each.key
    service_account   = google_service_account.builder.id
    docker_repository = google_artifact_registry_repository.images.id

    # The code runs its TypeScript through tsx (a runtime dependency), so the
    # deploy build must not run package.json's `build` script, which the
    # Node.js buildpack would otherwise run. List scripts here if that changes.
    environment_variables = {
      GOOGLE_NODE_RUN_SCRIPTS = ""
    }

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.function_source.name
      }
    }
  }

  service_config {
    service_account_email            = each.value.service_account
    ingress_settings                 = each.value.ingress
    available_memory                 = each.value.memory
    available_cpu                    = each.value.cpu
    timeout_seconds                  = each.value.timeout_seconds
    max_instance_count               = each.value.max_instances
    max_instance_request_concurrency = each.value.concurrency
    all_traffic_on_latest_revision   = true
    environment_variables            = local.function_env

    dynamic "secret_environment_variables" {
      for_each = toset(each.value.secrets)
      content {
        key        = secret_environment_variables.value
        project_id = var.project_id
        secret     = local.secret_env[secret_environment_variables.value]
        version    = "latest"
      }
    }
  }

  labels = var.labels

  # A function must not start before it can read its secrets.
  depends_on = [
    google_secret_manager_secret_iam_member.github_app_private_key,
    google_secret_manager_secret_iam_member.github_webhook_secret,
    google_storage_bucket_iam_member.builder_reads_source,
    google_artifact_registry_repository_iam_member.builder_writes_images,
    google_project_iam_member.builder_log_writer,
  ]
}
