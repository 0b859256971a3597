# The snapshot index. Layout the code relies on:
#
#   repos/{repoKey}                        one document per repository
#   repos/{repoKey}/snapshots/{snapshotId} repo, id, takenAt, kind, status,
#                                          expiresAt, verification.verdict, ...
#   leases/{repoKey}                       one running snapshot per repository
#   deliveries/{messageId}                 idempotency marks, TTL on expireAt
#
# The Firestore emulator ignores composite indexes, so tests cannot prove a
# query has its index: every query the code runs beyond a single-field
# collection query is declared here.

resource "google_firestore_database" "index" {
  name                              = var.firestore_database
  location_id                       = var.firestore_location
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "PESSIMISTIC"
  app_engine_integration_mode       = "DISABLED"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "DELETE"

  # The archives carry enough in their headers to rebuild the index, but a
  # rebuild is hours of work during an incident: never destroy it by plan.
  lifecycle {
    prevent_destroy = true
  }
}

# Latest / at-or-before a time, within one repository, committed only:
# where status == "committed" order by takenAt desc.
resource "google_firestore_index" "snapshots_by_status_taken_at" {
  database    = google_firestore_database.index.name
  collection  = "snapshots"
  query_scope = "COLLECTION"

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
  fields {
    field_path = "takenAt"
    order      = "DESCENDING"
  }
}

# Across all repositories: snapshots by verification verdict, newest first
# (backupHealth's failures, the verification sweep's "not yet ok").
resource "google_firestore_index" "snapshots_by_verdict_taken_at" {
  database    = google_firestore_database.index.name
  collection  = "snapshots"
  query_scope = "COLLECTION_GROUP"

  fields {
    field_path = "verification.verdict"
    order      = "ASCENDING"
  }
  fields {
    field_path = "takenAt"
    order      = "DESCENDING"
  }
}

# Across all repositories: committed snapshots whose expiry has passed (prune).
resource "google_firestore_index" "snapshots_by_status_expires_at" {
  database    = google_firestore_database.index.name
  collection  = "snapshots"
  query_scope = "COLLECTION_GROUP"

  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
  fields {
    field_path = "expiresAt"
    order      = "ASCENDING"
  }
}

# Automatic single-field indexes are collection-scoped only; a collection-group
# range query on expiresAt alone needs this override. An override replaces
# the inherited settings, so the collection-scoped ones are restated.
resource "google_firestore_field" "snapshots_expires_at" {
  database   = google_firestore_database.index.name
  collection = "snapshots"
  field      = "expiresAt"

  index_config {
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "DESCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION_GROUP"
    }
  }
}

# Idempotency marks delete themselves: Firestore's TTL policy removes a
# deliveries document after its expireAt. Removal is eventual (typically
# within a day), so a mark may outlive expireAt; that only makes
# deduplication last a little longer.
resource "google_firestore_field" "deliveries_expire_at" {
  database   = google_firestore_database.index.name
  collection = "deliveries"
  field      = "expireAt"

  ttl_config {}

  # A monotonically increasing timestamp index only costs writes and hot-spots.
  index_config {}
}
