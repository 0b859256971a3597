# Log-based metrics and alert policies: a failed snapshot, a failed
# verification, a stale repository, a dead letter, a delivery backlog, and
# the health check itself going quiet. All alerts mail var.alert_email and every
# address of notifications.email.to in config/backup-config.yaml (the same list
# the code's own mails go to), one Cloud Monitoring email channel each.
#
# Contract with the code's structured logs (one JSON object per line, which
# Cloud Logging reads into jsonPayload): an event is named either by a field
# `event` or, for a bare line, by its `message`, and carries `repo`
# ("owner/name") when it concerns one repository. Failures also log at
# severity ERROR, which the failure metrics count as well.

locals {
  log_event = {
    for e in ["snapshot_failed", "verification_failed", "stale_repo", "drill_failed"] :
    e => "(jsonPayload.event=\"${e}\" OR jsonPayload.message=\"${e}\")"
  }

  # A 2nd-gen function logs as the revision of a Cloud Run service whose
  # name is the function's, lower-cased.
  function_logs = {
    for name in keys(local.functions) :
    name => "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${lower(name)}\""
  }

  snapshot_job_logs = "resource.type=\"cloud_run_job\" AND resource.labels.job_name=\"${google_cloud_run_v2_job.snapshot_job.name}\""

  # The one list of people: yamldecode'd from the config the functions ship with.
  backup_config  = yamldecode(file("${path.module}/../config/backup-config.yaml"))
  alert_emails   = distinct(concat([var.alert_email], try(local.backup_config.notifications.email.to, [])))
  alert_channels = [for email in local.alert_emails : google_monitoring_notification_channel.email[email].id]

  delivery_subscriptions    = join("|", [for s in google_pubsub_subscription.delivery : s.name])
  dead_letter_subscriptions = join("|", [for s in google_pubsub_subscription.dead_letter : s.name])
}

resource "google_monitoring_notification_channel" "email" {
  for_each = toset(local.alert_emails)

  display_name = "infinity-backup alerts: ${each.key}"
  type         = "email"

  labels = {
    email_address = each.key
  }
}

# --- Log-based metrics -------------------------------------------------------

locals {
  # The log-based metrics, each a count of matching entries by repository (label `repo`), by key.
  # Each was a resource of its own before; their moved blocks in moved.tf carry an existing deployment's
  # metrics over, without destroy and create.
  repo_metrics = {
    snapshot_failures = {
      name        = "infinity-backup/snapshot-failures"
      description = "Failed snapshots (snapshotRepo and snapshot-job), by repository."
      filter      = "((${local.function_logs.snapshotRepo}) OR (${local.snapshot_job_logs})) AND (severity>=ERROR OR ${local.log_event.snapshot_failed})"
    }
    verification_failures = {
      name        = "infinity-backup/verification-failures"
      description = "Snapshots whose verification failed (or could not run), by repository."
      filter      = "(${local.function_logs.verifySnapshot}) AND (severity>=ERROR OR ${local.log_event.verification_failed})"
    }
    stale_repos = {
      name        = "infinity-backup/stale-repos"
      description = "stale_repo entries logged by backupHealth: a repository whose newest snapshot is older than the RPO."
      filter      = "(${local.function_logs.backupHealth}) AND ${local.log_event.stale_repo}"
    }
    drill_failures = {
      name        = "infinity-backup/drill-failures"
      description = "Restore drills that failed (restoreDrill, and snapshot-job for large repositories), by repository."
      filter      = "((${local.function_logs.restoreDrill}) OR (${local.snapshot_job_logs})) AND ${local.log_event.drill_failed}"
    }
  }
}

resource "google_logging_metric" "by_repo" {
  for_each    = local.repo_metrics
  name        = each.value.name
  description = each.value.description
  filter      = each.value.filter

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"

    labels {
      key         = "repo"
      value_type  = "STRING"
      description = "owner/name of the repository"
    }
  }

  label_extractors = {
    repo = "EXTRACT(jsonPayload.repo)"
  }
}

# A new log-based metric is not usable in an alert policy at once: the API answers
# "Cannot find metric(s) ... it could take up to 10 minutes to become available"
# (terraform-provider-google#11102). The policies that use our metrics wait for
# this, which runs beside the function builds on a first apply, and again when a
# metric is renamed or added.
resource "time_sleep" "log_metrics" {
  create_duration = "600s"

  triggers = {
    metrics = join(",", [
      google_logging_metric.by_repo["snapshot_failures"].name,
      google_logging_metric.by_repo["verification_failures"].name,
      google_logging_metric.by_repo["stale_repos"].name,
      google_logging_metric.by_repo["drill_failures"].name,
    ])
  }
}

# --- Alert policies ----------------------------------------------------------

resource "google_monitoring_alert_policy" "snapshot_failed" {
  display_name          = "infinity-backup: snapshot failed"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.alert_channels

  conditions {
    display_name = "snapshotRepo logged a failure"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.by_repo["snapshot_failures"].name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.repo"]
      }
    }
  }

  conditions {
    display_name = "snapshot-job logged a failure"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.by_repo["snapshot_failures"].name}\" AND resource.type=\"cloud_run_job\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.repo"]
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A snapshot failed for the repository in the incident's `repo` label. Read the function's logs for that repo; a retried request that keeps failing ends in the snapshot-requests dead-letter subscription. The repository's previous snapshots are untouched."
  }

  depends_on = [time_sleep.log_metrics]
}

resource "google_monitoring_alert_policy" "verification_failed" {
  display_name          = "infinity-backup: verification failed"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = local.alert_channels

  conditions {
    display_name = "verifySnapshot reported a failed verification"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.by_repo["verification_failures"].name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.repo"]
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A stored archive failed verification: it may be corrupt, truncated, or wrapped by a key version that is no longer usable. Do not prune that repository until it is understood; take a fresh snapshot and check the KMS key versions."
  }

  depends_on = [time_sleep.log_metrics]
}

resource "google_monitoring_alert_policy" "stale_repo" {
  display_name          = "infinity-backup: repository backup older than the RPO"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.alert_channels

  conditions {
    display_name = "backupHealth logged stale_repo"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.by_repo["stale_repos"].name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "3600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.repo"]
      }
    }
  }

  alert_strategy {
    auto_close = "7200s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The newest snapshot of the repository in the `repo` label is older than the RPO. Check the snapshot-failed alert, the dead-letter subscriptions, the GitHub App installation (was the repository removed from it?) and the webhook deliveries in the App's settings."
  }

  depends_on = [time_sleep.log_metrics]
}

resource "google_monitoring_alert_policy" "drill_failed" {
  display_name          = "infinity-backup: restore drill failed"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = local.alert_channels

  conditions {
    display_name = "restoreDrill logged drill_failed"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.by_repo["drill_failures"].name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.repo"]
      }
    }
  }

  conditions {
    display_name = "snapshot-job logged drill_failed (a large repository's drill)"
    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.by_repo["drill_failures"].name}\" AND resource.type=\"cloud_run_job\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.repo"]
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A scheduled restore drill could not restore the repository in the `repo` label from its latest snapshot, or the restore differed from the index. Read restoreDrill's log entry (its `detail`), run `infinity-backup verify --deep` on that snapshot, and see docs/RUNBOOK.md, Alerts."
  }

  depends_on = [time_sleep.log_metrics]
}

resource "google_monitoring_alert_policy" "dead_letters" {
  display_name          = "infinity-backup: message dead-lettered"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = local.alert_channels

  conditions {
    display_name = "a dead-letter subscription holds messages"
    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=monitoring.regex.full_match(\"${local.dead_letter_subscriptions}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A request failed every delivery attempt and was dead-lettered. Inspect it with `gcloud pubsub subscriptions pull <topic>-dead-letter-drain --limit=10` (without --auto-ack it stays there), fix the cause, republish it to its topic, then acknowledge it. Dead letters are kept 31 days."
  }
}

resource "google_monitoring_alert_policy" "delivery_backlog" {
  display_name          = "infinity-backup: requests waiting longer than an hour"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = local.alert_channels

  conditions {
    display_name = "oldest unacknowledged request older than 1 h"
    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=monitoring.regex.full_match(\"${local.delivery_subscriptions}\")"
      comparison      = "COMPARISON_GT"
      threshold_value = 3600
      duration        = "600s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Requests are waiting: the consumer is failing and retrying, or cannot keep up (see snapshot_max_instances). The RPO and RTO are at risk while this lasts."
  }
}

# Staleness is only reported when backupHealth runs: alert when it stops.
resource "google_monitoring_alert_policy" "health_check_silent" {
  display_name          = "infinity-backup: backupHealth not called for 2 hours"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = local.alert_channels

  conditions {
    display_name = "no requests to backupHealth"
    condition_absent {
      filter   = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${lower("backupHealth")}\""
      duration = "7200s"
      aggregations {
        alignment_period   = "600s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The scheduled health check has not reached backupHealth for two hours, so stale repositories would go unreported. Check the Scheduler job infinity-backup-health-check and the function."
  }
}

# --- The audit trail, where no function of ours can rewrite it ----------------
# Every audit entry our code writes (jsonPayload.audit = true) is routed to a log bucket of its
# own, kept for var.audit_log_retention_days; with var.lock_audit_log the retention is locked
# (entries can be neither deleted nor shortened). The functions' accounts may write logs, never
# configure or delete log buckets. The same entries are hash-chained in Firestore (auditChains/),
# which `infinity-backup audit verify` checks.

resource "google_logging_project_bucket_config" "audit" {
  project        = var.project_id
  location       = var.region
  bucket_id      = "infinity-backup-audit"
  description    = "infinity-backup audit trail: snapshots, verifications, restores, prune deletions, holds."
  retention_days = var.audit_log_retention_days
  locked         = var.lock_audit_log
}

resource "google_logging_project_sink" "audit" {
  project                = var.project_id
  name                   = "infinity-backup-audit"
  destination            = "logging.googleapis.com/projects/${var.project_id}/locations/${var.region}/buckets/${google_logging_project_bucket_config.audit.bucket_id}"
  filter                 = "jsonPayload.audit = true"
  unique_writer_identity = true
}
