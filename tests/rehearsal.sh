#!/usr/bin/env bash
# The deploy rehearsed end to end with the real tools, against servers on
# 127.0.0.1 that speak the AWS and registry protocols:
#   1. a local OCI registry (Debian's docker-registry) receives the image
#      (podman push --digestfile): the one tests/image.sh built, when it is
#      there, else a tiny stand-in built here (the output says which);
#   2. scripts/set-image-digest pins functions.yml to that digest;
#   3. moto's server (tests/rehearsal_moto.py: two fixes to its
#      CloudFormation, pinned to the moto version) gets the ECR repository and
#      the image record, with the registry's manifest and digest;
#   4. scripts/deploy runs `osls deploy` against it, and what was deployed is
#      read back and checked (tests/rehearsal_checks.py);
#   5. scripts/deploy -f users, and a full deploy of a second image, change
#      what they should; `osls remove` leaves the table.
# Everything runs in a copy of the deployment files, in a temporary
# directory; the repository is not modified.
#
# Usage: tests/rehearsal.sh   (from anywhere). Needs python3 with moto 5.2.1
# and boto3, node + osls (npm ci), docker-registry, podman, skopeo, curl.
# A missing tool skips the suite (exit 77) unless CI=true, where it fails.
set -euo pipefail

# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROOT="$PWD"
BUILT_IMAGE="localhost/rust-lambda-api:image-test" # tests/image.sh's tag
ACCOUNT=123456789012                               # moto's default account
REGION=eu-west-1
STAGE=rehearsal
PIDS=()

need python3 "apt-get install -y python3"
need node "apt-get install -y nodejs (Node.js 20.19+)"
need docker-registry "apt-get install -y docker-registry"
need podman "apt-get install -y podman"
need skopeo "apt-get install -y skopeo"
need curl "apt-get install -y curl"
python3 -c 'import boto3' 2>/dev/null || missing "boto3 is not installed" "pip install boto3"
python3 -c 'import moto.server' 2>/dev/null || missing "moto's server is not installed" "pip install 'moto[server]==5.2.1'"
[[ -x node_modules/.bin/osls ]] || missing "osls is not installed" "npm ci"

cleanup() {
  local pid
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  podman rmi -f "$STANDIN:one" "$IMAGE_TWO" >/dev/null 2>&1 || true
}
STANDIN="localhost/rust-lambda-api-rehearsal-$$"
IMAGE_TWO="$STANDIN:two"

# Each case needs the ones before it: the first failure stops the suite.
run_step() {
  run_case "$@"
  ((CASE_RC == 0)) && return 0
  echo "# the remaining cases need it: stopping"
  summary
  exit 1
}

# wait_http URL LOG: until URL answers (bounded), else show LOG and fail.
wait_http() {
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  tail -n 30 "$2"
  fail "$1 did not answer"
}

REGISTRY_PORT="$(free_port)"
MOTO_PORT="$(free_port)"
REGISTRY="127.0.0.1:$REGISTRY_PORT"
ECR_URI="$ACCOUNT.dkr.ecr.$REGION.amazonaws.com/rust-lambda-api"
REPO="$WORK/repo"

# The servers, and the settings every AWS client (osls, boto3) reads.
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export AWS_REGION="$REGION" AWS_DEFAULT_REGION="$REGION"
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE
export DEPLOY_ENV="$REPO/deploy.env"
export REHEARSAL_STAGE="$STAGE" REHEARSAL_REPO="$REPO"

case_servers() {
  mkdir -p "$WORK/registry"
  cat >"$WORK/registry.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $WORK/registry
http:
  addr: $REGISTRY
EOF
  docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
  PIDS+=($!)
  python3 tests/rehearsal_moto.py "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
  PIDS+=($!)
  wait_http "http://$REGISTRY/v2/" "$WORK/registry.log"
  wait_http "$AWS_ENDPOINT_URL/moto-api/" "$WORK/moto.log"
  echo "# registry on $REGISTRY, moto $(python3 -c 'import moto; print(moto.__version__)') on $AWS_ENDPOINT_URL"
}
# Started here, not in a subshell, so that cleanup can stop them.
case_servers >"$WORK/servers.log" 2>&1 || {
  echo "not ok - registry and moto servers start"
  sed 's/^/#   /' "$WORK/servers.log"
  FAILED=$((FAILED + 1))
  summary
  exit 1
}
echo "ok - registry and moto servers start"
grep '^# ' "$WORK/servers.log" || true
PASSED=$((PASSED + 1))

# The image to push: tests/image.sh's when it exists (scripts/test runs that
# suite first), else a stand-in. The second deploy's image is the first plus
# a label: another config, hence another digest.
case_images() {
  mkdir -p "$WORK/build"
  if podman image exists "$BUILT_IMAGE"; then
    IMAGE_ONE="$BUILT_IMAGE"
    echo "# pushing the image tests/image.sh built: $BUILT_IMAGE"
  else
    IMAGE_ONE="$STANDIN:one"
    printf 'a stand-in for the function image: no binaries\n' >"$WORK/build/STAND-IN"
    printf 'FROM scratch\nCOPY STAND-IN /\nCMD ["health"]\n' >"$WORK/build/Containerfile"
    podman build -q --pull=never -t "$IMAGE_ONE" -f "$WORK/build/Containerfile" "$WORK/build" >/dev/null
    echo "# no $BUILT_IMAGE (tests/image.sh did not run): pushing a stand-in image without binaries"
  fi
  printf 'FROM %s\nLABEL rehearsal=second-deploy\n' "$IMAGE_ONE" >"$WORK/build/Containerfile.two"
  podman build -q --pull=never -t "$IMAGE_TWO" -f "$WORK/build/Containerfile.two" "$WORK/build" >/dev/null
  echo "IMAGE_ONE=$IMAGE_ONE" >"$WORK/images.env"
}
run_step "images to push" case_images
# shellcheck source=/dev/null
source "$WORK/images.env"

# push IMAGE NAME: into the local registry; prints the digest podman wrote.
push() {
  timeout 120 podman push -q --tls-verify=false --digestfile "$WORK/$2.digest" "$1" "docker://$REGISTRY/rust-lambda-api:$2"
  local digest
  digest="$(cat "$WORK/$2.digest")"
  [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "digest file: '$digest'"
  # The registry serves the manifest under that digest, and it hashes to it.
  skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/rust-lambda-api@$digest" >"$WORK/$2.manifest"
  [[ "sha256:$(sha256sum <"$WORK/$2.manifest" | cut -d' ' -f1)" == "$digest" ]] ||
    fail "the manifest the registry serves does not hash to $digest"
  echo "# pushed $1 as $REGISTRY/rust-lambda-api@$digest"
}

case_push() {
  push "$IMAGE_ONE" one
  push "$IMAGE_TWO" two
  [[ "$(cat "$WORK/one.digest")" != "$(cat "$WORK/two.digest")" ]] || fail "both images have one digest"
}
run_step "podman push --digestfile into the local registry (docker-registry)" case_push
DIGEST_ONE="$(cat "$WORK/one.digest")"
DIGEST_TWO="$(cat "$WORK/two.digest")"

# The deployment files, as scripts/deploy and osls see them in a checkout.
case_copy() {
  mkdir -p "$REPO"
  cp -R serverless.yml serverless functions.yml scripts "$REPO"/
  ln -s "$ROOT/node_modules" "$REPO/node_modules"
  sed -e "s/^AWS_ACCOUNT_ID=.*/AWS_ACCOUNT_ID=$ACCOUNT/" -e "s/^AWS_REGION=.*/AWS_REGION=$REGION/" \
    -e "s/^STAGE=.*/STAGE=$STAGE/" deploy.env.example >"$REPO/deploy.env"
  grep -qx "AWS_ACCOUNT_ID=$ACCOUNT" "$REPO/deploy.env" || fail "deploy.env: no account"
  # Not the defaults, so that the checks see deploy.env reach the stack.
  cat >>"$REPO/deploy.env" <<EOF
CORS_ALLOW_ORIGINS=https://app.example,https://admin.example
AUTH_ISSUER=https://issuer.rehearsal.example/
AUTH_AUDIENCE=rehearsal-api
API_THROTTLE_RATE=25
API_THROTTLE_BURST=50
USERS_RESERVED_CONCURRENCY=7
ALARM_TOPIC_ARN=arn:aws:sns:$REGION:$ACCOUNT:rehearsal-alarms
EOF
}
run_step "a copy of the deployment files with a deploy.env for moto" case_copy

case_set_digest() {
  "$REPO/scripts/set-image-digest" --file "$REPO/functions.yml" "$ECR_URI" "$DIGEST_ONE"
  python3 tests/rehearsal_checks.py pinned "$REPO/functions.yml" "$ECR_URI@$DIGEST_ONE"
}
run_step "scripts/set-image-digest pins every function to the pushed digest" case_set_digest

case_ecr() {
  python3 tests/rehearsal_checks.py ecr rust-lambda-api "$DIGEST_ONE" "$WORK/one.manifest"
  python3 tests/rehearsal_checks.py ecr rust-lambda-api "$DIGEST_TWO" "$WORK/two.manifest"
  python3 tests/rehearsal_checks.py topic rehearsal-alarms
}
run_step "ECR repository and image records (registry manifests and digests), SNS topic in moto" case_ecr

# deploy ARGS...: scripts/deploy in the copy; its output is kept for failures.
deploy() {
  if ! timeout 150 "$REPO/scripts/deploy" "$@" >"$WORK/deploy.log" 2>&1; then
    tail -n 40 "$WORK/deploy.log"
    fail "scripts/deploy $* failed"
  fi
}

case_deploy() {
  deploy
  python3 tests/rehearsal_checks.py deployed "$ECR_URI@$DIGEST_ONE"
}
run_step "scripts/deploy (osls deploy) creates the stack; read back, it is what serverless.yml says" case_deploy

case_edge_bites() { python3 tests/rehearsal_checks.py edge-bites; }
run_step "the edge checks catch a wrong stage, gateway response or alarm" case_edge_bites

case_deploy_function() {
  python3 tests/rehearsal_checks.py snapshot "$WORK/before-f.json"
  "$REPO/scripts/set-image-digest" --file "$REPO/functions.yml" "$ECR_URI" "$DIGEST_TWO"
  deploy -f users
  python3 tests/rehearsal_checks.py function-updated "$WORK/before-f.json" users "$ECR_URI@$DIGEST_TWO"
}
run_step "scripts/deploy -f users points users, and only users, at a new image" case_deploy_function

case_redeploy() {
  python3 tests/rehearsal_checks.py snapshot "$WORK/before-full.json"
  deploy
  python3 tests/rehearsal_checks.py deployed "$ECR_URI@$DIGEST_TWO"
  python3 tests/rehearsal_checks.py redeployed "$WORK/before-full.json"
}
run_step "a second full deploy with the new digest updates every function, in place" case_redeploy

case_remove() {
  if ! (cd "$REPO" && timeout 150 node_modules/.bin/osls remove --stage "$STAGE") >"$WORK/remove.log" 2>&1; then
    tail -n 40 "$WORK/remove.log"
    fail "osls remove failed"
  fi
  python3 tests/rehearsal_checks.py removed
}
run_step "osls remove deletes the stack and leaves the users table (Retain)" case_remove

summary
((FAILED == 0))
