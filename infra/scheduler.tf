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

  # The jobs that publish their message of scheduled_messages to a topic, by name (the job is
  # "infinity-backup-<name with dashes>"). Each ran as a resource of its own before; their moved
  # blocks in moved.tf carry an existing deployment's jobs over, without destroy and create.
  published_jobs = {
    daily_sweep = {
      description = "Daily backup of every repository (the 00:00 UTC promise)."
      schedule    = local.daily_schedule
      topic       = "snapshot-sweep"
      retries     = 3
    }
    rpo_sweep = {
      description = "Frequent sweep that snapshots only repositories whose refs changed (RPO)."
      schedule    = local.schedule.rpoSweep
      topic       = "snapshot-sweep"
      retries     = 1
    }
    verify_sweep = {
      description = "Daily re-verification of stored snapshots."
      schedule    = local.schedule.verifySweep
      topic       = "snapshot-sweep"
      retries     = 3
    }
    prune = {
      description = "Daily prune: retention policy, expiries, orphans."
      schedule    = local.schedule.prune
      topic       = "prune-requests"
      retries     = 3
    }
    org_snapshot = {
      description = "Daily snapshot of each organization's own metadata: settings, members, teams, rulesets, projects."
      schedule    = local.schedule.orgSnapshot
      topic       = "snapshot-sweep"
      retries     = 3
    }
    metadata_reconcile = {
      description = "Weekly full snapshot of every repository, metadata read whole (incremental reads miss some changes)."
      schedule    = local.schedule.metadataReconcile
      topic       = "snapshot-sweep"
      retries     = 3
    }
  }
}

resource "google_cloud_scheduler_job" "published" {
  for_each    = local.published_jobs
  name        = "infinity-backup-${replace(each.key, "_", "-")}"
  description = each.value.description
  region      = var.region
  schedule    = each.value.schedule
  time_zone   = "Etc/UTC"

  retry_config {
    retry_count          = each.value.retries
    min_backoff_duration = "30s"
  }

  pubsub_target {
    topic_name = google_pubsub_topic.topic[each.value.topic].id
    data       = base64encode(jsonencode(local.scheduled_messages[each.key]))
  }

  lifecycle {
    # Fail the plan, not the clocks, if the file's format moves on without us.
    precondition {
      condition     = try(local.schedule.version, null) == 1
      error_message = "config/schedule.yaml must be version 1 (the format infra/scheduler.tf reads)."
    }
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
