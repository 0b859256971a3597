# Terraform and provider requirements for the whole infinity-backup deployment.
#
# One major version of each provider, the one this configuration was checked against
# (google 7.x: its schema and docs up to 7.45). A new major version renames and removes
# arguments, so moving to it is a deliberate change: read its upgrade guide, run a plan,
# widen the range here. The exact versions in use are pinned, with their checksums, by
# .terraform.lock.hcl, which the first `terraform init` writes and which is committed
# (docs/DEPLOY.md, "Provider lock file").

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.0"
    }
    # time_sleep: waits for IAM grants and log-based metrics to propagate (iam.tf,
    # monitoring.tf).
    time = {
      source  = "hashicorp/time"
      version = "~> 0.13"
    }
  }

  # Keep the state in a bucket of its own (created once by hand, see
  # docs/DEPLOY.md), never in the archive bucket:
  #
  # backend "gcs" {
  #   bucket = "PROJECT_ID-tfstate"
  #   prefix = "infinity-backup"
  # }
}

provider "google" {
  project        = var.project_id
  region         = var.region
  default_labels = var.labels
}

data "google_project" "this" {
  project_id = var.project_id
}
