# The key that wraps every archive's data key (envelope encryption: a fresh
# AES-256 data key per archive, wrapped by Cloud KMS, stored in the archive
# header together with the key version that wrapped it).
#
# Losing this key loses every backup, so Terraform may never destroy it.
# Rotation creates a new primary version for new archives; old versions stay
# enabled, so archives wrapped by them stay readable.

resource "google_kms_key_ring" "backup" {
  name     = "infinity-backup"
  location = local.kms_location

  lifecycle {
    prevent_destroy = true
  }
}

resource "google_kms_crypto_key" "archive" {
  name            = "archive-key"
  key_ring        = google_kms_key_ring.backup.id
  purpose         = "ENCRYPT_DECRYPT"
  rotation_period = var.kms_rotation_period

  # A version scheduled for destruction by mistake can be restored for this
  # long (the KMS maximum).
  destroy_scheduled_duration = "10368000s" # 120 days

  version_template {
    algorithm        = "GOOGLE_SYMMETRIC_ENCRYPTION"
    protection_level = var.kms_protection_level
  }

  labels = var.labels

  lifecycle {
    prevent_destroy = true
  }
}
