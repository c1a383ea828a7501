# shellcheck shell=bash
# Shared helpers for scripts/*: source it, do not run it.
#   step MSG          announce a step
#   die MSG           print an error and exit 1
#   require_cmd CMD HINT   die unless CMD is on PATH (HINT says how to install it)
#   load_config       read deploy.env (or $DEPLOY_ENV) and derive the image settings
#   run_osls ARGS     run the osls pinned in package.json from the repo root
#   use_tools         put the project's tools (.venv/bin, node_modules/.bin) first on PATH
#   install_hint CMD  print the command that installs CMD (see SYSTEM_TOOLS)

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUNCTIONS_FILE="${FUNCTIONS_FILE:-$ROOT_DIR/functions.yml}"

# The Debian package of each command the tests use, as command:package
# (scripts/setup installs them; install_hint names them in skip messages).
SYSTEM_TOOLS=(
  shellcheck:shellcheck curl:curl chromium:chromium
  podman:podman buildah:buildah runc:runc debootstrap:debootstrap
  objdump:binutils readelf:binutils docker-registry:docker-registry skopeo:skopeo
  node:nodejs npm:npm
)
# The Python tools (.ci/requirements.txt, hashed) live in this venv.
VENV_DIR="$ROOT_DIR/.venv"

use_tools() {
  PATH="$VENV_DIR/bin:$ROOT_DIR/node_modules/.bin:$PATH"
  export PATH
}

install_hint() {
  local entry sudo=""
  [[ "$(id -u)" == 0 ]] || sudo="sudo "
  for entry in "${SYSTEM_TOOLS[@]}"; do
    if [[ "${entry%%:*}" == "$1" ]]; then
      echo "${sudo}apt-get install -y --no-install-recommends ${entry#*:}"
      return 0
    fi
  done
  case "$1" in
    osls) echo "scripts/setup node" ;;
    *) echo "scripts/setup python" ;;
  esac
}

step() { printf '==> %s\n' "$*" >&2; }

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

require_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH; $2"
}

require_var() {
  local name
  for name in "$@"; do
    [[ -n "${!name:-}" ]] || die "$name is not set in $CONFIG_FILE (see deploy.env.example)"
  done
}

# Sets and exports: AWS_ACCOUNT_ID AWS_REGION ECR_REPOSITORY STAGE ARCH
# (read by serverless.yml too), DOCKER_PLATFORM, ECR_REGISTRY, IMAGE_REPO_URI.
load_config() {
  CONFIG_FILE="${DEPLOY_ENV:-$ROOT_DIR/deploy.env}"
  [[ -f "$CONFIG_FILE" ]] ||
    die "no config at $CONFIG_FILE: run 'cp deploy.env.example deploy.env' and fill it in"
  set -a
  # shellcheck source=/dev/null
  source "$CONFIG_FILE"
  set +a
  STAGE="${STAGE:-dev}"
  ARCH="${ARCH:-x86_64}"
  require_var AWS_ACCOUNT_ID AWS_REGION ECR_REPOSITORY
  [[ "$AWS_ACCOUNT_ID" =~ ^[0-9]{12}$ ]] ||
    die "AWS_ACCOUNT_ID must be 12 digits, got '$AWS_ACCOUNT_ID'"
  [[ "$AWS_REGION" =~ ^[a-z]{2}(-[a-z]+)+-[0-9]$ ]] ||
    die "AWS_REGION does not look like a region (e.g. eu-west-1), got '$AWS_REGION'"
  [[ "$ECR_REPOSITORY" =~ ^[a-z0-9]+([._/-][a-z0-9]+)*$ ]] ||
    die "ECR_REPOSITORY must be a lowercase ECR name, got '$ECR_REPOSITORY'"
  case "$ARCH" in
    x86_64) DOCKER_PLATFORM=linux/amd64 ;;
    arm64) DOCKER_PLATFORM=linux/arm64 ;;
    *) die "ARCH must be x86_64 or arm64, got '$ARCH'" ;;
  esac
  ECR_REGISTRY="$AWS_ACCOUNT_ID.dkr.ecr.$AWS_REGION.amazonaws.com"
  IMAGE_REPO_URI="$ECR_REGISTRY/$ECR_REPOSITORY"
  export AWS_ACCOUNT_ID AWS_REGION ECR_REPOSITORY STAGE ARCH \
    DOCKER_PLATFORM ECR_REGISTRY IMAGE_REPO_URI
}

run_osls() {
  require_cmd node "install Node.js 20.19+ (osls needs it)"
  local bin="$ROOT_DIR/node_modules/.bin/osls"
  [[ -x "$bin" ]] || die "osls is not installed: run 'npm ci' in the repository root"
  (cd "$ROOT_DIR" && "$bin" "$@")
}
