"""Read back what tests/rehearsal.sh deployed to moto, and check it.

Usage: python3 tests/rehearsal_checks.py CHECK ARGS...   (see CHECKS below)

Reads AWS_ENDPOINT_URL and the fake credentials from the environment,
DEPLOY_ENV (the rehearsal's deploy.env: the settings to expect), and
REHEARSAL_STAGE / REHEARSAL_REPO (the stage and the copy of the deployment
files). What to expect comes from those files, not from this one: the
routes from functions.yml, the settings from deploy.env.

moto's CloudFormation deploys the API, its methods and integrations, the
functions, roles, table and log groups, which are read back through their
own APIs. It does not implement AWS::ApiGateway::Stage,
AWS::ApiGateway::GatewayResponse or AWS::CloudWatch::Alarm (it warns "not
supported by moto's CloudFormation implementation" and skips them): those are
checked in the template the stack was deployed with, read back from
CloudFormation, with its intrinsic functions evaluated.
"""

import ast
import json
import os
import re
import sys

import boto3
import yaml

ENDPOINT = os.environ.get("AWS_ENDPOINT_URL", "")
STAGE = os.environ.get("REHEARSAL_STAGE", "")
REPO = os.environ.get("REHEARSAL_REPO", "")
SERVICE = "rust-lambda-api"
STACK = f"{SERVICE}-{STAGE}"
GATEWAY_RESPONSES = {
    "DEFAULT_4XX", "DEFAULT_5XX", "MISSING_AUTHENTICATION_TOKEN", "UNAUTHORIZED",
    "ACCESS_DENIED", "THROTTLED", "INTEGRATION_TIMEOUT", "REQUEST_TOO_LARGE",
}
ACCESS_LOG_FIELDS = {
    "requestId", "ip", "method", "resourcePath", "status", "latencyMs",
    "integrationLatencyMs", "errorMessage",
}
USERS_DDB = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem",
             "dynamodb:DeleteItem"}


class Failed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failed(message)


def client(service):
    check(ENDPOINT.startswith("http://127.0.0.1:"), f"AWS_ENDPOINT_URL is not local: {ENDPOINT!r}")
    return boto3.client(service, endpoint_url=ENDPOINT)


def settings():
    """deploy.env as a dict (plain KEY=value lines)."""
    out = {}
    with open(os.environ["DEPLOY_ENV"]) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                out[key] = value
    return out


def expected_routes():
    """{function: {(METHOD, /path)}} from the copy's functions.yml."""
    with open(os.path.join(REPO, "functions.yml")) as f:
        document = yaml.safe_load(f)
    out = {}
    for name, fn in document["functions"].items():
        out[name] = {
            (e["http"]["method"].upper(), "/" + e["http"]["path"].strip("/"))
            for e in fn.get("events") or [] if "http" in e
        }
    return out


def protected_routes():
    """{(METHOD, /path)} of the events with an `authorizer:` in functions.yml."""
    with open(os.path.join(REPO, "functions.yml")) as f:
        document = yaml.safe_load(f)
    return {
        (e["http"]["method"].upper(), "/" + e["http"]["path"].strip("/"))
        for fn in document["functions"].values()
        for e in fn.get("events") or [] if "authorizer" in e.get("http", {})
    }


def function_name(name):
    return f"{SERVICE}-{STAGE}-{name}"


def functions():
    """{short name: get_function answer} of the service's functions."""
    lam = client("lambda")
    out = {}
    for page in lam.get_paginator("list_functions").paginate():
        for f in page["Functions"]:
            if f["FunctionName"].startswith(f"{SERVICE}-{STAGE}-"):
                short = f["FunctionName"][len(f"{SERVICE}-{STAGE}-"):]
                out[short] = lam.get_function(FunctionName=f["FunctionName"])
    return out


def deployed_template():
    body = client("cloudformation").get_template(StackName=STACK)["TemplateBody"]
    return body if isinstance(body, dict) else json.loads(body)


def evaluate(value, template):
    """The template's value with the intrinsics this stack uses on literals
    evaluated: Ref to a parameter (its default), Fn::Join, Fn::Select,
    Fn::Split, Fn::If. Other Refs and GetAtts stay as they are."""
    if isinstance(value, list):
        return [evaluate(v, template) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in template.get("Parameters", {}):
        return template["Parameters"][value["Ref"]].get("Default", "")
    if set(value) == {"Fn::Join"}:
        sep, parts = evaluate(value["Fn::Join"], template)
        return sep.join(parts)
    if set(value) == {"Fn::Select"}:
        index, items = evaluate(value["Fn::Select"], template)
        return items[int(index)]
    if set(value) == {"Fn::Split"}:
        sep, text = evaluate(value["Fn::Split"], template)
        return text.split(sep)
    if set(value) == {"Fn::If"}:
        name, yes, no = value["Fn::If"]
        return evaluate(yes if condition_holds(name, template) else no, template)
    return {k: evaluate(v, template) for k, v in value.items()}


def condition_holds(name, template):
    cond = template["Conditions"][name]
    if "Fn::Not" in cond:
        (inner,) = cond["Fn::Not"]
        a, b = evaluate(inner["Fn::Equals"], template)
        return a != b
    raise Failed(f"condition {name}: {cond} is not evaluated here")


def policy_document(doc):
    """An inline policy as IAM returns it: a dict (boto3 decodes the JSON).
    moto's CloudFormation stores the template's dict as its Python repr,
    which boto3 hands back as a string."""
    if isinstance(doc, dict):
        return doc
    try:
        return json.loads(doc)
    except json.JSONDecodeError:
        return ast.literal_eval(doc)


def rest_api():
    apis = [a for a in client("apigateway").get_rest_apis()["items"] if a["name"] == STACK]
    check(len(apis) == 1, f"REST APIs named {STACK}: {len(apis)}")
    return apis[0]


def routes(api_id):
    """{(METHOD, /path): method} with their integrations, from API Gateway."""
    apigw = client("apigateway")
    out = {}
    for res in apigw.get_resources(restApiId=api_id, embed=["methods"], limit=500)["items"]:
        for method in res.get("resourceMethods", {}):
            out[(method, res["path"])] = apigw.get_method(
                restApiId=api_id, resourceId=res["id"], httpMethod=method
            )
    return out


# ------------------------------------------------------------------ checks

def check_pinned(path, uri):
    with open(path) as f:
        fns = yaml.safe_load(f)["functions"]
    uris = {name: fn["image"]["uri"] for name, fn in fns.items()}
    check(set(uris.values()) == {uri}, f"image uris {uris} != {uri}")
    print(f"# {len(uris)} functions at {uri}")


def check_ecr(repository, digest, manifest_path):
    ecr = client("ecr")
    try:
        ecr.create_repository(repositoryName=repository)
    except ecr.exceptions.RepositoryAlreadyExistsException:
        pass
    with open(manifest_path) as f:
        manifest = f.read()
    media_type = json.loads(manifest)["mediaType"]
    ecr.put_image(repositoryName=repository, imageManifest=manifest,
                  imageManifestMediaType=media_type, imageDigest=digest)
    images = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageDigest": digest}])["images"]
    check(len(images) == 1 and images[0]["imageId"]["imageDigest"] == digest,
          f"ECR has no image {digest}: {images}")
    print(f"# ECR {repository}@{digest} ({media_type})")


def check_topic(name):
    arn = client("sns").create_topic(Name=name)["TopicArn"]
    print(f"# SNS topic {arn}")


def check_deployed(uri):
    conf = settings()
    stack = client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    check(stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), f"stack {stack['StackStatus']}")
    template = deployed_template()
    want = expected_routes()
    fns = functions()

    # Functions: image by digest, its command, role, environment, concurrency.
    check(set(fns) == set(want), f"functions {sorted(fns)} != {sorted(want)}")
    role_of = {}
    for name, f in fns.items():
        c = f["Configuration"]
        check(c["PackageType"] == "Image", f"{name}: PackageType {c['PackageType']}")
        check(f["Code"]["ImageUri"] == uri, f"{name}: ImageUri {f['Code']['ImageUri']} != {uri}")
        command = c.get("ImageConfigResponse", {}).get("ImageConfig", {}).get("Command")
        check(command == [name], f"{name}: ImageConfig.Command {command} != [{name!r}]")
        check(c["CodeSha256"] == uri.rsplit("sha256:", 1)[1],
              f"{name}: CodeSha256 {c['CodeSha256']} is not the image digest (was ECR consulted?)")
        env = c.get("Environment", {}).get("Variables", {})
        want_env = {"CORS_ALLOW_ORIGINS": conf["CORS_ALLOW_ORIGINS"], "RUST_LOG": "info"}
        if name == "users":
            want_env["USERS_TABLE"] = f"{SERVICE}-{STAGE}-users"
        if name in ("users", "authorizer"):
            want_env |= {"AUTH_ISSUER": conf["AUTH_ISSUER"], "AUTH_AUDIENCE": conf["AUTH_AUDIENCE"]}
        check(env == want_env, f"{name}: environment {env} != {want_env}")
        role_of[name] = c["Role"].rsplit("/", 1)[1]
        print(f"# {name}: {f['Code']['ImageUri']} command {command} role {role_of[name]}")
    reserved = client("lambda").get_function_concurrency(FunctionName=function_name("users"))
    check(reserved.get("ReservedConcurrentExecutions") == int(conf["USERS_RESERVED_CONCURRENCY"]),
          f"users reserved concurrency {reserved}")
    print(f"# users: reserved concurrency {reserved['ReservedConcurrentExecutions']}")
    props = {r["Properties"]["FunctionName"]: r["Properties"] for r in template["Resources"].values()
             if r["Type"] == "AWS::Lambda::Function"}
    for name in fns:
        mode = props[function_name(name)].get("TracingConfig", {}).get("Mode")
        check(mode == "Active", f"{name}: template TracingConfig {mode}")

    # Roles: users alone has DynamoDB, exactly its calls on its table.
    iam = client("iam")
    users_role = f"{SERVICE}-{STAGE}-{os.environ['AWS_REGION']}-usersRole"
    check(role_of["users"] == users_role, f"users runs as {role_of['users']}")
    others = {r for n, r in role_of.items() if n != "users"}
    check(len(others) == 1 and users_role not in others, f"other functions' roles: {others}")
    table_arn = client("dynamodb").describe_table(TableName=f"{SERVICE}-{STAGE}-users")["Table"]["TableArn"]
    for role in {users_role} | others:
        statements = []
        for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            doc = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
            doc = policy_document(doc)
            stmts = doc["Statement"]
            statements += stmts if isinstance(stmts, list) else [stmts]
        attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        check(not attached, f"{role}: managed policies {attached}")
        as_list = lambda v: v if isinstance(v, list) else [v]  # noqa: E731
        ddb = [s for s in statements if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]
        if role == users_role:
            actions = {a for s in ddb for a in as_list(s["Action"])}
            check(actions == USERS_DDB, f"{role}: DynamoDB actions {sorted(actions)}")
            resources = {r for s in ddb for r in as_list(s["Resource"])}
            check(resources == {table_arn}, f"{role}: DynamoDB on {resources}, not {table_arn}")
        else:
            check(not ddb, f"{role}: DynamoDB statements {ddb}")
        xray = {a for s in statements for a in as_list(s["Action"]) if a.startswith("xray:")}
        check(xray == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, f"{role}: X-Ray {xray}")
        print(f"# role {role}: {len(statements)} statements"
              + (f", DynamoDB {len(USERS_DDB)} actions on {table_arn}" if role == users_role else ", no DynamoDB"))

    # The table: keys the code expects, on demand.
    t = client("dynamodb").describe_table(TableName=f"{SERVICE}-{STAGE}-users")["Table"]
    keys = [(k["AttributeName"], k["KeyType"]) for k in t["KeySchema"]]
    check(keys == [("pk", "HASH"), ("sk", "RANGE")], f"table keys {keys}")
    attrs = sorted((a["AttributeName"], a["AttributeType"]) for a in t["AttributeDefinitions"])
    check(attrs == [("pk", "S"), ("sk", "S")], f"table attributes {attrs}")
    billing = t.get("BillingModeSummary", {}).get("BillingMode")
    check(billing == "PAY_PER_REQUEST", f"table billing {billing}")
    check(not t.get("GlobalSecondaryIndexes") and not t.get("LocalSecondaryIndexes"), "table has indexes")
    print(f"# table {t['TableName']}: pk HASH + sk RANGE, {billing}")

    # API Gateway: every route, its method and the function it invokes.
    api = rest_api()
    got = routes(api["id"])
    want_all = {route: fn for fn, rs in want.items() for route in rs}
    preflights = {("OPTIONS", path) for _, path in want_all}
    check(set(got) == set(want_all) | preflights,
          f"methods: missing {sorted(set(want_all) | preflights - set(got))}, "
          f"unexpected {sorted(set(got) - set(want_all) - preflights)}")
    for (method, path), fn in sorted(want_all.items()):
        integ = got[(method, path)]["methodIntegration"]
        arn = fns[fn]["Configuration"]["FunctionArn"]
        check(integ["type"] == "AWS_PROXY", f"{method} {path}: integration {integ['type']}")
        check(f"/functions/{arn}/invocations" in integ["uri"], f"{method} {path}: {integ['uri']} does not invoke {fn}")
        print(f"# {method:7} {path} -> {fn}")
    for route in preflights:
        integ = got[route]["methodIntegration"]
        check(integ["type"] == "MOCK", f"OPTIONS {route[1]}: {integ['type']}")
    print(f"# OPTIONS on {len(preflights)} paths: MOCK")

    # The authorizer on exactly the protected methods. moto 5.2.1 keeps each
    # method's authorizationType, but its CloudFormation creates no
    # AWS::ApiGateway::Authorizer (get_authorizers is empty) and drops the
    # method's AuthorizerId: those two are read from the deployed template
    # instead (what CloudFormation was given), and the live API is checked
    # for what moto does keep.
    protected = protected_routes()
    check(protected, "functions.yml protects no method")
    for route, method in sorted(got.items()):
        kind = method.get("authorizationType", "NONE")
        want_kind = "CUSTOM" if route in protected else "NONE"
        check(kind == want_kind, f"{route}: authorizationType {kind}, not {want_kind}")
    authorizers = {k: r["Properties"] for k, r in template["Resources"].items()
                   if r["Type"] == "AWS::ApiGateway::Authorizer"}
    check(len(authorizers) == 1, f"template authorizers {sorted(authorizers)}")
    ((auth_id, auth),) = authorizers.items()
    check((auth["Type"], auth["IdentitySource"], auth["AuthorizerResultTtlInSeconds"]) ==
          ("TOKEN", "method.request.header.Authorization", 300), f"template authorizer {auth}")
    check('"AuthorizerLambdaFunction"' in json.dumps(auth["AuthorizerUri"]),
          f"template authorizer {auth['AuthorizerUri']} does not invoke the authorizer function")
    for r in template["Resources"].values():
        if r["Type"] == "AWS::ApiGateway::Method" and r["Properties"]["AuthorizationType"] == "CUSTOM":
            check(r["Properties"].get("AuthorizerId") == {"Ref": auth_id},
                  f"template method {r['Properties']['HttpMethod']}: AuthorizerId {r['Properties'].get('AuthorizerId')}")
    print(f"# authorizationType CUSTOM on the {len(protected)} protected methods, NONE on the other "
          f"{len(got) - len(protected)}; template: {auth_id} (TOKEN, Authorization, 300 s)")
    check_edge(template, conf)


def check_edge(template, conf, quiet=False):
    """The stage, the gateway responses and the alarms, in the deployed template."""
    say = (lambda *_: None) if quiet else print
    res = template["Resources"]
    of_type = lambda t: {k: v for k, v in res.items() if v["Type"] == t}  # noqa: E731
    origins = conf["CORS_ALLOW_ORIGINS"].split(",")

    (stage,) = of_type("AWS::ApiGateway::Stage").values()
    p = stage["Properties"]
    check(p["StageName"] == STAGE, f"stage {p['StageName']}")
    deployments = of_type("AWS::ApiGateway::Deployment")
    check(len(deployments) == 1 and p["DeploymentId"] == {"Ref": next(iter(deployments))},
          f"stage deployment {p.get('DeploymentId')} of {sorted(deployments)}")
    (deployment,) = deployments.values()
    check("StageName" not in deployment["Properties"], "the Deployment still names a stage")
    # A deployment snapshots the API: it must come after the gateway responses.
    waits = set(deployment.get("DependsOn", []))
    late = sorted(set(of_type("AWS::ApiGateway::GatewayResponse")) - waits)
    check(not late, f"the Deployment does not wait for {late}")
    check(p["TracingEnabled"] is True, "stage tracing")
    (ms,) = p["MethodSettings"]
    check((ms["ResourcePath"], ms["HttpMethod"]) == ("/*", "*"), f"method settings scope {ms}")
    throttle = (ms["ThrottlingRateLimit"], ms["ThrottlingBurstLimit"])
    want = (float(conf["API_THROTTLE_RATE"]), int(conf["API_THROTTLE_BURST"]))
    check(tuple(float(x) for x in throttle) == (want[0], float(want[1])), f"throttling {throttle} != {want}")
    check(ms["MetricsEnabled"] is True, "stage metrics")
    log = p["AccessLogSetting"]
    check(log["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}, f"access log to {log}")
    # JSON once API Gateway has put a value (a number, or a string) in each
    # $context variable.
    fields = set(json.loads(re.sub(r"\$context\.[A-Za-z.]+", "0", log["Format"])))
    check(ACCESS_LOG_FIELDS <= fields, f"access log lacks {sorted(ACCESS_LOG_FIELDS - fields)}")
    say(f"# stage {STAGE}: throttling {want[0]:g}/s burst {want[1]}, tracing, metrics, "
          f"JSON access log ({len(fields)} fields)")
    group = res["ApiAccessLogGroup"]["Properties"]
    groups = client("logs").describe_log_groups(logGroupNamePrefix=group["LogGroupName"])["logGroups"]
    check([g.get("retentionInDays") for g in groups] == [14], f"access log group {groups}")
    say(f"# access log group {group['LogGroupName']}: 14 days")

    responses = {r["Properties"]["ResponseType"]: evaluate(r["Properties"], template)
                 for r in of_type("AWS::ApiGateway::GatewayResponse").values()}
    check(set(responses) == GATEWAY_RESPONSES, f"gateway responses {sorted(responses)}")
    for kind, r in sorted(responses.items()):
        headers = r["ResponseParameters"]
        allow = headers["gatewayresponse.header.Access-Control-Allow-Origin"]
        check(allow == f"'{origins[0]}'", f"{kind}: Access-Control-Allow-Origin {allow}, not the first origin")
        body = r["ResponseTemplates"]["application/json"]
        if kind == "MISSING_AUTHENTICATION_TOKEN":
            check(r.get("StatusCode") == "404" and json.loads(body) == {"message": "Not Found"},
                  f"{kind}: {r.get('StatusCode')} {body}")
        else:
            check(body == '{"message":$context.error.messageString}', f"{kind}: body {body}")
    say(f"# gateway responses {', '.join(sorted(responses))}: {{\"message\"}}, "
          f"Access-Control-Allow-Origin {origins[0]}")

    alarms = {a["Properties"]["MetricName"]: evaluate(a["Properties"], template)
              for a in of_type("AWS::CloudWatch::Alarm").values()}
    check(set(alarms) == {"5XXError", "Latency", "Throttles"}, f"alarms on {sorted(alarms)}")
    for metric, a in alarms.items():
        check(a["AlarmActions"] == [conf["ALARM_TOPIC_ARN"]] == a["OKActions"],
              f"{metric} alarm actions {a['AlarmActions']}")
    check(alarms["Latency"]["ExtendedStatistic"] == "p99", "latency alarm is not p99")
    check(alarms["5XXError"]["Statistic"] == "Average", "5xx alarm is not a rate")
    check({d["Value"] for d in alarms["Throttles"]["Dimensions"]} == {function_name("users")},
          "throttles alarm is not on users")
    say(f"# alarms on {', '.join(sorted(alarms))} notify {conf['ALARM_TOPIC_ARN']}")


def check_edge_bites():
    """check_edge fails on a deployed template with one edge setting wrong."""
    import copy
    conf = settings()
    template = deployed_template()
    check_edge(template, conf, quiet=True)

    def stage(t):
        return next(r for r in t["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage")["Properties"]

    def response(t, kind):
        return next(r for r in t["Resources"].values() if r["Type"] == "AWS::ApiGateway::GatewayResponse"
                    and r["Properties"]["ResponseType"] == kind)["Properties"]

    def alarm(t, metric):
        return next(r for r in t["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"
                    and r["Properties"]["MetricName"] == metric)["Properties"]

    def drop_response(t, kind):
        (key,) = [k for k, r in t["Resources"].items() if r["Type"] == "AWS::ApiGateway::GatewayResponse"
                  and r["Properties"]["ResponseType"] == kind]
        del t["Resources"][key]

    mutations = {
        "default throttling rate": lambda t: stage(t)["MethodSettings"][0].update(ThrottlingRateLimit=100),
        "throttling on one path only": lambda t: stage(t)["MethodSettings"][0].update(ResourcePath="/ping"),
        "no stage tracing": lambda t: stage(t).update(TracingEnabled=False),
        "access log without latency": lambda t: stage(t)["AccessLogSetting"].update(
            Format=stage(t)["AccessLogSetting"]["Format"].replace('"latencyMs"', '"latency"')),
        "no THROTTLED response": lambda t: drop_response(t, "THROTTLED"),
        "deployment before the responses": lambda t: next(
            r for r in t["Resources"].values() if r["Type"] == "AWS::ApiGateway::Deployment"
        )["DependsOn"].remove("GatewayResponseDefault4XX"),
        "403 on unknown paths": lambda t: response(t, "MISSING_AUTHENTICATION_TOKEN").update(StatusCode="403"),
        "* on error responses": lambda t: response(t, "DEFAULT_4XX")["ResponseParameters"].update(
            {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}),
        "plain-text 5xx body": lambda t: response(t, "DEFAULT_5XX")["ResponseTemplates"].update(
            {"application/json": "$context.error.messageString"}),
        "alarm without actions": lambda t: alarm(t, "Latency").update(AlarmActions={"Ref": "AWS::NoValue"}),
        "p90 latency alarm": lambda t: alarm(t, "Latency").update(ExtendedStatistic="p90"),
    }
    for name, mutate in mutations.items():
        broken = copy.deepcopy(template)
        mutate(broken)
        try:
            check_edge(broken, conf, quiet=True)
        except Failed as e:
            print(f"# caught {name}: {e}")
            continue
        raise Failed(f"the edge checks pass a template with {name}")


def snapshot():
    """What the update checks compare with."""
    stack = client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    table = client("dynamodb").describe_table(TableName=f"{SERVICE}-{STAGE}-users")["Table"]
    return {
        "stack": {"id": stack["StackId"], "status": stack["StackStatus"]},
        "api": rest_api()["id"],
        "table": str(table["CreationDateTime"]),
        "template": deployed_template(),
        "functions": {n: {"arn": f["Configuration"]["FunctionArn"], "uri": f["Code"]["ImageUri"],
                          "sha": f["Configuration"]["CodeSha256"]}
                      for n, f in functions().items()},
    }


def check_snapshot(path):
    with open(path, "w") as f:
        json.dump(snapshot(), f)


def check_function_updated(path, name, uri):
    with open(path) as f:
        before = json.load(f)
    now = snapshot()
    for fn, was in before["functions"].items():
        is_ = now["functions"][fn]
        if fn == name:
            check(is_["uri"] == uri and is_["sha"] == uri.rsplit("sha256:", 1)[1],
                  f"{fn}: {is_} is not at {uri}")
            check(was["uri"] != uri, f"{fn} was already at {uri}")
        else:
            check(is_ == was, f"{fn} changed: {was} -> {is_}")
    check(now["stack"] == before["stack"] and now["template"] == before["template"],
          "deploy -f touched the stack")
    print(f"# {name} now at {uri}; other functions and the stack unchanged")


def check_redeployed(path):
    with open(path) as f:
        before = json.load(f)
    now = snapshot()
    check(now["stack"]["id"] == before["stack"]["id"], "the stack was replaced")
    # moto keeps no LastUpdatedTime: the stack's template is the evidence.
    check(now["stack"]["status"] == "UPDATE_COMPLETE", f"stack {now['stack']['status']}")
    check(now["template"] != before["template"], "the stack's template did not change")
    check(now["api"] == before["api"], "the REST API was replaced")
    check(now["table"] == before["table"], "the table was replaced")
    for fn, was in before["functions"].items():
        check(now["functions"][fn]["arn"] == was["arn"], f"{fn} was replaced")
    old = [k for k, r in before["template"]["Resources"].items() if r["Type"] == "AWS::ApiGateway::Deployment"]
    new = [k for k, r in now["template"]["Resources"].items() if r["Type"] == "AWS::ApiGateway::Deployment"]
    check(old != new, f"the API was not redeployed (deployment {old})")
    print(f"# stack updated in place (API {now['api']}, table kept); deployment {old[0]} -> {new[0]}")


def check_removed():
    cfn = client("cloudformation")
    live = [s for s in cfn.list_stacks()["StackSummaries"]
            if s["StackName"] == STACK and s["StackStatus"] != "DELETE_COMPLETE"]
    check(not live, f"stack still there: {live}")
    check(not functions(), "functions still there")
    # Not checked: the REST API. moto's CloudFormation cannot delete one
    # (moto.apigateway.models.RestAPI has no delete_from_cloudformation_json),
    # so it outlives the stack there; on AWS it goes with the stack.
    roles = [r["RoleName"] for r in client("iam").list_roles()["Roles"] if r["RoleName"].startswith(STACK)]
    check(not roles, f"roles still there: {roles}")
    t = client("dynamodb").describe_table(TableName=f"{SERVICE}-{STAGE}-users")["Table"]
    check(t["TableStatus"] == "ACTIVE", f"table {t['TableStatus']}")
    print(f"# stack, functions and roles gone; table {t['TableName']} kept "
          "(the REST API is not checked: moto cannot delete it)")


CHECKS = {
    "pinned": check_pinned,              # FUNCTIONS_YML URI
    "ecr": check_ecr,                    # REPOSITORY DIGEST MANIFEST_FILE (creates them)
    "topic": check_topic,                # NAME (creates it)
    "deployed": check_deployed,          # IMAGE_URI
    "edge-bites": check_edge_bites,
    "snapshot": check_snapshot,          # OUT_FILE
    "function-updated": check_function_updated,  # SNAPSHOT FUNCTION IMAGE_URI
    "redeployed": check_redeployed,      # SNAPSHOT
    "removed": check_removed,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in CHECKS:
        sys.exit(f"usage: rehearsal_checks.py {{{'|'.join(CHECKS)}}} ARGS...")
    try:
        CHECKS[sys.argv[1]](*sys.argv[2:])
    except Failed as e:
        sys.exit(f"FAIL: {e}")
