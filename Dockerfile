# One container image holding every Lambda function binary of the workspace.
# Each Lambda function picks its binary with its image CMD override (its
# `command` in functions.yml); the default is `health`.
#
#   docker build -t rust-lambda-api .                          # x86_64 (linux/amd64)
#   docker buildx build --platform linux/arm64 -t rust-lambda-api:arm64 .   # Graviton
#   docker run -p 9000:8080 rust-lambda-api users              # then scripts/invoke-local
#
# Build args: RUST_IMAGE (builder) and BASE_IMAGE (final base) default to the
# public images and can point at local stand-ins (tests/image.sh does);
# `scripts/pin-images` pins the defaults to the digests their tags resolve to
# (`tag@sha256:...`), so a rebuild cannot silently pick up another base;
# RUST_TARGET overrides the target picked from TARGETARCH; GLIBC_VERSION is
# the glibc the binaries link against: they run on it or any newer one
# (Amazon Linux 2023 has 2.34).
# docs/container-image.md explains the choices.
ARG RUST_IMAGE=rust:1.95-bookworm
ARG BASE_IMAGE=public.ecr.aws/lambda/provided:al2023

# ---- build: runs on the build machine's platform and cross-compiles with
# cargo-lambda (zig links against glibc GLIBC_VERSION for either target) ----
FROM --platform=$BUILDPLATFORM ${RUST_IMAGE} AS build
ARG TARGETARCH
ARG RUST_TARGET=
ARG GLIBC_VERSION=2.17

# cargo-lambda (pinned and hashed in .ci/requirements-image.txt, zig comes
# with it from PyPI), and a C compiler for build scripts when the Rust image
# is a slim one.
COPY .ci/requirements-image.txt /tmp/requirements.txt
RUN set -eu; \
    need=""; \
    command -v cc >/dev/null 2>&1 || need="$need gcc libc6-dev"; \
    command -v cargo-lambda >/dev/null 2>&1 || command -v pip3 >/dev/null 2>&1 || need="$need python3-pip"; \
    if [ -n "$need" ]; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    if ! command -v cargo-lambda >/dev/null 2>&1; then \
      PIP_BREAK_SYSTEM_PACKAGES=1 pip3 install --no-cache-dir --disable-pip-version-check \
        --require-hashes -r /tmp/requirements.txt; \
    fi; \
    cargo lambda --version

COPY --chmod=0755 image/build-functions /usr/local/bin/build-functions
RUN build-functions --prepare

# The whole workspace (every member's manifest is needed to load it);
# .dockerignore keeps target/, node_modules/ and .git/ out.
WORKDIR /src
COPY . .
RUN --mount=type=cache,id=rust-lambda-api-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=rust-lambda-api-target,target=/src/target,sharing=locked \
    --mount=type=cache,id=rust-lambda-api-zig,target=/root/.cache,sharing=locked \
    build-functions /out/bin

# ---- the image: the AWS base for custom runtimes, plus the binaries and the
# bootstrap that picks one of them by the handler name (the CMD) ----
FROM ${BASE_IMAGE}
COPY --from=build /out/bin/ /var/task/bin/
COPY --chmod=0755 image/bootstrap /var/runtime/bootstrap
# No store setting here: the users function refuses to start without
# USERS_TABLE (set by serverless.yml), rather than quietly using SQLite.
CMD ["health"]
