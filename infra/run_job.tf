# Repositories too large for a function (event-driven functions stop at
# 540 s, and /tmp is memory) are snapshotted by this Cloud Run job, running
# the same code from a container image: `node bin/infinity-backup.mjs job
# snapshot`.
#
# Hand-over: snapshotRepo publishes the request to snapshot-large and
# acknowledges its own message. Scheduler starts an execution on the
# `snapshotJob` clock of config/schedule.yaml; the execution pulls from the subscription
# snapshot-large-to-snapshot-job (LARGE_SNAPSHOT_SUBSCRIPTION), snapshots each
# repository under the same per-repo lease, acknowledges, and exits when the
# subscription is empty. A request that keeps failing is dead-lettered like
# every other. The same queue carries drills (restoreDrill), restores to
# GitHub (restoreRepo, restoreOrgRepo), compactions of layers (pruneSnapshots,
# which cannot decrypt) and deep verifications too big for verifySnapshot.

resource "google_cloud_run_v2_job" "snapshot_job" {
  name     = "snapshot-job"
  location = var.region

  # The job holds no state; recreating it loses nothing.
  deletion_protection = false

  template {
    task_count  = 1
    parallelism = 1

    template {
      service_account = google_service_account.snapshot_job.email
      timeout         = "86400s" # 24 h for the largest repositories
      max_retries     = 1

      containers {
        image   = var.snapshot_job_image
        command = ["node"]
        args    = ["bin/infinity-backup.mjs", "job", "snapshot"]

        resources {
          limits = {
            cpu    = "4"
            memory = "16Gi"
          }
        }

        # Exactly what the job's code reads (environment.tf): plain variables...
        dynamic "env" {
          for_each = local.workload_env["snapshotJob"]
          content {
            name  = env.key
            value = env.value
          }
        }

        # ...and secrets, as references to Secret Manager.
        dynamic "env" {
          for_each = toset(local.workload_secrets["snapshotJob"])
          content {
            name = env.value
            value_source {
              secret_key_ref {
                secret  = local.secret_env[env.value]
                version = "latest"
              }
            }
          }
        }
      }
    }
  }

  labels = var.labels

  # Cloud Run refuses a job whose account cannot read its secrets yet (iam.tf).
  depends_on = [time_sleep.iam_propagation]
}
