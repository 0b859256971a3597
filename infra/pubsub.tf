# Topics, their dead-letter topics, and the subscriptions that deliver them.
#
# Why our own push subscriptions rather than the functions' event_trigger:
# an event_trigger makes Eventarc create the Pub/Sub subscription, and the
# subscriptions Eventarc creates cannot take dead-letter settings from
# Terraform (Terraform does not own them; a gcloud change would be drift that
# the next deployment drops). A message that fails forever would be retried
# until retention expires and then vanish. So every topic here is delivered
# by a subscription we declare, with a retry policy and a dead_letter_policy:
#
#   - the five event-driven functions get a push subscription to their URL,
#     authenticated with an OIDC token of google_service_account.pubsub_push.
#     functions-framework turns the push body into the same CloudEvent
#     (google.cloud.pubsub.topic.v1.messagePublished, data.message.*) that an
#     Eventarc trigger would deliver, for functions registered with
#     functions.cloudEvent;
#   - snapshot-large is pulled by the Cloud Run job snapshot-job.
#
# A message that still fails after var.max_delivery_attempts goes to
# "<topic>-dead-letter", where "<topic>-dead-letter-drain" keeps it for 31
# days for inspection and replay, and an alert fires (monitoring.tf).

locals {
  # topic => its consumer; push_function is the function it is pushed to, or
  # null for a pull consumer.
  topics = {
    "snapshot-sweep"    = { consumer = "sweep", push_function = "sweep" }
    "snapshot-requests" = { consumer = "snapshotRepo", push_function = "snapshotRepo" }
    "verify-requests"   = { consumer = "verifySnapshot", push_function = "verifySnapshot" }
    "prune-requests"    = { consumer = "pruneSnapshots", push_function = "pruneSnapshots" }
    "snapshot-large"    = { consumer = "snapshot-job", push_function = null }
    "restore-requests"  = { consumer = "restoreOrgRepo", push_function = "restoreOrgRepo" }
  }

  # Named here rather than read from the subscription resource: the job's
  # environment needs the snapshot-large one (environment.tf), and a reference to
  # google_pubsub_subscription.delivery from there would make every function
  # depend on the push subscriptions, which depend on the functions: a cycle.
  delivery_subscription_names = {
    for topic, t in local.topics : topic => "${topic}-to-${lower(t.consumer)}"
  }

  # Push requests must end in the topic's path: functions-framework reads the
  # CloudEvent source from it.
  push_endpoints = {
    for topic, t in local.topics : topic => "${google_cloudfunctions2_function.fn[t.push_function].service_config[0].uri}/projects/${var.project_id}/topics/${topic}"
    if t.push_function != null
  }
}

resource "google_pubsub_topic" "topic" {
  for_each = local.topics

  name = each.key

  # Lets a subscription seek back and replay a week of requests after an
  # incident.
  message_retention_duration = "604800s"

  labels = var.labels
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = local.topics

  name   = "${each.key}-dead-letter"
  labels = var.labels
}

resource "google_pubsub_subscription" "delivery" {
  for_each = local.topics

  name  = local.delivery_subscription_names[each.key]
  topic = google_pubsub_topic.topic[each.key].id

  # The longest Pub/Sub allows; the event-driven functions time out at 540 s,
  # before a push delivery would be considered lost.
  ack_deadline_seconds       = 600
  message_retention_duration = "604800s"

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.key].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  dynamic "push_config" {
    for_each = each.value.push_function == null ? [] : [each.value.push_function]
    content {
      push_endpoint = local.push_endpoints[each.key]
      oidc_token {
        service_account_email = google_service_account.pubsub_push.email
        audience              = google_cloudfunctions2_function.fn[push_config.value].service_config[0].uri
      }
    }
  }

  # Never expire for inactivity (the default is 31 days).
  expiration_policy {
    ttl = ""
  }

  labels = var.labels

  # Dead-lettering needs the Pub/Sub service agent's grants (iam.tf).
  depends_on = [
    google_pubsub_topic_iam_member.dead_letter_publisher,
  ]
}

resource "google_pubsub_subscription" "dead_letter" {
  for_each = local.topics

  name  = "${each.key}-dead-letter-drain"
  topic = google_pubsub_topic.dead_letter[each.key].id

  ack_deadline_seconds       = 60
  message_retention_duration = "2678400s" # 31 days, the Pub/Sub maximum

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  expiration_policy {
    ttl = ""
  }

  labels = var.labels
}
