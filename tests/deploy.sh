#!/usr/bin/env bash
# Offline checks of the deployment files: serverless.yml + functions.yml are
# packaged by the pinned osls with no credentials and no network, the
# generated CloudFormation is inspected and linted, and scripts/* are run
# against stub docker/aws/osls commands in a temporary copy of the repo.
#
# Usage: tests/deploy.sh   (from anywhere; needs node + npm, python3,
# cfn-lint, shellcheck). A missing tool skips the suite (exit 77) unless
# CI=true, where it fails. Runs `scripts/setup node` if osls is missing.
# The template assertions are tests/deploy_template.py.
set -euo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROOT="$PWD"
export ROOT
FAKE_DIGEST="sha256:$(printf '0123456789abcdef%.0s' 1 2 3 4)"
FAKE_REPO="210987654321.dkr.ecr.eu-central-1.amazonaws.com/team/api"

need python3
need node
need npm
need cfn-lint
need shellcheck
# PyYAML (a cfn-lint dependency) reads serverless.yml the way the Rust tests do.
python3 -c 'import yaml' 2>/dev/null || missing "python3 cannot import yaml (PyYAML)" "scripts/setup python"
if [[ ! -x node_modules/.bin/osls ]]; then
  echo "# node_modules/.bin/osls missing: running scripts/setup node"
  scripts/setup node >"$WORK/npm-ci.log" 2>&1 || sed 's/^/#   /' "$WORK/npm-ci.log"
fi
need osls
OSLS="$ROOT/node_modules/.bin/osls"

# Prove "no network" where we may create a network namespace; the machine
# has no route to AWS anyway, so this only makes the point explicit.
NONET=()
if unshare -n true 2>/dev/null; then NONET=(unshare -n); fi
echo "# osls runs with no AWS credentials${NONET[*]:+ and no network (unshare -n)}"

# copy_repo DIR: the files the deployment uses, so the real ones stay untouched.
copy_repo() {
  mkdir -p "$1"
  cp -R serverless.yml serverless functions.yml deploy.env.example scripts "$1"/
}

# osls_offline DIR [VAR=value...] ARGS...: run the pinned osls in DIR with no
# credentials, no AWS config and none of the deploy.env variables from the
# caller's shell (only the VAR=value given here).
osls_offline() {
  local dir="$1" vars=()
  shift
  while [[ "${1:-}" == [A-Z]*=* ]]; do vars+=("$1"); shift; done
  (cd "$dir" && env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
    -u AWS_SESSION_TOKEN -u AWS_REGION -u AWS_DEFAULT_REGION -u ARCH -u CORS_ALLOW_ORIGINS \
    -u AUTH_ISSUER -u AUTH_AUDIENCE \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null "${vars[@]}" \
    "${NONET[@]}" "$OSLS" "$@")
}

# check_template TEMPLATE CHECK [ARGS]: assertions on the generated template.
check_template() { python3 tests/deploy_template.py check "$@"; }

# --- stubs for the commands the scripts drive -------------------------------
make_stubs() {
  mkdir -p "$WORK/bin"
  cat >"$WORK/bin/docker" <<'EOF'
#!/usr/bin/env bash
echo "docker $*" >>"$STUB_LOG"
case "$1" in
  login) cat >/dev/null ;;
  push)
    echo "The push refers to repository [${2%:*}]"
    echo "5f70bf18a086: Pushed"
    echo "${2##*:}: digest: $STUB_DIGEST size: 2413" ;;
esac
EOF
  cat >"$WORK/bin/aws" <<'EOF'
#!/usr/bin/env bash
echo "aws $*" >>"$STUB_LOG"
case "$1 $2" in
  "sts get-caller-identity") echo "$STUB_ACCOUNT" ;;
  "ecr describe-repositories")
    [[ -n "${STUB_REPO_EXISTS:-}" ]] && exit 0
    echo "An error occurred (RepositoryNotFoundException) when calling the DescribeRepositories operation" >&2
    exit 254 ;;
  "ecr get-login-password") echo stub-password ;;
esac
EOF
  chmod +x "$WORK/bin/docker" "$WORK/bin/aws"
}

# stub_repo DIR: repo copy with deploy.env, a Dockerfile and a stub osls.
stub_repo() {
  copy_repo "$1"
  touch "$1/Dockerfile"
  mkdir -p "$1/node_modules/.bin"
  cat >"$1/node_modules/.bin/osls" <<'EOF'
#!/usr/bin/env bash
echo "osls $*" >>"$STUB_LOG"
EOF
  chmod +x "$1/node_modules/.bin/osls"
  sed -e 's/^AWS_ACCOUNT_ID=.*/AWS_ACCOUNT_ID=210987654321/' \
    -e 's/^AWS_REGION=.*/AWS_REGION=eu-central-1/' \
    -e 's#^ECR_REPOSITORY=.*#ECR_REPOSITORY=team/api#' \
    -e 's/^ARCH=.*/ARCH=arm64/' -e 's/^# RUST_IMAGE=.*/RUST_IMAGE=rust:1-slim/' \
    -e 's#^AUTH_ISSUER=.*#AUTH_ISSUER=https://issuer.example/#' -e 's/^AUTH_AUDIENCE=.*/AUTH_AUDIENCE=api/' \
    "$1/deploy.env.example" >"$1/deploy.env"
}

with_stubs() {
  env -u DEPLOY_ENV -u FUNCTIONS_FILE -u AWS_PROFILE -u STAGE -u ARCH -u RUST_IMAGE -u BASE_IMAGE \
    -u AUTH_ISSUER -u AUTH_AUDIENCE \
    PATH="$WORK/bin:$PATH" STUB_LOG="$WORK/stub.log" STUB_DIGEST="$FAKE_DIGEST" STUB_ACCOUNT=210987654321 "$@"
}

make_stubs

# --- cases --------------------------------------------------------------------
PKG="$WORK/pkg"
TPL="$PKG/.serverless/cloudformation-template-update-stack.json"
image_uris() { sed -nE 's/^[[:space:]]*uri:[[:space:]]*([^[:space:]]+).*/\1/p' "$1" | sort -u; }

case_shellcheck() {
  local files=(tests/deploy.sh tests/lib.sh) f
  for f in scripts/*; do
    if [[ "$f" == *.sh ]] || head -n 1 "$f" | grep -qE '^#!.*\b(ba|da|k)?sh\b'; then files+=("$f"); fi
  done
  echo "shellcheck ${files[*]}"
  shellcheck -x "${files[@]}"
}

case_help() {
  local s out
  for s in ecr-login build-push set-image-digest deploy; do
    out="$(scripts/$s --help)"
    [[ "$out" == "Usage: scripts/$s"* ]] || fail "$s --help: $out"
  done
}

case_config_errors() {
  copy_repo "$WORK/cfg"
  expect_fail 'deploy\.env\.example' env DEPLOY_ENV="$WORK/none.env" "$WORK/cfg/scripts/deploy"
  cp "$WORK/cfg/deploy.env.example" "$WORK/cfg/deploy.env"
  expect_fail 'AWS_ACCOUNT_ID is not set' env -u DEPLOY_ENV "$WORK/cfg/scripts/deploy"
  sed -i 's/^AWS_ACCOUNT_ID=.*/AWS_ACCOUNT_ID=123456789012/; s/^ARCH=.*/ARCH=amd64/' "$WORK/cfg/deploy.env"
  expect_fail 'ARCH must be x86_64 or arm64' env -u DEPLOY_ENV "$WORK/cfg/scripts/deploy"
  expect_fail "'no-such-tool-xyz' not found on PATH; try apt" \
    bash -c 'source scripts/lib.sh; require_cmd no-such-tool-xyz "try apt"'
}

case_package() {
  copy_repo "$PKG"
  osls_offline "$PKG" package --stage dev
  [[ -s "$TPL" ]] || fail "no $TPL"
}

case_images() { check_template "$TPL" images "$(image_uris functions.yml)" x86_64; }
case_routes() { check_template "$TPL" routes; }
case_cors() { check_template "$TPL" cors; }
case_environment() {
  check_template "$TPL" environment
  check_template "$TPL" name-prefix rust-lambda-api-dev-
}

case_auth() { check_template "$TPL" auth; }

case_table() { check_template "$TPL" table rust-lambda-api-dev-users "$PKG/serverless.yml"; }
case_iam() { check_template "$TPL" iam rust-lambda-api-dev-eu-west-1-usersRole; }

# mutate TEMPLATE MUTATION: print the path of a copy of TEMPLATE with one
# deliberate mistake, to show that the checks above catch it.
mutate() {
  local out="$WORK/mutant-$2.json"
  python3 tests/deploy_template.py mutate "$1" "$2" "$out"
  echo "$out"
}

case_checks_bite() {
  local m dir="$WORK/widened"
  python3 -m unittest --quiet tests/test_deploy_template.py
  for m in scan missing-action ddb-star resource-star index-arn default-role managed-policy \
    not-action health-role; do
    expect_fail 'FAIL: ' check_template "$(mutate "$TPL" "$m")" iam rust-lambda-api-dev-eu-west-1-usersRole
  done
  expect_fail 'FAIL: health: environment' check_template "$(mutate "$TPL" health-env)" environment
  expect_fail 'public, but AuthorizationType CUSTOM' check_template "$(mutate "$TPL" public-custom)" auth
  expect_fail 'protected, but AuthorizationType NONE' check_template "$(mutate "$TPL" protected-none)" auth
  expect_fail 'authorizer permission' check_template "$(mutate "$TPL" authorizer-anyone)" auth
  expect_fail 'grants more than logs' check_template "$(mutate "$TPL" authorizer-role)" auth
  for m in provisioned key-swap gsi no-pitr no-retain; do
    expect_fail 'FAIL: UsersTable' check_template "$(mutate "$TPL" "$m")" table \
      rust-lambda-api-dev-users "$PKG/serverless.yml"
  done
  # In the source: the key schema behind a variable (the Rust tests could not
  # read it), and a DynamoDB statement under provider.iam, which osls puts in
  # the role every other function shares.
  copy_repo "$dir"
  # shellcheck disable=SC2016 # a literal ${...} for osls, not for bash
  sed -i 's/^\( *AttributeType:\) S$/\1 ${self:custom.keyType, "S"}/' "$dir/serverless.yml"
  grep -q 'custom.keyType' "$dir/serverless.yml"
  expect_fail 'FAIL: serverless.yml UsersTable AttributeDefinitions' \
    check_template "$TPL" table rust-lambda-api-dev-users "$dir/serverless.yml"
  cp serverless.yml "$dir/serverless.yml"
  sed -i 's/^  tracing:$/  iam:\n    role:\n      statements:\n        - Effect: Allow\n          Action: [dynamodb:GetItem]\n          Resource:\n            Fn::GetAtt: [UsersTable, Arn]\n&/' \
    "$dir/serverless.yml"
  grep -q 'Action: \[dynamodb:GetItem\]' "$dir/serverless.yml"
  osls_offline "$dir" package --stage dev
  expect_fail "roles with DynamoDB permissions: \['IamRoleLambdaExecution', 'UsersRole'\]" \
    check_template "$dir/.serverless/cloudformation-template-update-stack.json" iam \
    rust-lambda-api-dev-eu-west-1-usersRole
}

# check_state DIR REGION: resolved provider settings osls saved while packaging.
check_state() { python3 tests/deploy_template.py state "$1/.serverless/serverless-state.json" "$2"; }

case_metrics() { check_state "$PKG" eu-west-1; }

case_cfn_lint() {
  cfn-lint "$PKG/.serverless/cloudformation-template-update-stack.json" \
    "$PKG/.serverless/cloudformation-template-create-stack.json"
}

case_arch_stage() {
  local dir="$WORK/arm"
  copy_repo "$dir"
  osls_offline "$dir" ARCH=arm64 AWS_REGION=eu-central-1 package --stage prod
  check_state "$dir" eu-central-1
  check_template "$dir/.serverless/cloudformation-template-update-stack.json" images \
    "$(image_uris functions.yml)" arm64
  check_template "$dir/.serverless/cloudformation-template-update-stack.json" name-prefix \
    rust-lambda-api-prod-
  check_template "$dir/.serverless/cloudformation-template-update-stack.json" table \
    rust-lambda-api-prod-users "$dir/serverless.yml"
  check_template "$dir/.serverless/cloudformation-template-update-stack.json" iam \
    rust-lambda-api-prod-eu-central-1-usersRole
}

case_typo_method() {
  local dir="$WORK/typo1"
  copy_repo "$dir"
  sed -i '0,/method: get/s//methd: get/' "$dir/functions.yml"
  grep -q 'methd: get' "$dir/functions.yml"
  expect_fail "unrecognized property 'methd'" osls_offline "$dir" package --stage dev
}

case_typo_optional_key() {
  local dir="$WORK/typo2"
  copy_repo "$dir"
  sed -i 's/^  memorySize:/  memorySiz:/' "$dir/serverless.yml"
  expect_fail "unrecognized property 'memorySiz'" osls_offline "$dir" package --stage dev
  # Control: the very same typo only warns once validation is relaxed, so it
  # is configValidationMode: error that stops the build.
  sed -i 's/^configValidationMode: error/configValidationMode: warn/' "$dir/serverless.yml"
  osls_offline "$dir" package --stage dev
}

case_digest_from_push_output() {
  local dir="$WORK/digest"
  copy_repo "$dir"
  printf '%s\n' "The push refers to repository [$FAKE_REPO]" "a1b2c3: Pushed" \
    "v42: digest: $FAKE_DIGEST size: 2413" >"$WORK/push.txt"
  FUNCTIONS_FILE="$dir/functions.yml" "$dir/scripts/set-image-digest" "$FAKE_REPO" <"$WORK/push.txt"
  [[ "$(image_uris "$dir/functions.yml")" == "$FAKE_REPO@$FAKE_DIGEST" ]] ||
    fail "uris: $(image_uris "$dir/functions.yml")"
  [[ "$(grep -c "uri: $FAKE_REPO@$FAKE_DIGEST" "$dir/functions.yml")" == "$(grep -c '^  [a-z][a-z0-9_-]*:$' "$dir/functions.yml")" ]] ||
    fail "not every function"
  diff <(grep -v 'uri:' functions.yml) <(grep -v 'uri:' "$dir/functions.yml") || fail "other lines changed"
  # The rewritten file still packages, with the new image on every function.
  osls_offline "$dir" AWS_REGION=eu-central-1 package --stage dev
  check_template "$dir/.serverless/cloudformation-template-update-stack.json" images \
    "$FAKE_REPO@$FAKE_DIGEST" x86_64
}

case_digest_argument_and_file_option() {
  local f="$WORK/functions-copy.yml" d2
  d2="sha256:$(printf 'f%.0s' {1..64})"
  cp functions.yml "$f"
  scripts/set-image-digest --file "$f" "$FAKE_REPO" "$d2"
  [[ "$(image_uris "$f")" == "$FAKE_REPO@$d2" ]] || fail "not rewritten"
  scripts/set-image-digest --file "$f" "$FAKE_REPO" "$d2" # idempotent
  [[ "$(image_uris "$f")" == "$FAKE_REPO@$d2" ]] || fail "second run changed it"
}

case_digest_rejects_bad_input() {
  local f="$WORK/functions-bad.yml"
  cp functions.yml "$f"
  expect_fail 'digest must be sha256:' scripts/set-image-digest --file "$f" "$FAKE_REPO" sha256:abc
  expect_fail 'digest must be sha256:' scripts/set-image-digest --file "$f" "$FAKE_REPO" \
    "sha256:$(printf 'A%.0s' {1..64})"
  expect_fail 'no .digest: sha256' scripts/set-image-digest --file "$f" "$FAKE_REPO" \
    <<<"error: denied: requested access to the resource is denied"
  expect_fail 'not an ECR repository URI' scripts/set-image-digest --file "$f" \
    "$FAKE_REPO:latest" "$FAKE_DIGEST"
  cmp "$f" functions.yml || fail "a rejected call modified the file"
  # One function whose image is not an ECR uri: refuse rather than half-update.
  sed -i '0,/uri: .*/s//uri: not-an-ecr-image/' "$f"
  cp "$f" "$f.before"
  expect_fail 'left unchanged' scripts/set-image-digest --file "$f" "$FAKE_REPO" "$FAKE_DIGEST"
  cmp "$f" "$f.before" || fail "file was modified"
}

case_build_push_stubbed() {
  local dir="$WORK/bp"
  stub_repo "$dir"
  : >"$WORK/stub.log"
  with_stubs "$dir/scripts/build-push" --tag v7
  cat "$WORK/stub.log"
  local img="210987654321.dkr.ecr.eu-central-1.amazonaws.com/team/api"
  grep -qE -- "^docker buildx build --platform linux/arm64 --provenance=false .*--build-arg RUST_IMAGE=rust:1-slim .*-t $img:v7 -f $dir/Dockerfile $dir\$" \
    "$WORK/stub.log" || fail "docker build command"
  grep -q "^docker push $img:v7\$" "$WORK/stub.log" || fail "docker push command"
  grep -q -- "--build-arg BASE_IMAGE" "$WORK/stub.log" && fail "empty BASE_IMAGE was passed"
  [[ "$(image_uris "$dir/functions.yml")" == "$img@$FAKE_DIGEST" ]] ||
    fail "functions.yml: $(image_uris "$dir/functions.yml")"
}

case_ecr_login_stubbed() {
  local dir="$WORK/ecr"
  stub_repo "$dir"
  : >"$WORK/stub.log"
  with_stubs "$dir/scripts/ecr-login"
  grep -q '^aws ecr create-repository --region eu-central-1 --repository-name team/api' "$WORK/stub.log" ||
    fail "repository not created"
  grep -q '^docker login --username AWS --password-stdin 210987654321.dkr.ecr.eu-central-1.amazonaws.com$' \
    "$WORK/stub.log" || fail "no docker login"
  : >"$WORK/stub.log"
  with_stubs env STUB_REPO_EXISTS=1 "$dir/scripts/ecr-login"
  grep -q 'create-repository' "$WORK/stub.log" && fail "re-created an existing repository"
  expect_fail 'credentials are for account 999999999999' \
    with_stubs env STUB_ACCOUNT=999999999999 "$dir/scripts/ecr-login"
}

case_deploy_stubbed() {
  local dir="$WORK/dep"
  stub_repo "$dir"
  : >"$WORK/stub.log"
  expect_fail 'placeholder digest' with_stubs "$dir/scripts/deploy"
  with_stubs "$dir/scripts/set-image-digest" --file "$dir/functions.yml" \
    111111111111.dkr.ecr.eu-central-1.amazonaws.com/other "$FAKE_DIGEST"
  expect_fail 'images outside 210987654321.dkr.ecr.eu-central-1.amazonaws.com/team/api' \
    with_stubs "$dir/scripts/deploy"
  [[ ! -s "$WORK/stub.log" ]] || fail "osls ran despite a bad functions.yml"
  with_stubs "$dir/scripts/set-image-digest" --file "$dir/functions.yml" \
    210987654321.dkr.ecr.eu-central-1.amazonaws.com/team/api "$FAKE_DIGEST"
  # Fail closed: no issuer, no deploy (of the stack or of one function).
  cp "$dir/deploy.env" "$dir/deploy.env.full"
  sed -i 's/^AUTH_ISSUER=.*/AUTH_ISSUER=/' "$dir/deploy.env"
  expect_fail 'AUTH_ISSUER is not set' with_stubs "$dir/scripts/deploy"
  expect_fail 'AUTH_ISSUER is not set' with_stubs "$dir/scripts/deploy" -f users
  sed -i 's#^AUTH_ISSUER=.*#AUTH_ISSUER=http://issuer.example#' "$dir/deploy.env"
  expect_fail "AUTH_ISSUER must be the issuer's https URL" with_stubs "$dir/scripts/deploy"
  cp "$dir/deploy.env.full" "$dir/deploy.env"
  sed -i 's/^AUTH_AUDIENCE=.*/AUTH_AUDIENCE=/' "$dir/deploy.env"
  expect_fail 'AUTH_AUDIENCE is not set' with_stubs "$dir/scripts/deploy"
  cp "$dir/deploy.env.full" "$dir/deploy.env"
  [[ ! -s "$WORK/stub.log" ]] || fail "osls ran without the issuer settings"
  with_stubs "$dir/scripts/deploy"
  with_stubs "$dir/scripts/deploy" --stage prod -- --verbose
  with_stubs "$dir/scripts/deploy" -f users
  cat "$WORK/stub.log"
  diff <(printf '%s\n' "osls deploy --stage dev" "osls deploy --stage prod --verbose" \
    "osls deploy function -f users --stage dev") "$WORK/stub.log"
}

SNAPSHOT="$(cat serverless.yml functions.yml | cksum)"
case_untouched() { [[ "$(cat serverless.yml functions.yml | cksum)" == "$SNAPSHOT" ]]; }

run_case "shellcheck passes on every script" case_shellcheck
run_case "every script answers --help" case_help
run_case "scripts fail clearly on missing or bad settings" case_config_errors
run_case "osls package --stage dev works offline without credentials" case_package
run_case "template: each function is an image with its own command" case_images
run_case "template: API Gateway REST method for every route and an ANY per path (the function's 405), nothing else" case_routes
run_case "template: OPTIONS method (CORS) on every path" case_cors
run_case "template: function environment (USERS_TABLE on users only) and names" case_environment
run_case "template: protected methods CUSTOM (TOKEN authorizer), public NONE; authorizer invoked by API Gateway only, logs-only role" case_auth
run_case "template: UsersTable on demand, pk HASH + sk RANGE as in serverless.yml, retained" case_table
run_case "template: only users' role has DynamoDB, exactly its 5 actions on the table ARN" case_iam
run_case "the table, IAM, environment and auth checks catch a broken or widened template" case_checks_bite
run_case "config: Lambda tracing, stage left to CloudFormation, default region" case_metrics
run_case "cfn-lint passes on the generated templates" case_cfn_lint
run_case "ARCH, AWS_REGION and --stage from the environment reach the template" case_arch_stage
run_case "typo 'methd:' makes osls package fail" case_typo_method
run_case "configValidationMode error: optional-key typo fails, passes under warn" case_typo_optional_key
run_case "set-image-digest: fake docker push output rewrites every function" case_digest_from_push_output
run_case "set-image-digest: explicit digest, --file, idempotent" case_digest_argument_and_file_option
run_case "set-image-digest: rejects bad digests and leaves the file alone" case_digest_rejects_bad_input
run_case "build-push: platform, build args, push, digest written (stub docker)" case_build_push_stubbed
run_case "ecr-login: creates repo only when missing, logs in (stub aws)" case_ecr_login_stubbed
run_case "deploy: refuses unpinned images and missing AUTH_*, runs osls deploy (stub osls)" case_deploy_stubbed
run_case "the real serverless.yml and functions.yml were not modified" case_untouched

summary
((FAILED == 0))
