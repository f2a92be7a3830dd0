# CloudCommerce developer entry point. Two commands set everything up on a fresh machine:
#   make up     the whole stack on loopback with demo data (.dev/stack.env lists the URLs)
#   make test   fmt, clippy, every test against real PostgreSQL and Kafka-protocol broker, static checks
#   make bench  every benchmark scenario beside its ceiling (bench-quick: a few minutes)
.PHONY: up down test bench bench-quick static-checks fmt

up:
	@bash ci/stack/up.sh

down:
	@bash ci/stack/down.sh

test:
	@bash ci/test.sh

bench:
	@bash ci/bench.sh

bench-quick:
	@bash ci/bench.sh --quick

static-checks:
	@bash ci/static-checks.sh

fmt:
	@cargo fmt --all
