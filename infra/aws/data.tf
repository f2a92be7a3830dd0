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
  data_subnets    = { for i, az in local.azs : az => cidrsubnet(var.vpc_cidr, 8, 200 + i) }

  cluster_name = var.name
  oidc_issuer  = aws_eks_cluster.main.identity[0].oidc[0].issuer
  # IAM condition keys name the issuer without its scheme.
  oidc_host = replace(local.oidc_issuer, "https://", "")
}
