#!/usr/bin/env bash
# Offline checks of the deployment files: serverless.yml + functions.yml are
# packaged by the pinned osls with no credentials and no network, the
# generated CloudFormation is inspected and linted, and scripts/* are run
# against stub docker/aws/osls commands in a temporary copy of the repo.
#
# Usage: tests/deploy.sh   (from anywhere; needs node + npm, python3,
# cfn-lint, shellcheck). A missing tool skips the suite (exit 77) unless
# CI=true, where it fails. Runs `npm ci` if node_modules is missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
export ROOT
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
PASSED=0
FAILED=0
FAKE_DIGEST="sha256:$(printf '0123456789abcdef%.0s' 1 2 3 4)"
FAKE_REPO="210987654321.dkr.ecr.eu-central-1.amazonaws.com/team/api"

summary() { echo "deploy: $PASSED passed, $FAILED failed"; }

# need TOOL INSTALL_HINT: skip (exit 77) or, under CI, fail when TOOL is missing.
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [[ "${CI:-}" == true ]]; then
    echo "not ok - tool $1 is installed (install with $2)"
    FAILED=$((FAILED + 1))
    summary
    exit 1
  fi
  echo "SKIP: $1 missing, install with $2"
  exit 77
}

need python3 "apt-get install -y python3"
need node "apt-get install -y nodejs (Node.js 20.19+)"
need npm "apt-get install -y npm"
need cfn-lint "pip install cfn-lint"
need shellcheck "apt-get install -y shellcheck"
# PyYAML (a cfn-lint dependency) reads serverless.yml the way the Rust tests do.
python3 -c 'import yaml' 2>/dev/null || need python3-yaml "pip install pyyaml"
if [[ ! -x node_modules/.bin/osls ]]; then
  echo "# node_modules/.bin/osls missing: running npm ci"
  npm ci --no-audit --no-fund >"$WORK/npm-ci.log" 2>&1 || sed 's/^/#   /' "$WORK/npm-ci.log"
fi
PATH="$ROOT/node_modules/.bin:$PATH" need osls "npm ci"
OSLS="$ROOT/node_modules/.bin/osls"

# Prove "no network" where we may create a network namespace; the machine
# has no route to AWS anyway, so this only makes the point explicit.
NONET=()
if unshare -n true 2>/dev/null; then NONET=(unshare -n); fi
echo "# osls runs with no AWS credentials${NONET[*]:+ and no network (unshare -n)}"

# run_case NAME FUNCTION: run FUNCTION in a subshell with errexit; report.
run_case() {
  local name="$1" log="$WORK/case.log" rc
  shift
  set +e
  (set -e; "$@") >"$log" 2>&1
  rc=$?
  set -e
  if ((rc == 0)); then
    echo "ok - $name"
    PASSED=$((PASSED + 1))
  else
    echo "not ok - $name"
    sed 's/^/#   /' "$log"
    FAILED=$((FAILED + 1))
  fi
}

fail() { echo "FAIL: $*"; return 1; }

# expect_fail PATTERN CMD...: CMD must exit non-zero and print PATTERN.
expect_fail() {
  local pattern="$1" out
  shift
  if out="$("$@" 2>&1)"; then fail "expected failure from: $*"; fi
  echo "$out"
  grep -qE -- "$pattern" <<<"$out" || fail "output lacks /$pattern/"
}

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
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null "${vars[@]}" \
    "${NONET[@]}" "$OSLS" "$@")
}

# check_template TEMPLATE CHECK [ARGS]: assertions on the generated template.
check_template() {
  python3 - "$@" <<'PY'
import json, re, sys

path, check, *args = sys.argv[1:]
res = json.load(open(path))["Resources"]
of_type = lambda t: {k: v for k, v in res.items() if v["Type"] == t}

def fail(msg):
    sys.exit(f"FAIL: {msg}")

def functions():
    out = {}
    for lid, r in of_type("AWS::Lambda::Function").items():
        name = r["Properties"]["FunctionName"].rsplit("-", 1)[1]
        out[name] = (lid, r["Properties"])
    return out

def routes():
    """{(METHOD, /path): method properties}, paths rebuilt from the resources."""
    api_res = of_type("AWS::ApiGateway::Resource")
    def path_of(ref):
        if "Fn::GetAtt" in ref:
            return ""
        p = api_res[ref["Ref"]]["Properties"]
        return path_of(p["ParentId"]) + "/" + p["PathPart"]
    return {
        (m["Properties"]["HttpMethod"], path_of(m["Properties"]["ResourceId"]) or "/"): m["Properties"]
        for m in of_type("AWS::ApiGateway::Method").values()
    }

def expected_routes():
    """{function: {/path: [METHOD]}} from the repo's functions.yml, whose
    events `cargo xtask routes --check` ties to the function routers."""
    import os, yaml
    with open(os.path.join(os.environ["ROOT"], "functions.yml")) as f:
        document = yaml.safe_load(f)
    out = {}
    for name, fn in document["functions"].items():
        paths = out.setdefault(name, {})
        for event in fn.get("events") or []:
            http = event.get("http")
            if http:
                paths.setdefault("/" + http["path"].strip("/"), []).append(http["method"].upper())
    return out

EXPECTED = expected_routes()

if check == "images":
    uri, arch = args
    fns = functions()
    if set(fns) != set(EXPECTED):
        fail(f"functions {sorted(fns)} != {sorted(EXPECTED)}")
    for name, (lid, p) in fns.items():
        if p.get("PackageType") != "Image":
            fail(f"{name}: PackageType {p.get('PackageType')}")
        if p.get("ImageConfig", {}).get("Command") != [name]:
            fail(f"{name}: ImageConfig {p.get('ImageConfig')}")
        if p["Code"].get("ImageUri") != uri:
            fail(f"{name}: ImageUri {p['Code'].get('ImageUri')} != {uri}")
        if "Handler" in p or "Runtime" in p:
            fail(f"{name}: image function must not have Handler/Runtime")
        if p.get("Architectures") != [arch]:
            fail(f"{name}: Architectures {p.get('Architectures')} != [{arch}]")
        print(f"{name}: image {p['Code']['ImageUri']} command {p['ImageConfig']['Command']}")

elif check == "routes":
    got = routes()
    want = {(m, path) for paths in EXPECTED.values() for path, ms in paths.items() for m in ms}
    want |= {("OPTIONS", path) for paths in EXPECTED.values() for path in paths}
    if set(got) != want:
        fail(f"missing {sorted(want - set(got))}, unexpected {sorted(set(got) - want)}")
    if not of_type("AWS::ApiGateway::RestApi"):
        fail("no AWS::ApiGateway::RestApi")
    for fn, paths in EXPECTED.items():
        lid = functions()[fn][0]
        for path, methods in paths.items():
            for m in methods:
                integ = got[(m, path)]["Integration"]
                if integ["Type"] != "AWS_PROXY" or f'"{lid}"' not in json.dumps(integ["Uri"]):
                    fail(f"{m} {path}: not a Lambda proxy to {fn}: {integ}")
                print(f"{m:7} {path} -> {fn}")

elif check == "cors":
    got = routes()
    for paths in EXPECTED.values():
        for path, methods in paths.items():
            integ = got[("OPTIONS", path)]["Integration"]
            params = integ["IntegrationResponses"][0]["ResponseParameters"]
            allowed = params["method.response.header.Access-Control-Allow-Methods"].strip("'").split(",")
            if integ["Type"] != "MOCK" or not set(methods) <= set(allowed):
                fail(f"OPTIONS {path}: {integ}")
            print(f"OPTIONS {path}: allow {','.join(allowed)}")

elif check == "environment":
    # USERS_TABLE only where the table is used; USERS_DB_PATH (embedded
    # SQLite) has no place in Lambda any more.
    common = {"CORS_ALLOW_ORIGINS": "*", "RUST_LOG": "info"}
    wants = {"users": {**common, "USERS_TABLE": {"Ref": "UsersTable"}}}
    for name, (_, p) in functions().items():
        env = p.get("Environment", {}).get("Variables", {})
        if env != wants.get(name, common):
            fail(f"{name}: environment {env} != {wants.get(name, common)}")
        print(f"{name}: {env} memory {p['MemorySize']} timeout {p['Timeout']}")

elif check == "table":
    # The contract with the users code: on-demand, pk (S) HASH + sk (S) RANGE,
    # no secondary index; kept on stack removal and never replaced.
    table_name, serverless_yml = args
    tables = of_type("AWS::DynamoDB::Table")
    if set(tables) != {"UsersTable"}:
        fail(f"DynamoDB tables {sorted(tables)} != ['UsersTable']")
    t = tables["UsersTable"]
    p = t["Properties"]
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}]
    want = {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": keys,
        "AttributeDefinitions": attrs,
        "DeletionProtectionEnabled": True,
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
    }
    for key, value in want.items():
        if p.get(key) != value:
            fail(f"UsersTable {key}: {p.get(key)!r} != {value!r}")
    extra = set(p) - set(want) - {"Tags", "SSESpecification"}
    if extra:
        fail(f"UsersTable has unexpected properties {sorted(extra)} (indexes? provisioned capacity?)")
    for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
        if t.get(policy) != "Retain":
            fail(f"UsersTable {policy}: {t.get(policy)!r} != 'Retain'")
    # The Rust tests read the key schema straight from serverless.yml, so it
    # must be plain YAML (no !Tags) with the two lists literal there.
    import yaml
    src = yaml.safe_load(open(serverless_yml))["resources"]["Resources"]["UsersTable"]["Properties"]
    for key, value in (("KeySchema", keys), ("AttributeDefinitions", attrs)):
        if src.get(key) != value:
            fail(f"serverless.yml UsersTable {key}: {src.get(key)!r} != {value!r}")
    print(f"UsersTable {p['TableName']}: {p['BillingMode']}, pk HASH + sk RANGE, "
          f"deletion protection, PITR, Retain")

elif check == "iam":
    # Least privilege: only the users function's role may touch DynamoDB, and
    # only with the calls the code makes, on the table itself.
    role_name = args[0]
    WANT_DDB = {"dynamodb:getitem", "dynamodb:query", "dynamodb:putitem",
                "dynamodb:updateitem", "dynamodb:deleteitem"}
    WANT_LOGS = {"logs:createlogstream", "logs:putlogevents"}
    WANT_XRAY = {"xray:puttracesegments", "xray:puttelemetryrecords"}
    table_arn = {"Fn::GetAtt": ["UsersTable", "Arn"]}
    as_list = lambda v: v if isinstance(v, list) else [v]

    def statements():
        """(owner role logical id, statement) for every inline or attached policy."""
        for lid, r in res.items():
            p = r.get("Properties", {})
            if r["Type"] == "AWS::IAM::Role":
                for pol in p.get("Policies", []):
                    for st in as_list(pol["PolicyDocument"]["Statement"]):
                        yield lid, st
            elif r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
                owners = [x.get("Ref", x) if isinstance(x, dict) else x
                          for x in as_list(p.get("Roles", p.get("RoleName", [])))]
                for st in as_list(p["PolicyDocument"]["Statement"]):
                    for owner in owners or [lid]:
                        yield owner, st

    ddb = {}  # role -> [statement] that grant a DynamoDB action
    for owner, st in statements():
        if st.get("Effect") != "Allow":
            continue
        if "NotAction" in st or "NotResource" in st:
            fail(f"{owner}: Allow with NotAction/NotResource grants too much: {st}")
        actions = [a.lower() for a in as_list(st["Action"])]
        hits = [a for a in actions if a == "*" or a.startswith("dynamodb:")]
        if not hits:
            continue
        if any("*" in a or "?" in a for a in hits):
            fail(f"{owner}: wildcard DynamoDB action {hits}")
        if any(r == "*" or (isinstance(r, str) and "*" in r) for r in as_list(st["Resource"])):
            fail(f"{owner}: DynamoDB actions on resource {st['Resource']}")
        ddb.setdefault(owner, []).append(st)

    if set(ddb) != {"UsersRole"}:
        fail(f"roles with DynamoDB permissions: {sorted(ddb)} != ['UsersRole']")
    got = set()
    for st in ddb["UsersRole"]:
        if as_list(st["Resource"]) != [table_arn]:
            fail(f"UsersRole: DynamoDB actions on {st['Resource']}, not only the table ARN")
        if "Condition" in st:
            fail(f"UsersRole: unexpected Condition {st['Condition']}")
        got |= {a.lower() for a in as_list(st["Action"])}
    if got != WANT_DDB:
        fail(f"UsersRole DynamoDB actions: missing {sorted(WANT_DDB - got)}, "
             f"unexpected {sorted(got - WANT_DDB)}")

    roles = of_type("AWS::IAM::Role")
    users_role = roles.get("UsersRole")
    if not users_role:
        fail("no UsersRole")
    up = users_role["Properties"]
    trust = up["AssumeRolePolicyDocument"]["Statement"]
    if [(s["Effect"], as_list(s["Principal"]["Service"]), as_list(s["Action"])) for s in trust] != [
        ("Allow", ["lambda.amazonaws.com"], ["sts:AssumeRole"])
    ]:
        fail(f"UsersRole trust policy: {trust}")
    # `osls deploy function -f users` builds the ARN from a literal RoleName.
    if up.get("RoleName") != role_name:
        fail(f"UsersRole RoleName {up.get('RoleName')!r} != {role_name!r}")
    if len(role_name) > 64:
        fail(f"role name {role_name} is longer than IAM's 64 characters")
    all_actions = {a.lower() for lid, st in statements() if lid == "UsersRole"
                   for a in as_list(st["Action"])}
    if all_actions != WANT_DDB | WANT_LOGS | WANT_XRAY:
        fail(f"UsersRole actions {sorted(all_actions)} != {sorted(WANT_DDB | WANT_LOGS | WANT_XRAY)}")
    for lid, st in statements():
        if lid == "UsersRole" and any(a.lower().startswith("logs:") for a in as_list(st["Action"])):
            if as_list(st["Resource"]) != [{"Fn::GetAtt": ["UsersLogGroup", "Arn"]}]:
                fail(f"UsersRole logs permissions on {st['Resource']}, not its log group")
    if "UsersLogGroup" not in of_type("AWS::Logs::LogGroup"):
        fail("no UsersLogGroup")
    for lid, r in roles.items():
        if r["Properties"].get("ManagedPolicyArns"):
            fail(f"{lid}: managed policies {r['Properties']['ManagedPolicyArns']}")

    # Which role each function runs as.
    for name, (_, p) in functions().items():
        want_role = "UsersRole" if name == "users" else "IamRoleLambdaExecution"
        if p.get("Role") != {"Fn::GetAtt": [want_role, "Arn"]}:
            fail(f"{name}: Role {p.get('Role')} is not {want_role}")
        print(f"{name}: role {want_role}")
    print(f"UsersRole {role_name}: {', '.join(sorted(got))} on UsersTable only")

elif check == "name-prefix":
    for name, (_, p) in functions().items():
        if not p["FunctionName"].startswith(args[0]):
            fail(f"{p['FunctionName']} does not start with {args[0]}")

else:
    fail(f"unknown check {check}")
PY
}

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
    "$1/deploy.env.example" >"$1/deploy.env"
}

with_stubs() {
  env -u DEPLOY_ENV -u FUNCTIONS_FILE -u AWS_PROFILE -u STAGE -u ARCH -u RUST_IMAGE -u BASE_IMAGE \
    PATH="$WORK/bin:$PATH" STUB_LOG="$WORK/stub.log" STUB_DIGEST="$FAKE_DIGEST" STUB_ACCOUNT=210987654321 "$@"
}

make_stubs

# --- cases --------------------------------------------------------------------
PKG="$WORK/pkg"
TPL="$PKG/.serverless/cloudformation-template-update-stack.json"
image_uris() { sed -nE 's/^[[:space:]]*uri:[[:space:]]*([^[:space:]]+).*/\1/p' "$1" | sort -u; }

case_shellcheck() {
  local files=(tests/deploy.sh) f
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

case_table() { check_template "$TPL" table rust-lambda-api-dev-users "$PKG/serverless.yml"; }
case_iam() { check_template "$TPL" iam rust-lambda-api-dev-eu-west-1-usersRole; }

# mutate TEMPLATE MUTATION: print the path of a copy of TEMPLATE with one
# deliberate mistake, to show that the checks above catch it.
mutate() {
  local out="$WORK/mutant-$2.json"
  python3 - "$1" "$2" "$out" <<'PY'
import json, sys

src, what, out = sys.argv[1:]
t = json.load(open(src))
res = t["Resources"]
users = res["UsersRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
ddb = next(s for s in users if any(a.startswith("dynamodb:") for a in s["Action"]))
default = res["IamRoleLambdaExecution"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
table = res["UsersTable"]["Properties"]
if what == "scan":
    ddb["Action"].append("dynamodb:Scan")
elif what == "missing-action":
    ddb["Action"].remove("dynamodb:Query")
elif what == "ddb-star":
    ddb["Action"] = ["dynamodb:*"]
elif what == "resource-star":
    ddb["Resource"] = "*"
elif what == "index-arn":
    ddb["Resource"] = [ddb["Resource"], {"Fn::Sub": "${UsersTable.Arn}/index/*"}]
elif what == "default-role":
    default.append({"Effect": "Allow", "Action": ["dynamodb:GetItem"],
                    "Resource": {"Fn::GetAtt": ["UsersTable", "Arn"]}})
elif what == "managed-policy":
    res["UsersRole"]["Properties"]["ManagedPolicyArns"] = [
        "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"]
elif what == "not-action":
    users.append({"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"})
elif what == "health-role":
    res["HealthLambdaFunction"]["Properties"]["Role"] = {"Fn::GetAtt": ["UsersRole", "Arn"]}
elif what == "health-env":
    env = res["HealthLambdaFunction"]["Properties"]["Environment"]["Variables"]
    env["USERS_TABLE"] = {"Ref": "UsersTable"}
elif what == "provisioned":
    table["BillingMode"] = "PROVISIONED"
elif what == "key-swap":
    table["KeySchema"].reverse()
elif what == "gsi":
    table["GlobalSecondaryIndexes"] = [{"IndexName": "by-email"}]
elif what == "no-pitr":
    del table["PointInTimeRecoverySpecification"]
elif what == "no-retain":
    del res["UsersTable"]["DeletionPolicy"]
else:
    sys.exit(f"unknown mutation {what}")
json.dump(t, open(out, "w"))
PY
  echo "$out"
}

case_checks_bite() {
  local m dir="$WORK/widened"
  for m in scan missing-action ddb-star resource-star index-arn default-role managed-policy \
    not-action health-role; do
    expect_fail 'FAIL: ' check_template "$(mutate "$TPL" "$m")" iam rust-lambda-api-dev-eu-west-1-usersRole
  done
  expect_fail 'FAIL: health: environment' check_template "$(mutate "$TPL" health-env)" environment
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
check_state() {
  python3 - "$1/.serverless/serverless-state.json" "$2" <<'PY'
import json, sys
prov = json.load(open(sys.argv[1]))["service"]["provider"]
# CloudFormation owns the stage (ApiGatewayStage): osls must not patch it.
assert not {"metrics", "stage"} & set(prov.get("apiGateway", {})), prov.get("apiGateway")
assert "restApi" not in prov.get("logs", {}), prov.get("logs")
assert prov["tracing"] == {"lambda": True}, prov["tracing"]
assert prov["region"] == sys.argv[2], prov["region"]
print("tracing", prov["tracing"], "region", prov["region"])
PY
}

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
run_case "template: API Gateway REST method for every route, no HEAD" case_routes
run_case "template: OPTIONS method (CORS) on every path" case_cors
run_case "template: function environment (USERS_TABLE on users only) and names" case_environment
run_case "template: UsersTable on demand, pk HASH + sk RANGE as in serverless.yml, retained" case_table
run_case "template: only users' role has DynamoDB, exactly its 5 actions on the table ARN" case_iam
run_case "the table, IAM and environment checks catch a broken or widened template" case_checks_bite
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
run_case "deploy: refuses unpinned images, runs osls deploy (stub osls)" case_deploy_stubbed
run_case "the real serverless.yml and functions.yml were not modified" case_untouched

summary
((FAILED == 0))
