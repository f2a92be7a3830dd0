# Tool and provider versions, the provider's settings, and the remote state backend.

terraform {
  required_version = ">= 1.9"

  required_providers {
    # 4.46 is the first 4.x that accepts PostgreSQL version "17"; 4.65 the first with
    # user_assigned_identity_id on federated credentials (parent_id goes away in 5.0).
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.65"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # Partial configuration: the values come at init time, so no account name lives here, e.g.
  #   tofu init -backend-config="resource_group_name=tfstate" \
  #     -backend-config="storage_account_name=cctfstate" -backend-config="container_name=tfstate" \
  #     -backend-config="key=cloudcommerce/azure.tfstate" -backend-config="use_azuread_auth=true"
  # The state holds the generated database passwords: keep it in an encrypted, access-controlled
  # storage account (Azure Storage encrypts at rest; with OpenTofu add state encryption too).
  backend "azurerm" {}
}

provider "azurerm" {
  # Null falls back to ARM_SUBSCRIPTION_ID, which azurerm 4.x otherwise requires.
  subscription_id = var.subscription_id

  features {
    key_vault {
      # Purge protection is on, so a purge would fail anyway; a vault deleted by mistake is
      # recovered rather than recreated under a new name.
      purge_soft_delete_on_destroy    = false
      recover_soft_deleted_key_vaults = true
      recover_soft_deleted_secrets    = true
    }
    resource_group {
      prevent_deletion_if_contains_resources = true
    }
  }
}
