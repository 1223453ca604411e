# A Temporal Cloud namespace for the journeys, with the search attributes and retention
# `npm run setup-temporal` checks. The list mirrors searchAttributes in workflows/definitions.ts
# (test/unit/cloudPlan.test.ts fails when they differ). Provider docs:
# https://registry.terraform.io/providers/temporalio/temporalcloud/latest/docs
terraform {
  required_providers {
    temporalcloud = {
      source = "temporalio/temporalcloud"
    }
  }
}

# Reads TEMPORAL_CLOUD_API_KEY from the environment.
provider "temporalcloud" {}

variable "namespace_name" {
  description = "The namespace name, without the account suffix"
  type        = string
}

variable "region" {
  description = "e.g. aws-us-east-1 (https://docs.temporal.io/cloud/regions)"
  type        = string
}

variable "retention_days" {
  description = "At least TEMPORAL_RETENTION_DAYS (30 by default)"
  type        = number
  default     = 30
}

locals {
  search_attributes = {
    BeginiStage           = "keyword"
    BeginiDecision        = "keyword"
    BeginiRiskBand        = "keyword"
    BeginiScoreConfidence = "keyword"
    BeginiPlatform        = "keyword"
    BeginiIntegrationId   = "keyword"
    BeginiLastEventType   = "keyword"
    BeginiHandoff         = "keyword"
    BeginiFlags           = "keyword_list"
    BeginiReviewSince     = "datetime"
    BeginiPolicyArm       = "keyword"
  }
}

resource "temporalcloud_namespace" "journeys" {
  name           = var.namespace_name
  regions        = [var.region]
  api_key_auth   = true
  retention_days = var.retention_days
}

resource "temporalcloud_namespace_search_attribute" "journey" {
  for_each     = local.search_attributes
  namespace_id = temporalcloud_namespace.journeys.id
  name         = each.key
  type         = each.value
}

# TEMPORAL_NAMESPACE for the receivers, workers and setup-temporal.
output "namespace_id" {
  value = temporalcloud_namespace.journeys.id
}
