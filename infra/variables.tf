# Inputs of the deployment. Only the project, the GitHub App, the job image and the
# alert address have no default. The product's clocks and retention rules are not
# here: they live in config/schedule.yaml, config/retention-policy.yaml and
# config/backup-config.yaml, which the code and this configuration both read, and
# the variables below that override them are null (or empty) unless you set them.

# --- Where ---------------------------------------------------------------

variable "project_id" {
  description = "ID of the GCP project that hosts the deployment (it should hold nothing else)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project ID (6-30 lowercase letters, digits, hyphens)."
  }
}

variable "region" {
  description = "Region of the functions, the Cloud Run job, Scheduler, the restore and source buckets."
  type        = string
  default     = "us-central1"
}

variable "archive_location" {
  description = "Location of the archive bucket. A multi-region (US, EU, ASIA) or dual-region keeps backups through a regional outage."
  type        = string
  default     = "US"
}

variable "kms_location" {
  description = "Location of the KMS key ring. Null means the region. The archives are envelope-encrypted, so the key need not sit with the bucket."
  type        = string
  default     = null
}

variable "firestore_location" {
  description = "Location of the Firestore database holding the snapshot index (e.g. nam5, eur3, or a region). Cannot change after creation."
  type        = string
  default     = "nam5"
}

variable "labels" {
  description = "Labels added to every resource that takes labels."
  type        = map(string)
  default     = { app = "infinity-backup" }
}

# --- The GitHub App (it backs up every installation) ------------------------

variable "github_app_id" {
  description = "Numeric ID of the GitHub App (App settings > About > App ID). Its private key and webhook secret go to Secret Manager, never here."
  type        = string

  validation {
    condition     = can(regex("^[0-9]+$", var.github_app_id))
    error_message = "github_app_id is the App's numeric ID."
  }
}

variable "github_api_url" {
  description = "GitHub Enterprise Server only: the REST API root, e.g. https://github.example.com/api/v3 (GITHUB_API_URL). Null means github.com."
  type        = string
  default     = null

  validation {
    condition     = var.github_api_url == null ? true : can(regex("^https://[^\\s/]+", var.github_api_url))
    error_message = "github_api_url must be an https:// URL."
  }
}

variable "github_git_url" {
  description = "GitHub Enterprise Server only: the root git clones are made from, e.g. https://github.example.com (GITHUB_GIT_URL). Null means github.com."
  type        = string
  default     = null

  validation {
    condition     = var.github_git_url == null ? true : can(regex("^https://[^\\s/]+", var.github_git_url))
    error_message = "github_git_url must be an https:// URL."
  }
}

# --- Artifacts ------------------------------------------------------------

variable "function_source_zip" {
  description = "Path to the zip of the function source built from the repository (docs/DEPLOY.md, 'Build the function source'). Every function is deployed from it."
  type        = string
  default     = "../build/function-source.zip"
}

variable "function_runtime" {
  description = "Cloud Functions runtime. nodejs20 was decommissioned on 2026-10-30; nodejs22 is the nearest supported runtime to the Node 20 the project develops on (nodejs24 also works once tested)."
  type        = string
  default     = "nodejs22"

  validation {
    condition     = can(regex("^nodejs[0-9]+$", var.function_runtime)) && try(tonumber(trimprefix(var.function_runtime, "nodejs")) >= 22, false)
    error_message = "function_runtime must be nodejs22 or later."
  }
}

variable "snapshot_job_image" {
  description = "Container image of the same code for the Cloud Run job snapshot-job (large repositories), e.g. REGION-docker.pkg.dev/PROJECT/infinity-backup/infinity-backup:TAG."
  type        = string
}

# --- Storage --------------------------------------------------------------

variable "archive_bucket_name" {
  description = "Name of the archive bucket. Null means \"<project_id>-ib-archive\"."
  type        = string
  default     = null
}

variable "restore_bucket_name" {
  description = "Name of the bucket restoreRepo writes restored bundles to. Null means \"<project_id>-ib-restore\"."
  type        = string
  default     = null
}

variable "source_bucket_name" {
  description = "Name of the bucket holding the function source zip. Null means \"<project_id>-ib-source\"."
  type        = string
  default     = null
}

variable "retention_floor_days" {
  description = "Bucket retention policy on the archive bucket: no credential, not even prune's or an owner's, can delete or replace an archive younger than this."
  type        = number
  default     = 7

  validation {
    condition     = var.retention_floor_days >= 1 && var.retention_floor_days <= 3650
    error_message = "retention_floor_days must be between 1 and 3650."
  }
}

variable "lock_retention_policy" {
  description = "Lock the archive bucket's retention policy. IRREVERSIBLE: once locked, the floor can only grow and the bucket cannot be deleted while it holds objects. Turn on after a first successful drill."
  type        = bool
  default     = false
}

variable "soft_delete_days" {
  description = "Days a deleted archive stays restorable through Cloud Storage soft delete (7 to 90; it cannot be turned off, so no deletion is final at once)."
  type        = number
  default     = 7

  validation {
    condition     = var.soft_delete_days >= 7 && var.soft_delete_days <= 90
    error_message = "soft_delete_days must be between 7 and 90."
  }
}

variable "archive_retention_mode" {
  description = "Mode of the object retention archives are written with: \"Unlocked\" (no account of this deployment can shorten it; a project owner could grant itself the permission) or \"Locked\" (nobody can shorten or remove it, ever; see docs/DEPLOY.md before choosing it)."
  type        = string
  default     = "Unlocked"

  validation {
    condition     = contains(["Unlocked", "Locked"], var.archive_retention_mode)
    error_message = "archive_retention_mode must be \"Unlocked\" or \"Locked\"."
  }
}

variable "nearline_after_days" {
  description = "Age in days at which an archive moves to NEARLINE (30 matches Nearline's minimum storage duration)."
  type        = number
  default     = 30

  validation {
    condition     = var.nearline_after_days >= 1
    error_message = "nearline_after_days must be at least 1."
  }
}

variable "coldline_after_days" {
  description = "Age in days at which an archive moves to COLDLINE (90 matches Coldline's minimum storage duration)."
  type        = number
  default     = 90

  validation {
    condition     = var.coldline_after_days >= 1
    error_message = "coldline_after_days must be at least 1."
  }
}

variable "archive_after_days" {
  description = "Age in days at which an archive moves to ARCHIVE (365 matches Archive's minimum storage duration)."
  type        = number
  default     = 365

  validation {
    condition     = var.archive_after_days >= 1
    error_message = "archive_after_days must be at least 1."
  }
}

variable "delete_after_expiry_days" {
  description = "Days after an archive's customTime (the expiry prune computed) before the bucket lifecycle deletes it. A safety net behind prune, never ahead of it."
  type        = number
  default     = 1

  validation {
    condition     = var.delete_after_expiry_days >= 1
    error_message = "delete_after_expiry_days must be at least 1, so that lifecycle never races prune."
  }
}

variable "restore_bundle_days" {
  description = "Days a restored bundle stays in the restore bucket. Restored bundles are plaintext copies of a repository, so they do not linger."
  type        = number
  default     = 7

  validation {
    condition     = var.restore_bundle_days >= 1
    error_message = "restore_bundle_days must be at least 1."
  }
}

# --- Keys and index -------------------------------------------------------

variable "kms_rotation_period" {
  description = "Rotation period of the key that wraps every archive's data key, in seconds with an 's' suffix. Old versions stay enabled, so old archives stay readable."
  type        = string
  default     = "7776000s" # 90 days

  validation {
    condition     = can(regex("^[0-9]+s$", var.kms_rotation_period)) && try(tonumber(trimsuffix(var.kms_rotation_period, "s")) >= 86400, false)
    error_message = "kms_rotation_period must look like \"7776000s\" and be at least one day."
  }
}

variable "kms_protection_level" {
  description = "Protection level of the wrapping key: SOFTWARE or HSM."
  type        = string
  default     = "SOFTWARE"

  validation {
    condition     = contains(["SOFTWARE", "HSM"], var.kms_protection_level)
    error_message = "kms_protection_level must be SOFTWARE or HSM."
  }
}

variable "firestore_database" {
  description = "ID of the Firestore database holding the snapshot index (passed to the code as FIRESTORE_DATABASE)."
  type        = string
  default     = "infinity-backup"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,61}[a-z0-9]$", var.firestore_database))
    error_message = "firestore_database must be 4-63 lowercase letters, digits or hyphens, starting with a letter."
  }
}

# --- Overrides of config/*.yaml -------------------------------------------
# Each is passed to the code only when set; unset, the file's value applies, so
# every default has one home.

variable "backup_schedule" {
  description = "Cron (UTC) of the full daily sweep (the product brief's BACKUP_SCHEDULE). Null means `daily` in config/schedule.yaml (00:00 UTC). The other clocks are set in that file."
  type        = string
  default     = null

  validation {
    condition     = var.backup_schedule == null ? true : length(split(" ", trimspace(var.backup_schedule))) == 5
    error_message = "backup_schedule must be a five-field cron expression."
  }
}

variable "retention_days" {
  description = "Days the newest snapshot of each day is kept (RETENTION_DAYS, given to pruneSnapshots and backupHealth). Null means `daily` in config/retention-policy.yaml (30 days)."
  type        = number
  default     = null

  validation {
    condition     = var.retention_days == null ? true : var.retention_days >= 1 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number of days, at least 1."
  }
}

variable "verify_backups" {
  description = "Verify every snapshot after it is written (VERIFY_BACKUPS, given to snapshotRepo and snapshot-job). Null means `verify.afterBackup` in config/backup-config.yaml (true). Turning it off breaks the product's promise; it exists for cost experiments."
  type        = bool
  default     = null
}

variable "legal_hold_repos" {
  description = "Repositories (\"owner/name\") of which prune keeps every snapshot, added to `holdRepos` of config/retention-policy.yaml (LEGAL_HOLD_REPOS, comma-separated). Empty: only the file's list."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.legal_hold_repos : can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", r))])
    error_message = "legal_hold_repos must hold \"owner/name\" repository names."
  }
}

# --- Delivery ---------------------------------------------------------------

variable "max_delivery_attempts" {
  description = "Deliveries of a Pub/Sub message before it is moved to its dead-letter topic (Pub/Sub allows 5 to 100)."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100."
  }
}

variable "snapshot_max_instances" {
  description = "Most snapshotRepo instances at once; bounds the load on GitHub (and its rate limits) during the daily fan-out."
  type        = number
  default     = 10

  validation {
    condition     = var.snapshot_max_instances >= 1
    error_message = "snapshot_max_instances must be at least 1."
  }
}

# --- People ---------------------------------------------------------------

# The four roles (docs/SECURITY.md has the table). Each is a list of IAM members,
# Google groups preferred: "group:backup-restorers@example.com". IAM binds them per
# function (iam.tf); the caller-checked functions (restoreRepo) also compare the
# caller's verified ID token with them (ROLE_*_MEMBERS, environment.tf).
variable "operator_members" {
  description = "Operators: run backups and verifications (publish to snapshot-sweep and verify-requests) and read status (backupHealth), e.g. [\"group:backup-operators@example.com\"]. Never allUsers."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for m in var.operator_members :
      !contains(["allUsers", "allAuthenticatedUsers"], m) && can(regex("^(user|group|serviceAccount|domain):[^,\\s]+$", m))
    ])
    error_message = "operator_members must be user:, group:, serviceAccount: or domain: members; allUsers and allAuthenticatedUsers are refused."
  }
}

variable "restorer_members" {
  description = "Restorers: call restoreRepo (checked again inside the function) and read status, e.g. [\"group:backup-restorers@example.com\"]. Never allUsers."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for m in var.restorer_members :
      !contains(["allUsers", "allAuthenticatedUsers"], m) && can(regex("^(user|group|serviceAccount|domain):[^,\\s]+$", m))
    ])
    error_message = "restorer_members must be user:, group:, serviceAccount: or domain: members; allUsers and allAuthenticatedUsers are refused."
  }
}

variable "auditor_members" {
  description = "Auditors: read status (backupHealth) and the audit log bucket, e.g. [\"group:backup-auditors@example.com\"]. Never allUsers."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for m in var.auditor_members :
      !contains(["allUsers", "allAuthenticatedUsers"], m) && can(regex("^(user|group|serviceAccount|domain):[^,\\s]+$", m))
    ])
    error_message = "auditor_members must be user:, group:, serviceAccount: or domain: members; allUsers and allAuthenticatedUsers are refused."
  }
}

variable "admin_members" {
  description = "Admins: legal hold, forget and configuration; read status. Never allUsers."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for m in var.admin_members :
      !contains(["allUsers", "allAuthenticatedUsers"], m) && can(regex("^(user|group|serviceAccount|domain):[^,\\s]+$", m))
    ])
    error_message = "admin_members must be user:, group:, serviceAccount: or domain: members; allUsers and allAuthenticatedUsers are refused."
  }
}

variable "alert_email" {
  description = "Email address that receives alerts (failed snapshots, failed verifications, stale repositories, dead letters)."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be an email address."
  }
}

variable "enable_data_access_audit_logs" {
  description = "Turn on Data Access audit logs for Cloud Storage, Cloud KMS and Firestore, so every read of an archive, every unwrap of a key and every read of the index is logged, also those that bypass our code. Costs log volume; the brief promises it."
  type        = bool
  default     = true
}

variable "audit_log_retention_days" {
  description = "Days the audit log bucket keeps our audit entries (the product's own trail, mirrored from the hash chains in Firestore). Default 2557: seven years, the longest retention a snapshot has."
  type        = number
  default     = 2557

  validation {
    condition     = var.audit_log_retention_days >= 1 && var.audit_log_retention_days <= 3650
    error_message = "audit_log_retention_days must be between 1 and 3650 (Cloud Logging's limits)."
  }
}

variable "lock_audit_log" {
  description = "Lock the audit log bucket: its retention can then never be shortened and the bucket not deleted while it holds entries, by anyone, this Terraform included. Irreversible; see docs/DEPLOY.md."
  type        = bool
  default     = false
}
