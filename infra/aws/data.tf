# Lookups of the account and region, and the zone layout every other file builds on.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# The zones are named, not "whatever is available": a zone AWS adds later must not reshuffle
# subnets, node groups or brokers. The lookup still fails the plan if a named zone is unavailable.
data "aws_availability_zones" "selected" {
  state = "available"

  filter {
    name   = "zone-name"
    values = [for suffix in var.availability_zone_suffixes : "${var.aws_region}${suffix}"]
  }
}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # Three zones: the prod overlay spreads pods hard across zones, and RDS Multi-AZ and the three
  # MSK brokers want one zone each.
  azs = sort(data.aws_availability_zones.selected.names)

  # A /18 per zone for nodes and pods (the VPC CNI gives pods VPC addresses) from the first three
  # quarters of the VPC; /24s for load balancers and for the data tier from the last quarter.
  private_subnets = { for i, az in local.azs : az => cidrsubnet(var.vpc_cidr, 2, i) }
  public_subnets  = { for i, az in local.azs : az => cidrsubnet(var.vpc_cidr, 8, 192 + i) }
  # The data subnets (RDS, MSK) share one /21 of their own (the /24s 200 to 207 of the VPC's
  # /16, three used), so one CIDR names them all: the pods' NetworkPolicy egress to the database
  # and the brokers targets it, not the whole VPC.
  data_block   = cidrsubnet(var.vpc_cidr, 5, 25)
  data_subnets = { for i, az in local.azs : az => cidrsubnet(local.data_block, 3, i) }

  cluster_name = var.name
  oidc_issuer  = aws_eks_cluster.main.identity[0].oidc[0].issuer
  # IAM condition keys name the issuer without its scheme.
  oidc_host = replace(local.oidc_issuer, "https://", "")
}
