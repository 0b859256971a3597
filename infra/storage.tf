# Buckets: the archive (the backups themselves), the restore bucket (bundles
# restoreRepo writes), and the function source.
#
# No customer-managed key (CMEK) on any bucket: every archive is already
# envelope-encrypted by the code (AES-256-GCM streaming AEAD, data key wrapped
# by google_kms_crypto_key.archive), so Google-managed at-rest encryption is a
# second layer, and a CMEK would add a second key whose loss also loses data.

locals {
  kms_location        = coalesce(var.kms_location, var.region)
  archive_bucket_name = coalesce(var.archive_bucket_name, "${var.project_id}-ib-archive")
  restore_bucket_name = coalesce(var.restore_bucket_name, "${var.project_id}-ib-restore")
  source_bucket_name  = coalesce(var.source_bucket_name, "${var.project_id}-ib-source")
}

resource "google_storage_bucket" "archive" {
  name                        = local.archive_bucket_name
  location                    = var.archive_location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  # Archives are immutable without object versioning: the code writes with
  # ifGenerationMatch=0 (never overwrites), and the retention policy below
  # stops any credential from deleting or replacing a young archive.
  versioning {
    enabled = false
  }

  # Object retention (Object Retention Lock): every archive is written with a
  # retain-until (the date the retention policy promises to keep it; prune only
  # ever moves it forward), and a legal hold is the object's temporary hold. Until
  # then no credential of ours can delete or replace it: shortening an Unlocked
  # retention takes storage.objects.overrideUnlockedRetention, which no account
  # here holds; a Locked one (var.archive_retention_mode) nobody can shorten.
  # Fixed at creation: changing it replaces the bucket, which prevent_destroy refuses.
  enable_object_retention = true

  # The retention floor: no credential can destroy young backups, whatever
  # its roles. Prune works on archives older than this floor only.
  retention_policy {
    retention_period = tostring(var.retention_floor_days * 86400)
    is_locked        = var.lock_retention_policy
  }

  # Soft delete: an archive deleted anyway (its time had come, or by hand) stays
  # restorable for var.soft_delete_days (7 to 90).
  soft_delete_policy {
    retention_duration_seconds = var.soft_delete_days * 86400
  }

  # Storage class by age. The ages equal each class's minimum storage
  # duration, and lifecycle class changes keep the object's creation time, so
  # an archive deleted soon after a move costs no early-deletion charge.
  # Only snapshot archives (repos/) age: shared pack layers live under layers/
  # (core/object-keys.ts) and change class only by prune's choice, which keeps
  # a layer the newest snapshot reads in STANDARD. Age would move it to
  # NEARLINE after 30 days and prune would bring it back, a rewrite a month.
  # (A condition can only match a prefix, not leave one out: hence the prefix.)
  lifecycle_rule {
    condition {
      age                   = var.nearline_after_days
      matches_storage_class = ["STANDARD"]
      matches_prefix        = ["repos/"]
    }
    action {
      type          = "SetStorageClass"
      storage_class = "NEARLINE"
    }
  }

  lifecycle_rule {
    condition {
      age                   = var.coldline_after_days
      matches_storage_class = ["STANDARD", "NEARLINE"]
      matches_prefix        = ["repos/"]
    }
    action {
      type          = "SetStorageClass"
      storage_class = "COLDLINE"
    }
  }

  lifecycle_rule {
    condition {
      age                   = var.archive_after_days
      matches_storage_class = ["STANDARD", "NEARLINE", "COLDLINE"]
      matches_prefix        = ["repos/"]
    }
    action {
      type          = "SetStorageClass"
      storage_class = "ARCHIVE"
    }
  }

  # Deletion happens only by expiry: prune sets customTime to the expiry it
  # computed from the retention policy (Cloud Storage lets customTime only
  # move forward). An archive without customTime is never deleted here, and
  # there is deliberately NO age-based delete rule: age says nothing about
  # whether an archive is still the newest, a monthly, or a chain parent.
  lifecycle_rule {
    condition {
      days_since_custom_time = var.delete_after_expiry_days
    }
    action {
      type = "Delete"
    }
  }

  # Parts of XML multipart uploads that never completed. (JSON resumable
  # upload sessions, which the code uses, expire on their own after a week
  # and never become objects.)
  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  labels = var.labels

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_storage_bucket" "restore" {
  name                        = local.restore_bucket_name
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = false
  }

  # Restored bundles are plaintext copies of a repository: short-lived by
  # design. (Age-based deletion is right here; it is never used on archives.)
  lifecycle_rule {
    condition {
      age = var.restore_bundle_days
    }
    action {
      type = "Delete"
    }
  }

  labels = var.labels
}

# The function zip, and the source tarballs `gcloud builds submit` stages here for
# the job image (docs/DEPLOY.md, step 7), which the builder account can read.
resource "google_storage_bucket" "source" {
  name                        = local.source_bucket_name
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  # A staged tarball is used once, by its build. (Function zips are kept: a
  # function is rebuilt from its zip whenever Cloud Functions needs to.)
  lifecycle_rule {
    condition {
      age            = 30
      matches_prefix = ["image-builds/"]
    }
    action {
      type = "Delete"
    }
  }

  labels = var.labels
}

# The name carries the zip's hash, so a new build is a new object and every
# function is rebuilt from it on the next apply.
resource "google_storage_bucket_object" "function_source" {
  name   = "function-source-${filemd5(var.function_source_zip)}.zip"
  bucket = google_storage_bucket.source.name
  source = var.function_source_zip
}

# Images: the functions' build output and the snapshot-job image.
resource "google_artifact_registry_repository" "images" {
  repository_id = "infinity-backup"
  location      = var.region
  format        = "DOCKER"
  description   = "Function builds and the snapshot-job image of infinity-backup."

  cleanup_policies {
    id     = "delete-untagged-after-30-days"
    action = "DELETE"
    condition {
      tag_state  = "UNTAGGED"
      older_than = "2592000s"
    }
  }

  labels = var.labels
}
