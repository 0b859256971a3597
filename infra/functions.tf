# The twelve 2nd-gen Cloud Functions, all built from the one source zip.
#
# sweep, snapshotRepo, verifySnapshot, pruneSnapshots and restoreOrgRepo are CloudEvent
# functions delivered by our own Pub/Sub push subscriptions (pubsub.tf says
# why not event_trigger); they accept internal traffic only, which includes
# Pub/Sub push from this project. restoreRepo, restoreOrg, backupHealth, restoreDrill and forgetRepo are
# HTTP functions behind IAM (operators call them with `gcloud functions call`);
# githubWebhook is public and checks GitHub's signature itself.

locals {
  # Entry point => how it runs. Memory counts /tmp too (it is in memory).
  functions = {
    sweep = {
      description     = "Lists the repositories of every installation of the GitHub App and publishes one snapshot (or verify) request per repository."
      service_account = google_service_account.sweep.email
      ingress         = "ALLOW_INTERNAL_ONLY"
      memory          = "512Mi"
      cpu             = "1"
      timeout_seconds = 540
      max_instances   = 2
      min_instances   = 0
      concurrency     = 1
    }
    snapshotRepo = {
      description     = "Snapshots one repository: git pack, tar, streaming AEAD, upload, index; hands large repositories to snapshot-job."
      service_account = google_service_account.snapshot.email
      ingress         = "ALLOW_INTERNAL_ONLY"
      memory          = "4Gi"
      cpu             = "2"
      timeout_seconds = 540
      max_instances   = var.snapshot_max_instances
      min_instances   = 0
      concurrency     = 1
    }
    verifySnapshot = {
      description     = "Streams one archive back, decrypts every segment, checks hashes and git integrity, records the verdict."
      service_account = google_service_account.verify.email
      ingress         = "ALLOW_INTERNAL_ONLY"
      memory          = "2Gi"
      cpu             = "1"
      timeout_seconds = 540
      max_instances   = 10
      min_instances   = 0
      concurrency     = 1
    }
    pruneSnapshots = {
      description     = "Applies the retention policy: moves expiries forward, deletes expired archives, collects orphans."
      service_account = google_service_account.prune.email
      ingress         = "ALLOW_INTERNAL_ONLY"
      memory          = "1Gi"
      cpu             = "1"
      timeout_seconds = 540
      max_instances   = 1
      min_instances   = 0
      concurrency     = 1
    }
    restoreRepo = {
      description     = "Restores a repository as of a time to a bucket bundle or a GitHub repository (HTTP, IAM only)."
      service_account = google_service_account.restore.email
      ingress         = "ALLOW_ALL"
      memory          = "8Gi"
      cpu             = "2"
      timeout_seconds = 3600 # the RTO
      max_instances   = 5
      min_instances   = 0
      concurrency     = 1
    }
    backupHealth = {
      description     = "Per-repository freshness against the RPO, verification state, storage by tier (HTTP, IAM only)."
      service_account = google_service_account.health.email
      ingress         = "ALLOW_ALL"
      # Keeps every repository's snapshot summaries and expected-class replays between loads:
      # about 220 MiB of heap at 5,000 repositories of 42 snapshots (bench/README.md, status page).
      memory          = "1Gi"
      cpu             = "1"
      timeout_seconds = 300
      max_instances   = 2
      min_instances   = 1 # stays warm: its storage-class replays take minutes to rebuild (bench/README.md)
      concurrency     = 4
    }
    restoreDrill = {
      description     = "Restore drill: restores a sample of repositories into scratch space, checks them against the index, times them against the RTO (HTTP, Scheduler and IAM only)."
      service_account = google_service_account.drill.email
      ingress         = "ALLOW_ALL"
      memory          = "8Gi"
      cpu             = "2"
      timeout_seconds = 1800 # Cloud Scheduler waits at most 30 minutes for an HTTP target
      max_instances   = 1
      min_instances   = 0
      concurrency     = 1
    }
    forgetRepo = {
      description     = "Crypto-shreds one repository: destroys its keys so every archive of it is unreadable (HTTP, IAM and the admin role only)."
      service_account = google_service_account.forget.email
      ingress         = "ALLOW_ALL"
      memory          = "512Mi"
      cpu             = "1"
      timeout_seconds = 300
      max_instances   = 1
      min_instances   = 0
      concurrency     = 1
    }
    restoreOrg = {
      description     = "Restores every repository as of one moment: plans, then publishes one restore-requests message each; GET reports each one's outcome (HTTP, IAM and the restorer role only)."
      service_account = google_service_account.restore_org.email
      ingress         = "ALLOW_ALL"
      memory          = "512Mi"
      cpu             = "1"
      timeout_seconds = 300
      max_instances   = 2
      min_instances   = 0
      concurrency     = 1
    }
    restoreOrgRepo = {
      description     = "Restores one repository of an organization's restore to GitHub with its journal; past its deadline hands the rest on to itself (restore-requests)."
      service_account = google_service_account.restore_org_repo.email
      ingress         = "ALLOW_INTERNAL_ONLY"
      memory          = "8Gi"
      cpu             = "2"
      timeout_seconds = 540 # the event-driven limit; cloud.restoreDeadlineSeconds stops it before
      max_instances   = 5
      min_instances   = 0
      concurrency     = 1
    }
    rotateKeys = {
      description     = "Key rotation without rewriting archives: a new key for one repository, or every repository key rewrapped under the KMS key's primary version (HTTP, IAM and the admin role only)."
      service_account = google_service_account.keys.email
      ingress         = "ALLOW_ALL"
      memory          = "512Mi"
      cpu             = "1"
      timeout_seconds = 540
      max_instances   = 1
      min_instances   = 0
      concurrency     = 1
    }
    githubWebhook = {
      description     = "Receives GitHub push webhooks, verifies the signature, publishes a snapshot request (public)."
      service_account = google_service_account.webhook.email
      ingress         = "ALLOW_ALL"
      memory          = "512Mi"
      cpu             = "1"
      timeout_seconds = 30
      max_instances   = 20
      min_instances   = 0
      concurrency     = 20
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

    # No GOOGLE_NODE_RUN_SCRIPTS: the Node.js buildpack runs package.json's
    # `gcp-build` script (tsc to dist/), so the functions run compiled JavaScript.

    source {
      # The generation pins the exact upload: a zip replaced under the same name
      # is a new generation, hence a rebuild, never a silent mix of versions.
      storage_source {
        bucket     = google_storage_bucket.source.name
        object     = google_storage_bucket_object.function_source.name
        generation = google_storage_bucket_object.function_source.generation
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
    min_instance_count               = each.value.min_instances
    max_instance_request_concurrency = each.value.concurrency
    all_traffic_on_latest_revision   = true
    # Exactly what this function's code reads (environment.tf).
    environment_variables = local.workload_env[each.key]

    dynamic "secret_environment_variables" {
      for_each = toset(local.workload_secrets[each.key])
      content {
        key        = secret_environment_variables.value
        project_id = var.project_id
        secret     = local.secret_env[secret_environment_variables.value]
        version    = "latest"
      }
    }
  }

  labels = var.labels

  # The build needs the builder's grants and the revision its secrets: both are
  # created in the same apply, and IAM takes a while to honour them (iam.tf).
  depends_on = [time_sleep.iam_propagation]
}
