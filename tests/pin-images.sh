#!/usr/bin/env bash
# scripts/pin-images against a real registry on 127.0.0.1 (Debian's
# docker-registry, storage in a temp dir), holding stand-ins for the
# Dockerfile's external images pushed with skopeo from OCI layouts built
# here: a single-platform image and a two-platform index. Each case runs the
# script on a copy of the repository's Dockerfile and checks the digests it
# writes against the digests of the manifests this suite made.
#
# Usage: tests/pin-images.sh   (from anywhere). Needs docker-registry,
# skopeo, curl, python3. A missing tool skips the suite (exit 77) unless
# CI=true, where it fails.
set -euo pipefail

# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
REGISTRY_PID=""
cleanup() {
  if [[ -n "$REGISTRY_PID" ]]; then
    kill "$REGISTRY_PID" 2>/dev/null || true
    wait "$REGISTRY_PID" 2>/dev/null || true
  fi
}

need docker-registry "apt-get install -y docker-registry"
need skopeo "apt-get install -y skopeo"
need curl "apt-get install -y curl"
need python3 "apt-get install -y python3"

# ---- the registry ----
PORT="$(free_port)"
REGISTRY="127.0.0.1:$PORT"
cat >"$WORK/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $WORK/registry
http:
  addr: $REGISTRY
EOF
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 100); do
  curl -sf "http://$REGISTRY/v2/" >/dev/null && break
  kill -0 "$REGISTRY_PID" 2>/dev/null || { cat "$WORK/registry.log"; echo "not ok - docker-registry exited"; exit 1; }
  sleep 0.1
done
curl -sf "http://$REGISTRY/v2/" >/dev/null || { echo "not ok - docker-registry did not answer"; exit 1; }

# ---- stand-in images, as OCI layouts ----
# blob DIR: store stdin as a blob of layout DIR; print "sha256:HEX SIZE".
blob() {
  local tmp="$1/tmp" hex
  cat >"$tmp"
  hex="$(sha256sum "$tmp" | cut -d' ' -f1)"
  mv "$tmp" "$1/blobs/sha256/$hex"
  echo "sha256:$hex $(stat -c %s "$1/blobs/sha256/$hex")"
}

# manifest DIR ARCH TEXT: a one-layer image manifest; print "DIGEST SIZE".
manifest() {
  local dir="$1" arch="$2" text="$3" layer diff_id config
  mkdir -p "$dir/files"
  printf '%s\n' "$text" >"$dir/files/standin"
  diff_id="$(tar -C "$dir/files" --mtime=@0 --owner=0 --group=0 -cf - standin | sha256sum | cut -d' ' -f1)"
  layer="$(tar -C "$dir/files" --mtime=@0 --owner=0 --group=0 -cf - standin | gzip -n | blob "$dir")"
  config="$(printf '{"architecture":"%s","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$arch" "$diff_id" | blob "$dir")"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
    "${config% *}" "${config#* }" "${layer% *}" "${layer#* }" | blob "$dir"
}

# standin NAME TEXT ARCH...: an OCI layout at $WORK/oci/NAME holding one
# image (one ARCH) or an index of one image per ARCH; print the digest of
# its top manifest, the one the registry will serve for the tag.
standin() {
  local name="$1" text="$2" dir="$WORK/oci/$1" top arch entry entries="" media
  shift 2
  rm -rf "$dir"
  mkdir -p "$dir/blobs/sha256"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
  if (($# == 1)); then
    top="$(manifest "$dir" "$1" "$text $1")"
    media=application/vnd.oci.image.manifest.v1+json
  else
    for arch in "$@"; do
      entry="$(manifest "$dir" "$arch" "$text $arch")"
      entries="${entries:+$entries,}$(printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"%s","os":"linux"}}' \
        "${entry% *}" "${entry#* }" "$arch")"
    done
    top="$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}' "$entries" | blob "$dir")"
    media=application/vnd.oci.image.index.v1+json
  fi
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"%s","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"standin"}}]}' \
    "$media" "${top% *}" "${top#* }" >"$dir/index.json"
  echo "${top% *}"
}

# push NAME REPO:TAG: copy layout NAME to the registry, digests unchanged.
push() {
  skopeo copy --all --preserve-digests --quiet --dest-tls-verify=false \
    "oci:$WORK/oci/$1:standin" "docker://$REGISTRY/$2" >/dev/null
}

# The registry path of an image reference: docker.io short names get
# library/, a first component with a dot, a colon or localhost is a registry.
registry_path() {
  local repository="${1%:*}" first
  first="${repository%%/*}"
  if [[ "$repository" == */* && ("$first" == *.* || "$first" == *:* || "$first" == localhost) ]]; then
    echo "${repository#*/}"
  elif [[ "$repository" == */* ]]; then
    echo "$repository"
  else
    echo "library/$repository"
  fi
}

# The Dockerfile's two external images, without any digest it may carry.
arg_default() { sed -n "s/^ARG $1=\([^[:space:]]*\).*/\1/p" Dockerfile | head -n 1 | sed 's/@.*//'; }
RUST_REF="$(arg_default RUST_IMAGE)"
BASE_REF="$(arg_default BASE_IMAGE)"
[[ -n "$RUST_REF" && -n "$BASE_REF" ]] || { echo "not ok - Dockerfile: RUST_IMAGE / BASE_IMAGE defaults not found"; exit 1; }
RUST_DIGEST="$(standin rust "builder stand-in" amd64)"
BASE_DIGEST="$(standin base "base stand-in" amd64 arm64)"
push rust "$(registry_path "$RUST_REF"):${RUST_REF##*:}"
push base "$(registry_path "$BASE_REF"):${BASE_REF##*:}"

export PIN_IMAGES_REGISTRY_MAP="docker.io=$REGISTRY,${BASE_REF%%/*}=$REGISTRY"
export PIN_IMAGES_TLS_VERIFY=false

pin() { scripts/pin-images --dockerfile "$WORK/Dockerfile"; }
fresh() { sed 's/^\(ARG [A-Z_]*_IMAGE=[^@[:space:]]*\)@sha256:[0-9a-f]*/\1/' Dockerfile >"$WORK/Dockerfile"; }
# The file apart from the two ARG lines.
rest() { grep -v '^ARG \(RUST\|BASE\)_IMAGE=' "$1"; }

case_pins() {
  fresh
  cp "$WORK/Dockerfile" "$WORK/before"
  pin
  grep -qx "ARG RUST_IMAGE=$RUST_REF@$RUST_DIGEST" "$WORK/Dockerfile" ||
    fail "RUST_IMAGE: $(grep '^ARG RUST_IMAGE=' "$WORK/Dockerfile"), expected $RUST_REF@$RUST_DIGEST"
  grep -qx "ARG BASE_IMAGE=$BASE_REF@$BASE_DIGEST" "$WORK/Dockerfile" ||
    fail "BASE_IMAGE: $(grep '^ARG BASE_IMAGE=' "$WORK/Dockerfile"), expected the index $BASE_REF@$BASE_DIGEST"
  diff <(rest "$WORK/before") <(rest "$WORK/Dockerfile") || fail "other lines changed"
  [[ "$(diff "$WORK/before" "$WORK/Dockerfile" | grep -c '^>')" == 2 ]] || fail "not exactly two lines changed"
}
run_case "pins both images to the digests the registry serves (a two-platform index stays whole), tags kept" case_pins

case_again() {
  fresh
  pin
  cp "$WORK/Dockerfile" "$WORK/once"
  pin
  cmp "$WORK/once" "$WORK/Dockerfile" || fail "a second run changed the file"
  # The tag moves: the pin follows, replacing the old digest.
  local moved
  moved="$(standin rust "builder stand-in, rebuilt" amd64)"
  [[ "$moved" != "$RUST_DIGEST" ]] || fail "the rebuilt stand-in has the same digest"
  push rust "$(registry_path "$RUST_REF"):${RUST_REF##*:}"
  pin
  grep -qx "ARG RUST_IMAGE=$RUST_REF@$moved" "$WORK/Dockerfile" ||
    fail "after the tag moved: $(grep '^ARG RUST_IMAGE=' "$WORK/Dockerfile"), expected $RUST_REF@$moved"
  grep -qx "ARG BASE_IMAGE=$BASE_REF@$BASE_DIGEST" "$WORK/Dockerfile" || fail "BASE_IMAGE changed"
}
run_case "a second run changes nothing; when the tag moves, the new digest replaces the old one" case_again

# expect_refusal WHY: pin-images fails, and the Dockerfile is left as it was.
expect_refusal() {
  cp "$WORK/Dockerfile" "$WORK/before"
  if pin >"$WORK/out" 2>&1; then
    cat "$WORK/out"
    fail "pin-images succeeded: $1"
  fi
  cmp -s "$WORK/before" "$WORK/Dockerfile" || fail "the Dockerfile changed: $1"
  ! grep -q '^ARG [A-Z_]*_IMAGE=.*@sha256:' "$WORK/Dockerfile" || fail "a digest was written: $1"
  grep -q '^error: ' "$WORK/out" || fail "no error message: $1"
}

case_refusals() {
  # An image the registry does not have (the other one resolves: still
  # nothing is written).
  fresh
  sed -i "s|^ARG BASE_IMAGE=.*|ARG BASE_IMAGE=${BASE_REF%:*}:no-such-tag|" "$WORK/Dockerfile"
  expect_refusal "a tag the registry lacks"
  # No registry at all.
  fresh
  PIN_IMAGES_REGISTRY_MAP="docker.io=127.0.0.1:$(free_port),${BASE_REF%%/*}=127.0.0.1:$(free_port)" \
    expect_refusal "an unreachable registry"
  # No tag: `latest` is refused, not guessed.
  fresh
  sed -i "s|^ARG BASE_IMAGE=.*|ARG BASE_IMAGE=${BASE_REF%:*}|" "$WORK/Dockerfile"
  expect_refusal "a reference without a tag"
}
run_case "refuses, writing nothing: a missing tag, an unreachable registry, a reference without a tag" case_refusals

summary
((FAILED == 0))
