# Repositories too large for a function (event-driven functions stop at
# 540 s, and /tmp is memory) are snapshotted by this Cloud Run job, running
# the same code from a container image: `node bin/infinity-backup.mjs job
# snapshot`.
#
# Hand-over: snapshotRepo publishes the request to snapshot-large and
# acknowledges its own message. Scheduler starts an execution every
# var.snapshot_job_schedule; the execution pulls from the subscription
# snapshot-large-to-snapshot-job (LARGE_SNAPSHOT_SUBSCRIPTION), snapshots each
# repository under the same per-repo lease, acknowledges, and exits when the
# subscription is empty. A request that keeps failing is dead-lettered like
# every other.

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

        dynamic "env" {
          for_each = merge(local.function_env, {
            LARGE_SNAPSHOT_SUBSCRIPTION = google_pubsub_subscription.delivery["snapshot-large"].name
          })
          content {
            name  = env.key
            value = env.value
          }
        }

        env {
          name = "GITHUB_APP_PRIVATE_KEY"
          value_source {
            secret_key_ref {
              secret  = google_secret_manager_secret.github_app_private_key.secret_id
              version = "latest"
            }
          }
        }
      }
    }
  }

  labels = var.labels

  depends_on = [
    google_secret_manager_secret_iam_member.github_app_private_key,
  ]
}
