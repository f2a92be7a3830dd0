# syntax=docker/dockerfile:1.7
# CloudCommerce: one image, four binaries (command-api, query-api, projector, notifier).
#
# Why one image with a per-Deployment `command` rather than four images:
# - one build: the workspace compiles its shared crates (domain, store, kafka, platform) once;
# - identical code in every role: the migration Job, the writer, the projector, the reader and the
#   notifier of a release are provably the same commit, so an event written by command-api is
#   always read by a projector and a notifier that know its schema version, and the migration
#   that made the notifier's tables is the one it expects;
# - one scan, one SBOM, one digest to promote from staging to production and to roll back.
#
# Build:  docker build --build-arg OCI_REVISION="$(git rev-parse HEAD)" \
#           --build-arg OCI_VERSION=0.1.0 --build-arg OCI_SOURCE=https://github.com/ORG/REPO -t cloudcommerce .
# Run:    docker run --rm cloudcommerce                   # command-api serve
#         docker run --rm cloudcommerce query-api         # any of the four binaries, by name
#         docker run --rm cloudcommerce notifier run
#         docker run --rm cloudcommerce command-api migrate

ARG RUST_VERSION=1.95.0
ARG CARGO_CHEF_VERSION=0.1.78
ARG NODE_VERSION=20

# ---------------------------------------------------------------------------------------------
# docs-assets: the API reference renderer platform compiles into both APIs for /docs
# (platform/src/docs_page.rs), installed exactly as platform/docs-assets/package-lock.json pins it
# (integrity hashes included). Only the manifest and the lock file come in, so this layer is
# rebuilt when they change and not at every edit; node_modules never leaves the build.
# ---------------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS docs-assets
WORKDIR /assets
COPY platform/docs-assets/package.json platform/docs-assets/package-lock.json ./
# --ignore-scripts: the one install script among the dependencies would report the install over
# the network; nothing here needs it.
RUN npm ci --ignore-scripts --no-audit --no-fund

# ---------------------------------------------------------------------------------------------
# chef: the toolchain plus what librdkafka's build script (rdkafka-sys) needs to compile it from
# source: make, a C/C++ compiler, perl, pkg-config, zlib headers, and OpenSSL headers for the
# rdkafka `ssl` feature (SASL_SSL/SCRAM towards the production Kafka listener on 9093).
# The Debian versions are not pinned one by one: the base image tag already fixes the Debian
# release, and exact package versions disappear from the mirrors at every security update.
# ---------------------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-bookworm AS chef
ARG CARGO_CHEF_VERSION
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      make gcc g++ libc6-dev perl pkg-config zlib1g-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}"
WORKDIR /src

# planner: reduce the workspace to a recipe (manifests + lock file) so that the dependency layer
# below is rebuilt only when dependencies change, not at every edit of our own code.
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# builder: dependencies first (the cached layer), then our crates. The recipe's build scripts are
# empty stand-ins, so cooking needs no renderer; building platform does (its build script checks).
# distroless/cc ships glibc, libgcc, libstdc++, OpenSSL and CA certificates but not zlib, which
# librdkafka links for message compression: /out also gets the libz.so.1 the binaries were linked
# against, under the multiarch path the dynamic loader searches.
FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
# With OpenTelemetry span export built in (`otlp`): off until OTEL_EXPORTER_OTLP_ENDPOINT (or
# CC_OTLP__ENDPOINT) names a collector, see platform/src/otlp.rs.
ARG FEATURES=command-api/otlp,query-api/otlp,projector/otlp,notifier/otlp
RUN cargo chef cook --release --locked --recipe-path recipe.json \
      -p command-api -p query-api -p projector -p notifier --features "${FEATURES}"
COPY . .
COPY --from=docs-assets /assets/node_modules/swagger-ui-dist/swagger-ui-bundle.js \
     /assets/node_modules/swagger-ui-dist/swagger-ui.css \
     platform/docs-assets/node_modules/swagger-ui-dist/
RUN cargo build --release --locked -p command-api -p query-api -p projector -p notifier \
      --features "${FEATURES}" \
 && mkdir -p /out/usr/local/bin \
 && cp target/release/command-api target/release/query-api target/release/projector \
      target/release/notifier /out/usr/local/bin/ \
 && multiarch="$(gcc -print-multiarch)" \
 && mkdir -p "/out/usr/lib/${multiarch}" \
 && cp -L "/usr/lib/${multiarch}/libz.so.1" "/out/usr/lib/${multiarch}/libz.so.1"

# ---------------------------------------------------------------------------------------------
# runtime: distroless cc (Debian 12, same glibc 2.36 as the builder) in its `nonroot` flavour,
# uid/gid 65532. Chosen over debian:bookworm-slim because it has no shell, no package manager and
# no coreutils: nothing for an attacker to use and far fewer CVEs to triage. Consequences:
# - Kubernetes uses httpGet probes and the native `lifecycle.preStop.sleep` action (no `sh -c`);
# - there is no HEALTHCHECK: it would need a shell or curl; the orchestrator probes /health/*.
# Debug a running pod with `kubectl debug -it POD --image=busybox --target=CONTAINER`.
# ---------------------------------------------------------------------------------------------
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
# checkov:skip=CKV_DOCKER_2:No shell or curl in a distroless image; Kubernetes httpGet probes on /health/live and /health/ready do health checking.
ARG OCI_SOURCE=https://example.invalid/cloudcommerce
ARG OCI_REVISION=unknown
ARG OCI_VERSION=0.0.0-dev
LABEL org.opencontainers.image.title="cloudcommerce" \
      org.opencontainers.image.description="CloudCommerce event-sourced CQRS backend: command-api, query-api, projector, notifier" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${OCI_SOURCE}" \
      org.opencontainers.image.revision="${OCI_REVISION}" \
      org.opencontainers.image.version="${OCI_VERSION}"
COPY --from=builder /out/ /
ENV CC_LOG_FORMAT=json
USER 65532:65532
# 8080: HTTP of command-api and query-api; 9090: admin HTTP (/metrics, readiness) of all four.
EXPOSE 8080 9090
# No ENTRYPOINT: the binaries are on PATH and each Deployment/Job sets its own `command`
# (k8s/base/*), so `docker run IMAGE query-api` works too. The default is the write API.
CMD ["/usr/local/bin/command-api", "serve"]
