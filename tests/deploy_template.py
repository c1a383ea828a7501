"""Assertions on the CloudFormation template that `osls package` writes,
and deliberate mistakes that prove they bite (tests/deploy.sh runs both).

    python3 tests/deploy_template.py check TEMPLATE CHECK [ARGS...]
    python3 tests/deploy_template.py mutate TEMPLATE MUTATION OUT
    python3 tests/deploy_template.py state STATE_JSON REGION

A check prints what it saw, and exits with `FAIL: ...` on the first
mismatch. The routes expected are those of the repository's functions.yml
(whose events `cargo xtask routes --check` ties to the function routers).
Needs PyYAML (a cfn-lint dependency). Its own tests:
`python3 -m unittest tests/test_deploy_template.py`.
"""

import json
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fail(msg):
    sys.exit(f"FAIL: {msg}")


def as_list(v):
    return v if isinstance(v, list) else [v]


def expected_routes(functions_yml):
    """{function: {/path: [METHOD]}} from a functions.yml."""
    return read_functions_yml(functions_yml)[0]


def read_functions_yml(functions_yml):
    """({function: {/path: [METHOD]}}, {(METHOD, /path): authorizer function})
    from a functions.yml; the second holds the events with an `authorizer:`
    (`cargo xtask routes --check` ties them to the routers' scopes)."""
    with open(functions_yml) as f:
        document = yaml.safe_load(f)
    out, protected = {}, {}
    for name, fn in document["functions"].items():
        paths = out.setdefault(name, {})
        for event in fn.get("events") or []:
            http = event.get("http")
            if http:
                path, method = "/" + http["path"].strip("/"), http["method"].upper()
                paths.setdefault(path, []).append(method)
                if "authorizer" in http:
                    auth = http["authorizer"]
                    protected[(method, path)] = auth if isinstance(auth, str) else auth["name"]
    return out, protected


class Template:
    """The resources of one template, and the routes expected of it."""

    def __init__(self, resources, expected, protected=None):
        self.res = resources
        self.expected = expected
        self.protected = protected or {}

    def of_type(self, type_):
        return {k: v for k, v in self.res.items() if v["Type"] == type_}

    def functions(self):
        """{short name: (logical id, properties)} of the Lambda functions."""
        out = {}
        for lid, r in self.of_type("AWS::Lambda::Function").items():
            name = r["Properties"]["FunctionName"].rsplit("-", 1)[1]
            out[name] = (lid, r["Properties"])
        return out

    def routes(self):
        """{(METHOD, /path): method properties}, paths rebuilt from the resources."""
        api_res = self.of_type("AWS::ApiGateway::Resource")

        def path_of(ref):
            if "Fn::GetAtt" in ref:
                return ""
            p = api_res[ref["Ref"]]["Properties"]
            return path_of(p["ParentId"]) + "/" + p["PathPart"]

        return {
            (m["Properties"]["HttpMethod"], path_of(m["Properties"]["ResourceId"]) or "/"): m["Properties"]
            for m in self.of_type("AWS::ApiGateway::Method").values()
        }


def check_images(t, uri, arch):
    """Each function is an image (ImageUri URI, its own command, ARCH)."""
    functions, EXPECTED = t.functions, t.expected
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


def check_routes(t):
    """A Lambda-proxy method for every route of functions.yml, nothing else."""
    of_type, functions, routes, EXPECTED = t.of_type, t.functions, t.routes, t.expected
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


def check_cors(t):
    """An OPTIONS mock (CORS preflight) on every path, allowing exactly its
    declared methods (the catch-all ANY, which answers 405, is not one)."""
    routes, EXPECTED = t.routes, t.expected
    got = routes()
    for paths in EXPECTED.values():
        for path, methods in paths.items():
            integ = got[("OPTIONS", path)]["Integration"]
            params = integ["IntegrationResponses"][0]["ResponseParameters"]
            allowed = params["method.response.header.Access-Control-Allow-Methods"].strip("'").split(",")
            declared = {m for m in methods if m != "ANY"} | {"OPTIONS"}
            if integ["Type"] != "MOCK" or set(allowed) != declared:
                fail(f"OPTIONS {path}: allows {allowed}, declared {sorted(declared)}: {integ}")
            print(f"OPTIONS {path}: allow {','.join(allowed)}")


def check_environment(t):
    """Each function's environment variables."""
    functions = t.functions
    # USERS_TABLE only where the table is used; USERS_DB_PATH (embedded
    # SQLite) has no place in Lambda any more.
    common = {"CORS_ALLOW_ORIGINS": "*", "RUST_LOG": "info"}
    # The issuer settings (empty offline: deploy.env is not read here) go to
    # the authorizer and to users (which verifies tokens itself when an event
    # has no authorizer context), nowhere else.
    auth = {"AUTH_ISSUER": "", "AUTH_AUDIENCE": ""}
    wants = {"users": {**common, "USERS_TABLE": {"Ref": "UsersTable"}, **auth},
             "authorizer": {**common, **auth}}
    for name, (_, p) in functions().items():
        env = p.get("Environment", {}).get("Variables", {})
        if env != wants.get(name, common):
            fail(f"{name}: environment {env} != {wants.get(name, common)}")
        print(f"{name}: {env} memory {p['MemorySize']} timeout {p['Timeout']}")


def check_table(t, table_name, serverless_yml):
    """UsersTable as the users code expects it, in the template and in serverless.yml."""
    of_type = t.of_type
    # The contract with the users code: on-demand, pk (S) HASH + sk (S) RANGE,
    # no secondary index; kept on stack removal and never replaced.
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
    src = yaml.safe_load(open(serverless_yml))["resources"]["Resources"]["UsersTable"]["Properties"]
    for key, value in (("KeySchema", keys), ("AttributeDefinitions", attrs)):
        if src.get(key) != value:
            fail(f"serverless.yml UsersTable {key}: {src.get(key)!r} != {value!r}")
    print(f"UsersTable {p['TableName']}: {p['BillingMode']}, pk HASH + sk RANGE, "
          f"deletion protection, PITR, Retain")


def check_iam(t, role_name):
    """Least privilege for DynamoDB; the users role named ROLE_NAME."""
    res, of_type, functions = t.res, t.of_type, t.functions
    # Least privilege: only the users function's role may touch DynamoDB, and
    # only with the calls the code makes, on the table itself.
    WANT_DDB = {"dynamodb:getitem", "dynamodb:query", "dynamodb:putitem",
                "dynamodb:updateitem", "dynamodb:deleteitem"}
    WANT_LOGS = {"logs:createlogstream", "logs:putlogevents"}
    WANT_XRAY = {"xray:puttracesegments", "xray:puttelemetryrecords"}
    table_arn = {"Fn::GetAtt": ["UsersTable", "Arn"]}

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


def check_auth(t, authorizer="authorizer"):
    """Protected methods (an `authorizer:` in functions.yml) are CUSTOM with
    the TOKEN authorizer; every other method is NONE. The authorizer function
    may be invoked by API Gateway only, and its role is logs (and the X-Ray
    trace writes every function has) only."""
    res, of_type, functions, routes = t.res, t.of_type, t.functions, t.routes
    fns = functions()
    if authorizer not in fns:
        fail(f"no {authorizer} function")
    lid, props = fns[authorizer]
    authorizers = of_type("AWS::ApiGateway::Authorizer")
    if len(authorizers) != 1:
        fail(f"authorizers {sorted(authorizers)}: want exactly one")
    (auth_id, auth), = authorizers.items()
    a = auth["Properties"]
    if (a.get("Type"), a.get("IdentitySource"), a.get("AuthorizerResultTtlInSeconds")) != (
            "TOKEN", "method.request.header.Authorization", 300):
        fail(f"{auth_id}: {a}")
    if f'"{lid}"' not in json.dumps(a.get("AuthorizerUri")):
        fail(f"{auth_id}: AuthorizerUri {a.get('AuthorizerUri')} does not invoke {authorizer}")
    if not t.protected:
        fail("functions.yml protects no method")
    for (method, path), p in sorted(routes().items()):
        kind = p.get("AuthorizationType", "NONE")
        if (method, path) in t.protected:
            if kind != "CUSTOM" or p.get("AuthorizerId") != {"Ref": auth_id}:
                fail(f"{method} {path}: protected, but AuthorizationType {kind} AuthorizerId {p.get('AuthorizerId')}")
        elif kind != "NONE" or "AuthorizerId" in p:
            fail(f"{method} {path}: public, but AuthorizationType {kind} AuthorizerId {p.get('AuthorizerId')}")
        print(f"{method:7} {path}: {kind}")
    permissions = [r["Properties"] for r in of_type("AWS::Lambda::Permission").values()
                   if f'"{lid}"' in json.dumps(r["Properties"].get("FunctionName"))]
    if not permissions:
        fail(f"no Lambda permission lets API Gateway invoke {authorizer}")
    for p in permissions:
        if (p.get("Principal"), p.get("Action")) != ("apigateway.amazonaws.com", "lambda:InvokeFunction"):
            fail(f"{authorizer} permission: {p}")
        if "ApiGatewayRestApi" not in json.dumps(p.get("SourceArn")):
            fail(f"{authorizer} permission not limited to this API: SourceArn {p.get('SourceArn')}")
    role = props.get("Role", {}).get("Fn::GetAtt", [None])[0]
    if role not in res:
        fail(f"{authorizer}: role {props.get('Role')} is not a role of the template")
    xray = {"xray:puttracesegments", "xray:puttelemetryrecords"}
    for pol in res[role]["Properties"].get("Policies", []):
        for st in as_list(pol["PolicyDocument"]["Statement"]):
            actions = {a.lower() for a in as_list(st.get("Action", []))}
            if "NotAction" in st or any(not (a.startswith("logs:") or a in xray) for a in actions):
                fail(f"{authorizer}: role {role} grants more than logs: {st}")
    if res[role]["Properties"].get("ManagedPolicyArns"):
        fail(f"{authorizer}: role {role} has managed policies")
    print(f"{authorizer}: {len(t.protected)} methods behind {auth_id} (TOKEN, Authorization, 300 s); "
          f"invoked by apigateway.amazonaws.com only; role {role} logs only")


def check_name_prefix(t, prefix):
    """Every function name starts with PREFIX."""
    functions = t.functions
    for name, (_, p) in functions().items():
        if not p["FunctionName"].startswith(prefix):
            fail(f"{p['FunctionName']} does not start with {prefix}")

CHECKS = {
    "images": check_images,
    "routes": check_routes,
    "cors": check_cors,
    "environment": check_environment,
    "table": check_table,
    "iam": check_iam,
    "name-prefix": check_name_prefix,
    "auth": check_auth,
}


def mutate(t, what):
    """Makes one deliberate mistake MUTATION in the template document T."""
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
    elif what in ("public-custom", "protected-none"):
        methods = {(m["Properties"]["HttpMethod"], lid): m["Properties"]
                   for lid, m in res.items() if m["Type"] == "AWS::ApiGateway::Method"}
        auth_id = next(k for k, v in res.items() if v["Type"] == "AWS::ApiGateway::Authorizer")
        if what == "public-custom":
            p = next(p for (m, lid), p in methods.items() if p.get("AuthorizationType") == "NONE" and m != "OPTIONS")
            p.update(AuthorizationType="CUSTOM", AuthorizerId={"Ref": auth_id})
        else:
            p = next(p for p in methods.values() if p.get("AuthorizationType") == "CUSTOM")
            p["AuthorizationType"] = "NONE"
            del p["AuthorizerId"]
    elif what == "authorizer-anyone":
        p = next(r["Properties"] for r in res.values() if r["Type"] == "AWS::Lambda::Permission"
                 and "AuthorizerLambdaFunction" in json.dumps(r["Properties"]["FunctionName"]))
        p["Principal"] = "*"
    elif what == "authorizer-role":
        default.append({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"})
    else:
        fail(f"unknown mutation {what}")


def load(path):
    with open(path) as f:
        return json.load(f)


def main(argv):
    usage = __doc__.split("\n\n")[1]
    if len(argv) < 3:
        sys.exit(f"usage:\n{usage}")
    command, path, *args = argv
    if command == "check":
        check, *args = args
        if check not in CHECKS:
            fail(f"unknown check {check}")
        expected, protected = read_functions_yml(os.path.join(os.environ.get("ROOT", ROOT), "functions.yml"))
        CHECKS[check](Template(load(path)["Resources"], expected, protected), *args)
    elif command == "mutate":
        what, out = args
        t = load(path)
        mutate(t, what)
        with open(out, "w") as f:
            json.dump(t, f)
    elif command == "state":
        (region,) = args
        prov = load(path)["service"]["provider"]
        # CloudFormation owns the stage (ApiGatewayStage): osls must not patch it.
        assert not {"metrics", "stage"} & set(prov.get("apiGateway", {})), prov.get("apiGateway")
        assert "restApi" not in prov.get("logs", {}), prov.get("logs")
        assert prov["tracing"] == {"lambda": True}, prov["tracing"]
        assert prov["region"] == region, prov["region"]
        print("tracing", prov["tracing"], "region", prov["region"])
    else:
        sys.exit(f"unknown command {command}\nusage:\n{usage}")


if __name__ == "__main__":
    main(sys.argv[1:])
