# Addresses that changed when repeated blocks became one for_each (iam.tf, scheduler.tf,
# monitoring.tf): each moved block carries an existing deployment's object to its new address, so
# that the next apply neither destroys nor creates it (for an IAM grant, neither revokes nor grants
# it again). Keep them: removing one makes a deployment not applied since then replace that object.

# --- scheduler.tf ----------------------------------------------------------

moved {
  from = google_cloud_scheduler_job.daily_sweep
  to   = google_cloud_scheduler_job.published["daily_sweep"]
}

moved {
  from = google_cloud_scheduler_job.rpo_sweep
  to   = google_cloud_scheduler_job.published["rpo_sweep"]
}

moved {
  from = google_cloud_scheduler_job.verify_sweep
  to   = google_cloud_scheduler_job.published["verify_sweep"]
}

moved {
  from = google_cloud_scheduler_job.prune
  to   = google_cloud_scheduler_job.published["prune"]
}

moved {
  from = google_cloud_scheduler_job.org_snapshot
  to   = google_cloud_scheduler_job.published["org_snapshot"]
}

moved {
  from = google_cloud_scheduler_job.metadata_reconcile
  to   = google_cloud_scheduler_job.published["metadata_reconcile"]
}

# --- monitoring.tf ---------------------------------------------------------

moved {
  from = google_logging_metric.snapshot_failures
  to   = google_logging_metric.by_repo["snapshot_failures"]
}

moved {
  from = google_logging_metric.verification_failures
  to   = google_logging_metric.by_repo["verification_failures"]
}

moved {
  from = google_logging_metric.stale_repos
  to   = google_logging_metric.by_repo["stale_repos"]
}

moved {
  from = google_logging_metric.drill_failures
  to   = google_logging_metric.by_repo["drill_failures"]
}

# --- iam.tf ----------------------------------------------------------------

moved {
  from = google_kms_crypto_key_iam_member.snapshot_encrypts
  to   = google_kms_crypto_key_iam_member.archive_key["snapshot_encrypts"]
}

moved {
  from = google_kms_crypto_key_iam_member.snapshot_unwraps_repository_keys
  to   = google_kms_crypto_key_iam_member.archive_key["snapshot_unwraps_repository_keys"]
}

moved {
  from = google_kms_crypto_key_iam_member.snapshot_job_encrypts
  to   = google_kms_crypto_key_iam_member.archive_key["snapshot_job_encrypts"]
}

moved {
  from = google_kms_crypto_key_iam_member.snapshot_job_decrypts_for_drills
  to   = google_kms_crypto_key_iam_member.archive_key["snapshot_job_decrypts_for_drills"]
}

moved {
  from = google_kms_crypto_key_iam_member.verify_decrypts
  to   = google_kms_crypto_key_iam_member.archive_key["verify_decrypts"]
}

moved {
  from = google_kms_crypto_key_iam_member.drill_decrypts
  to   = google_kms_crypto_key_iam_member.archive_key["drill_decrypts"]
}

moved {
  from = google_kms_crypto_key_iam_member.restore_decrypts
  to   = google_kms_crypto_key_iam_member.archive_key["restore_decrypts"]
}

moved {
  from = google_kms_crypto_key_iam_member.restore_org_repo_decrypts
  to   = google_kms_crypto_key_iam_member.archive_key["restore_org_repo_decrypts"]
}

moved {
  from = google_kms_crypto_key_iam_member.keys_rewraps
  to   = google_kms_crypto_key_iam_member.archive_key["keys_rewraps"]
}

moved {
  from = google_storage_bucket_iam_member.snapshot_creates_archives
  to   = google_storage_bucket_iam_member.bucket_access["snapshot_creates_archives"]
}

moved {
  from = google_storage_bucket_iam_member.snapshot_job_creates_archives
  to   = google_storage_bucket_iam_member.bucket_access["snapshot_job_creates_archives"]
}

moved {
  from = google_storage_bucket_iam_member.verify_reads_archives
  to   = google_storage_bucket_iam_member.bucket_access["verify_reads_archives"]
}

moved {
  from = google_storage_bucket_iam_member.prune_manages_archives
  to   = google_storage_bucket_iam_member.bucket_access["prune_manages_archives"]
}

moved {
  from = google_storage_bucket_iam_member.drill_reads_archives
  to   = google_storage_bucket_iam_member.bucket_access["drill_reads_archives"]
}

moved {
  from = google_storage_bucket_iam_member.snapshot_job_reads_archives_for_drills
  to   = google_storage_bucket_iam_member.bucket_access["snapshot_job_reads_archives_for_drills"]
}

moved {
  from = google_storage_bucket_iam_member.restore_reads_archives
  to   = google_storage_bucket_iam_member.bucket_access["restore_reads_archives"]
}

moved {
  from = google_storage_bucket_iam_member.restore_writes_bundles
  to   = google_storage_bucket_iam_member.bucket_access["restore_writes_bundles"]
}

moved {
  from = google_storage_bucket_iam_member.restore_org_repo_reads_archives
  to   = google_storage_bucket_iam_member.bucket_access["restore_org_repo_reads_archives"]
}

moved {
  from = google_storage_bucket_iam_member.restore_org_repo_writes_mappings
  to   = google_storage_bucket_iam_member.bucket_access["restore_org_repo_writes_mappings"]
}

moved {
  from = google_storage_bucket_iam_member.snapshot_job_writes_restore_mappings
  to   = google_storage_bucket_iam_member.bucket_access["snapshot_job_writes_restore_mappings"]
}

moved {
  from = google_pubsub_topic_iam_member.sweep_publishes_snapshot_requests
  to   = google_pubsub_topic_iam_member.publishes["sweep_publishes_snapshot_requests"]
}

moved {
  from = google_pubsub_topic_iam_member.sweep_publishes_verify_requests
  to   = google_pubsub_topic_iam_member.publishes["sweep_publishes_verify_requests"]
}

moved {
  from = google_pubsub_topic_iam_member.webhook_publishes_snapshot_requests
  to   = google_pubsub_topic_iam_member.publishes["webhook_publishes_snapshot_requests"]
}

moved {
  from = google_pubsub_topic_iam_member.snapshot_publishes_verify_requests
  to   = google_pubsub_topic_iam_member.publishes["snapshot_publishes_verify_requests"]
}

moved {
  from = google_pubsub_topic_iam_member.snapshot_publishes_large
  to   = google_pubsub_topic_iam_member.publishes["snapshot_publishes_large"]
}

moved {
  from = google_pubsub_topic_iam_member.drill_publishes_large
  to   = google_pubsub_topic_iam_member.publishes["drill_publishes_large"]
}

moved {
  from = google_pubsub_topic_iam_member.snapshot_job_publishes_verify_requests
  to   = google_pubsub_topic_iam_member.publishes["snapshot_job_publishes_verify_requests"]
}

moved {
  from = google_pubsub_topic_iam_member.restore_org_publishes_restore_requests
  to   = google_pubsub_topic_iam_member.publishes["restore_org_publishes_restore_requests"]
}

moved {
  from = google_pubsub_topic_iam_member.restore_org_repo_publishes_restore_requests
  to   = google_pubsub_topic_iam_member.publishes["restore_org_repo_publishes_restore_requests"]
}

moved {
  from = google_pubsub_topic_iam_member.restore_publishes_snapshot_large
  to   = google_pubsub_topic_iam_member.publishes["restore_publishes_snapshot_large"]
}

moved {
  from = google_pubsub_topic_iam_member.restore_org_repo_publishes_snapshot_large
  to   = google_pubsub_topic_iam_member.publishes["restore_org_repo_publishes_snapshot_large"]
}

moved {
  from = google_pubsub_topic_iam_member.verify_publishes_snapshot_large
  to   = google_pubsub_topic_iam_member.publishes["verify_publishes_snapshot_large"]
}

moved {
  from = google_pubsub_topic_iam_member.prune_publishes_snapshot_large
  to   = google_pubsub_topic_iam_member.publishes["prune_publishes_snapshot_large"]
}

moved {
  from = google_pubsub_topic_iam_member.snapshot_job_publishes_snapshot_large
  to   = google_pubsub_topic_iam_member.publishes["snapshot_job_publishes_snapshot_large"]
}
