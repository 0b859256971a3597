# The environment of each workload: the seven functions (functions.tf) and the Cloud
# Run job (run_job.tf) each get exactly the variables their code reads, as
# functions/config/cloud-env.ts declares them, and nothing else. A function that never
# talks to GitHub does not get the App's key, so it neither needs nor holds it.
#
# env_parts and workload_parts below mirror PART_ENV and WORKLOAD_PARTS of cloud-env.ts
# part for part; test/infra/terraform.test.ts fails when the two disagree, when a
# workload reads a variable Terraform does not give it, or when Terraform gives one
# that nothing reads. test/infra/terraform-model.ts (deployedEnv) reads this file to
# start each function in the end-to-end tests with exactly this environment.

locals {
  # Variables every deployment sets, and their values.
  env_always = {
    GOOGLE_CLOUD_PROJECT        = var.project_id
    BACKUP_LOCATION             = "gs://${google_storage_bucket.archive.name}"
    ARCHIVE_RETENTION_MODE      = var.archive_retention_mode
    RESTORE_BUCKET              = google_storage_bucket.restore.name
    KMS_KEY_NAME                = google_kms_crypto_key.archive.id
    FIRESTORE_DATABASE          = google_firestore_database.index.name
    SNAPSHOT_TOPIC              = google_pubsub_topic.topic["snapshot-requests"].name
    VERIFY_TOPIC                = google_pubsub_topic.topic["verify-requests"].name
    LARGE_SNAPSHOT_TOPIC        = google_pubsub_topic.topic["snapshot-large"].name
    LARGE_SNAPSHOT_SUBSCRIPTION = local.delivery_subscription_names["snapshot-large"]
    RESTORE_TOPIC               = google_pubsub_topic.topic["restore-requests"].name
    GITHUB_APP_ID               = var.github_app_id
    # backupHealth counts what waits in these (pubsub.tf names them).
    DEAD_LETTER_SUBSCRIPTIONS = join(",", [for topic in keys(local.topics) : "${topic}-dead-letter-drain"])
    # The roles, for the functions that check their caller (handlers/authz.ts).
    ROLE_OPERATOR_MEMBERS = join(",", var.operator_members)
    ROLE_RESTORER_MEMBERS = join(",", var.restorer_members)
    ROLE_AUDITOR_MEMBERS  = join(",", var.auditor_members)
    ROLE_ADMIN_MEMBERS    = join(",", var.admin_members)
    # The URLs a caller's ID token may be minted for: each caller-checked function's
    # Cloud Run URL and its cloudfunctions.net URL (gcloud functions call uses one).
    AUTH_AUDIENCES = join(",", flatten([
      for name in local.caller_checked_functions : [
        "https://${lower(name)}-${data.google_project.this.number}.${var.region}.run.app",
        "https://${var.region}-${var.project_id}.cloudfunctions.net/${name}",
      ]
    ]))
  }

  # The functions that check their caller's role themselves.
  caller_checked_functions = [for name in ["restoreRepo", "restoreOrg", "forgetRepo", "rotateKeys"] : name if contains(keys(local.functions), name)]

  # Overrides of config/*.yaml: set only when the operator set the Terraform variable
  # (null here means "leave the variable out"), so that an unset one leaves the
  # file's value, the one home of each default, in force.
  env_when_set = {
    VERIFY_BACKUPS   = var.verify_backups == null ? null : tostring(var.verify_backups)
    RETENTION_DAYS   = var.retention_days == null ? null : tostring(var.retention_days)
    LEGAL_HOLD_REPOS = length(var.legal_hold_repos) == 0 ? null : join(",", var.legal_hold_repos)
    GITHUB_API_URL   = var.github_api_url
    GITHUB_GIT_URL   = var.github_git_url
  }

  env = merge(local.env_always, { for name, value in local.env_when_set : name => value if value != null })

  # Secret variables => the Secret Manager secret each is read from. They reach a
  # workload only as secret references (secret_environment_variables, secret_key_ref),
  # never as plain environment; iam.tf grants each secret to the accounts of exactly
  # the workloads that read it.
  secret_env = {
    GITHUB_APP_PRIVATE_KEY = google_secret_manager_secret.github_app_private_key.secret_id
    GITHUB_WEBHOOK_SECRET  = google_secret_manager_secret.github_webhook_secret.secret_id
    SMTP_PASSWORD          = google_secret_manager_secret.smtp_password.secret_id
  }

  # PART_ENV: the parts a workload may wire, and the variables each part reads.
  env_parts = {
    project          = ["GOOGLE_CLOUD_PROJECT"]
    archives         = ["BACKUP_LOCATION", "ARCHIVE_RETENTION_MODE"]
    restoreBucket    = ["RESTORE_BUCKET"]
    keys             = ["KMS_KEY_NAME"]
    index            = ["FIRESTORE_DATABASE"]
    publishSnapshots = ["SNAPSHOT_TOPIC"]
    publishVerify    = ["VERIFY_TOPIC"]
    publishLarge     = ["LARGE_SNAPSHOT_TOPIC"]
    publishRestores  = ["RESTORE_TOPIC"]
    restoreJournal   = ["FIRESTORE_DATABASE"]
    drainLarge       = ["LARGE_SNAPSHOT_SUBSCRIPTION"]
    github           = ["GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_API_URL", "GITHUB_GIT_URL"]
    webhookSecret    = ["GITHUB_WEBHOOK_SECRET"]
    deliveries       = ["FIRESTORE_DATABASE"]
    verifySetting    = ["VERIFY_BACKUPS"]
    retentionSetting = ["RETENTION_DAYS", "LEGAL_HOLD_REPOS"]
    notify           = ["SMTP_PASSWORD"]
    deadLetters      = ["DEAD_LETTER_SUBSCRIPTIONS"]
    callers          = ["ROLE_OPERATOR_MEMBERS", "ROLE_RESTORER_MEMBERS", "ROLE_AUDITOR_MEMBERS", "ROLE_ADMIN_MEMBERS", "AUTH_AUDIENCES"]
  }

  # WORKLOAD_PARTS: what each function (by entry point) and the job wire.
  workload_parts = {
    sweep          = ["project", "index", "publishSnapshots", "publishVerify", "github", "verifySetting", "retentionSetting"]
    snapshotRepo   = ["project", "archives", "keys", "index", "publishVerify", "publishLarge", "github", "verifySetting", "notify"]
    verifySnapshot = ["project", "archives", "keys", "index", "notify", "publishLarge"]
    pruneSnapshots = ["project", "archives", "index", "retentionSetting", "publishLarge"]
    restoreRepo    = ["project", "archives", "restoreBucket", "keys", "index", "github", "callers", "publishLarge"]
    backupHealth   = ["project", "index", "retentionSetting", "notify", "deadLetters"]
    restoreDrill   = ["project", "archives", "keys", "index", "publishLarge", "notify"]
    forgetRepo     = ["project", "index", "callers"]
    restoreOrg     = ["project", "index", "restoreJournal", "publishRestores", "callers"]
    restoreOrgRepo = ["project", "archives", "restoreBucket", "keys", "index", "github", "publishRestores", "publishLarge"]
    rotateKeys     = ["project", "index", "keys", "callers"]
    githubWebhook  = ["project", "index", "publishSnapshots", "webhookSecret", "deliveries"]
    snapshotJob    = ["project", "archives", "keys", "index", "publishVerify", "drainLarge", "github", "verifySetting", "notify", "restoreBucket", "publishLarge"]
  }

  # Every variable each workload reads, secrets included.
  workload_reads = {
    for workload, parts in local.workload_parts : workload => toset(flatten([for part in parts : local.env_parts[part]]))
  }

  # What each workload is given: the set variables it reads, and the secrets it reads.
  workload_env = {
    for workload, names in local.workload_reads : workload => { for name, value in local.env : name => value if contains(names, name) }
  }
  workload_secrets = {
    for workload, names in local.workload_reads : workload => sort([for name in names : name if contains(keys(local.secret_env), name)])
  }
}
