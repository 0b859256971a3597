# The snapshot index (functions/adapters/gcp/firestore-*.ts). Layout:
#
#   repos/{repoKey}                        one document per repository, with its snapshots' summaries
#   repos/{repoKey}/snapshots/{snapshotId} one document per snapshot
#   leases/{repoKey}                       one running snapshot per repository
#   attempts/{repoKey}                     how the latest backup attempt ended
#   repoRemovals/{repoKey}                 when a repo document was last deleted (warm reads)
#   deliveries/{deliveryId}                webhook deliveries already published (TTL)
#   alertIncidents/{sha256 of key}         open notification incidents, per channel
#   classCheckpoints/{repoKey}             storage-class replays prune keeps for the status page
#
# Indexes: every query the code makes but one is served by Firestore's automatic
# single-field indexes (one repository's snapshots ordered by takenAtTime, newest
# first, optionally up to a time; the repos and attempts collections read whole,
# then by changedAt > the last read time, as are repoRemovals; one notification
# channel's open incidents, a range of keys; document reads), so
# no field override is declared. The one composite index,
# audit_recent below, serves the status page's read of a recent window of the
# audit trail. The emulator the tests
# use enforces no index at all, so test/infra/firestore-indexes.test.ts reads the
# queries from the code and fails when one needs an index this file does not
# declare, or when this file declares one that no query needs.

resource "google_firestore_database" "index" {
  name                              = var.firestore_database
  location_id                       = var.firestore_location
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "PESSIMISTIC"
  app_engine_integration_mode       = "DISABLED"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"

  # Should Terraform ever be told to delete the database (prevent_destroy below
  # lifted), it only forgets it: the data stays. Deleting the index is a decision
  # made by hand, not a side effect of a plan.
  deletion_policy = "ABANDON"

  # The archives carry enough in their headers to rebuild the index, but a
  # rebuild is hours of work during an incident: never destroy it by plan.
  lifecycle {
    prevent_destroy = true
  }
}

# deliveries/{id}: webhook delivery ids already published (functions/adapters/gcp/
# firestore-delivery-log.ts), so a redelivered event is not published again. Each
# document carries expiresAt; this TTL policy has Firestore delete it after that
# (within a day of it; the code treats an expired document as absent).
resource "google_firestore_field" "delivery_expiry" {
  project    = var.project_id
  database   = google_firestore_database.index.name
  collection = "deliveries"
  field      = "expiresAt"

  ttl_config {}
}

# auditChains/{chain}/entries/{seq}: the status page (and the capacity growth
# rule) read the entries of a few actions since a moment, across every chain
# (functions/adapters/gcp/firestore-audit-log.ts entriesSince): a collection-
# group query on action (in) and at (>=), so the read grows with the window,
# not with the trail.
resource "google_firestore_index" "audit_recent" {
  project     = var.project_id
  database    = google_firestore_database.index.name
  collection  = "entries"
  query_scope = "COLLECTION_GROUP"

  fields {
    field_path = "action"
    order      = "ASCENDING"
  }
  fields {
    field_path = "at"
    order      = "ASCENDING"
  }
}
