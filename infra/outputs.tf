# What an operator needs after `terraform apply` (docs/DEPLOY.md uses them).

output "github_webhook_url" {
  description = "Webhook URL to set in the GitHub App's settings (public; the function verifies GitHub's signature)."
  value       = google_cloudfunctions2_function.fn["githubWebhook"].service_config[0].uri
}

output "restore_repo_url" {
  description = "URL of restoreRepo (IAM only). Call it with `gcloud functions call restoreRepo --region REGION --data '{...}'`."
  value       = google_cloudfunctions2_function.fn["restoreRepo"].service_config[0].uri
}

output "backup_health_url" {
  description = "URL of backupHealth (IAM only). Call it with `gcloud functions call backupHealth --region REGION`."
  value       = google_cloudfunctions2_function.fn["backupHealth"].service_config[0].uri
}

output "function_names" {
  description = "Names of all deployed functions (equal to their entry points)."
  value       = sort(keys(google_cloudfunctions2_function.fn))
}

output "archive_bucket" {
  description = "Bucket holding the encrypted archives (BACKUP_LOCATION without the gs:// prefix)."
  value       = google_storage_bucket.archive.name
}

output "backup_location" {
  description = "BACKUP_LOCATION as the code reads it, for the CLI: export BACKUP_LOCATION=..."
  value       = "gs://${google_storage_bucket.archive.name}"
}

output "restore_bucket" {
  description = "Bucket where restoreRepo writes restored bundles (kept restore_bundle_days days)."
  value       = google_storage_bucket.restore.name
}

output "source_bucket" {
  description = "Bucket holding the function source zip and the sources staged for image builds (gcloud builds submit --gcs-source-staging-dir=gs://BUCKET/image-builds)."
  value       = google_storage_bucket.source.name
}

output "kms_key_name" {
  description = "Full name of the KMS key that wraps archive data keys (KMS_KEY_NAME)."
  value       = google_kms_crypto_key.archive.id
}

output "firestore_database" {
  description = "Firestore database holding the snapshot index (FIRESTORE_DATABASE)."
  value       = google_firestore_database.index.name
}

output "topics" {
  description = "Pub/Sub topic names, keyed by topic."
  value       = { for k, t in google_pubsub_topic.topic : k => t.name }
}

output "dead_letter_subscriptions" {
  description = "Subscriptions holding dead-lettered requests, keyed by the topic they came from. Inspect with `gcloud pubsub subscriptions pull NAME --limit=10`."
  value       = { for k, s in google_pubsub_subscription.dead_letter : k => s.name }
}

output "snapshot_job_name" {
  description = "Cloud Run job that snapshots large repositories. Start it by hand with `gcloud run jobs execute snapshot-job --region REGION`."
  value       = google_cloud_run_v2_job.snapshot_job.name
}

output "builder_service_account" {
  description = "Service account that builds the functions and the snapshot-job image (gcloud builds submit --service-account=projects/PROJECT/serviceAccounts/EMAIL)."
  value       = google_service_account.builder.email
}

output "image_repository" {
  description = "Artifact Registry path to push the snapshot-job image to."
  value       = "${google_artifact_registry_repository.images.location}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
}

output "service_accounts" {
  description = "Service account email of each workload."
  value = {
    sweep          = google_service_account.sweep.email
    snapshotRepo   = google_service_account.snapshot.email
    snapshotJob    = google_service_account.snapshot_job.email
    verifySnapshot = google_service_account.verify.email
    pruneSnapshots = google_service_account.prune.email
    restoreRepo    = google_service_account.restore.email
    backupHealth   = google_service_account.health.email
    githubWebhook  = google_service_account.webhook.email
  }
}
