# The GitHub App's private key and webhook secret, and the SMTP password of the
# notification mails (notifications.email.smtp.user). Terraform creates the
# secrets but never their values: versions are added with
# `gcloud secrets versions add` (docs/DEPLOY.md), so no credential ever lands
# in Terraform state. Who may read each secret is in iam.tf.

resource "google_secret_manager_secret" "github_app_private_key" {
  secret_id = "github-app-private-key"

  replication {
    auto {}
  }

  labels = var.labels
}

resource "google_secret_manager_secret" "github_webhook_secret" {
  secret_id = "github-webhook-secret"

  replication {
    auto {}
  }

  labels = var.labels
}

# SMTP_PASSWORD of the workloads that send notifications (cloud-env.ts part
# "notify"). Mounted whether or not config/backup-config.yaml has an SMTP
# login, so give it a version before the first apply ("none" without a login).
resource "google_secret_manager_secret" "smtp_password" {
  secret_id = "smtp-password"

  replication {
    auto {}
  }

  labels = var.labels
}
