# Terraform and provider requirements for the whole infinity-backup deployment.
# The configuration targets the google provider's 6.x-8.x lines (2nd-gen Cloud
# Functions, Cloud Run v2 jobs, Firestore TTL policies all exist there).

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 9.0"
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
