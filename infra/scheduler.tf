# Cloud Scheduler: every clock of the product, one job per entry of
# config/schedule.yaml, the one home of the schedules (the CLI reads the same file).
# All schedules are UTC. var.backup_schedule, when set, overrides `daily` (the
# product brief's BACKUP_SCHEDULE); a test checks that the jobs and the file agree.
#
# The message bodies must match the sweep and prune request schemas in
# functions/core/messages.ts (a versioned zod schema per message).

locals {
  schedule       = yamldecode(file("${path.module}/../config/schedule.yaml"))
  daily_schedule = coalesce(var.backup_schedule, local.schedule.daily)

  scheduled_messages = {
    # Every repository: a snapshot if its refs changed, a confirmation if not.
    daily_sweep = { v = 1, reason = "schedule" }
    # Only repositories whose refs changed since their last snapshot (cheap:
    # one ls-remote-like call per repository). Bounds the RPO when a push
    # webhook is lost.
    rpo_sweep = { v = 1, reason = "rpo-sweep" }
    # One verify request per repository for the snapshots due a re-check.
    verify_sweep = { v = 1, reason = "verify-sweep" }
    # Every repository: a new full snapshot, its GitHub metadata read whole.
    metadata_reconcile = { v = 1, reason = "reconcile" }
    org_snapshot       = { v = 1, reason = "org" }
    prune              = { v = 1 }
    # The sample size is drill.sample of config/backup-config.yaml.
    restore_drill = { v = 1 }
  }
}

resource "google_cloud_scheduler_job" "daily_sweep" {
  name        = "infinity-backup-daily-sweep"
  description = "Daily backup of every repository (the 00:00 UTC promise)."
  region      = var.region
  schedule    = local.daily_schedule
  time_zone   = "Etc/UTC"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "30s"
  }

  pubsub_target {
    topic_name = google_pubsub_topic.topic["snapshot-sweep"].id
    data       = base64encode(jsonencode(local.scheduled_messages.daily_sweep))
  }

  lifecycle {
    # Fail the plan, not the clocks, if the file's format moves on without us.
    precondition {
      condition     = try(local.schedule.version, null) == 1
      error_message = "config/schedule.yaml must be version 1 (the format infra/scheduler.tf reads)."
    }
  }
}

resource "google_cloud_scheduler_job" "rpo_sweep" {
  name        = "infinity-backup-rpo-sweep"
  description = "Frequent sweep that snapshots only repositories whose refs changed (RPO)."
  region      = var.region
  schedule    = local.schedule.rpoSweep
  time_zone   = "Etc/UTC"

  retry_config {
    retry_count          = 1
    min_backoff_duration = "30s"
  }

  pubsub_target {
    topic_name = google_pubsub_topic.topic["snapshot-sweep"].id
    data       = base64encode(jsonencode(local.scheduled_messages.rpo_sweep))
  }
}

resource "google_cloud_scheduler_job" "verify_sweep" {
  name        = "infinity-backup-verify-sweep"
  description = "Daily re-verification of stored snapshots."
  region      = var.region
  schedule    = local.schedule.verifySweep
  time_zone   = "Etc/UTC"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "30s"
  }

  pubsub_target {
    topic_name = google_pubsub_topic.topic["snapshot-sweep"].id
    data       = base64encode(jsonencode(local.scheduled_messages.verify_sweep))
  }
}

resource "google_cloud_scheduler_job" "prune" {
  name        = "infinity-backup-prune"
  description = "Daily prune: retention policy, expiries, orphans."
  region      = var.region
  schedule    = local.schedule.prune
  time_zone   = "Etc/UTC"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "30s"
  }

  pubsub_target {
    topic_name = google_pubsub_topic.topic["prune-requests"].id
    data       = base64encode(jsonencode(local.scheduled_messages.prune))
  }
}

# backupHealth logs one stale_repo entry per repository older than the RPO;
# calling it on a clock is what turns staleness into an alert.
resource "google_cloud_scheduler_job" "health_check" {
  name             = "infinity-backup-health-check"
  description      = "Calls backupHealth so that stale repositories are logged and alerted on."
  region           = var.region
  schedule         = local.schedule.healthCheck
  time_zone        = "Etc/UTC"
  attempt_deadline = "320s"

  http_target {
    uri         = google_cloudfunctions2_function.fn["backupHealth"].service_config[0].uri
    http_method = "GET"

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.fn["backupHealth"].service_config[0].uri
    }
  }
}

# Calls restoreDrill: a sample of repositories restored into scratch space,
# checked against the index and timed against the RTO (the body is the drill
# request schema of functions/core/messages.ts).
resource "google_cloud_scheduler_job" "restore_drill" {
  name             = "infinity-backup-restore-drill"
  description      = "Restore drill: a sample of repositories restored, verified against the index and timed against the RTO."
  region           = var.region
  schedule         = local.schedule.restoreDrill
  time_zone        = "Etc/UTC"
  attempt_deadline = "1800s"

  http_target {
    uri         = google_cloudfunctions2_function.fn["restoreDrill"].service_config[0].uri
    http_method = "POST"
    headers     = { "Content-Type" = "application/json" }
    body        = base64encode(jsonencode(local.scheduled_messages.restore_drill))

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.fn["restoreDrill"].service_config[0].uri
    }
  }
}

# Starts snapshot-job, which drains snapshot-large (run_job.tf).
resource "google_cloud_scheduler_job" "snapshot_job" {
  name             = "infinity-backup-snapshot-job"
  description      = "Starts the Cloud Run job that snapshots large repositories handed over by snapshotRepo."
  region           = var.region
  schedule         = local.schedule.snapshotJob
  time_zone        = "Etc/UTC"
  attempt_deadline = "30s"

  http_target {
    uri         = "https://run.googleapis.com/v2/${google_cloud_run_v2_job.snapshot_job.id}:run"
    http_method = "POST"

    oauth_token {
      service_account_email = google_service_account.scheduler.email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }
}

resource "google_cloud_scheduler_job" "org_snapshot" {
  name        = "infinity-backup-org-snapshot"
  description = "Daily snapshot of each organization's own metadata: settings, members, teams, rulesets, projects."
  region      = var.region
  schedule    = local.schedule.orgSnapshot
  time_zone   = "Etc/UTC"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "30s"
  }

  pubsub_target {
    topic_name = google_pubsub_topic.topic["snapshot-sweep"].id
    data       = base64encode(jsonencode(local.scheduled_messages.org_snapshot))
  }
}

resource "google_cloud_scheduler_job" "metadata_reconcile" {
  name        = "infinity-backup-metadata-reconcile"
  description = "Weekly full snapshot of every repository, metadata read whole (incremental reads miss some changes)."
  region      = var.region
  schedule    = local.schedule.metadataReconcile
  time_zone   = "Etc/UTC"

  retry_config {
    retry_count          = 3
    min_backoff_duration = "30s"
  }

  pubsub_target {
    topic_name = google_pubsub_topic.topic["snapshot-sweep"].id
    data       = base64encode(jsonencode(local.scheduled_messages.metadata_reconcile))
  }
}
