"""Tests of tests/deploy_template.py on small hand-made templates (the deploy
suite runs it on the real packaged ones): `python3 -m unittest
tests/test_deploy_template.py` from the repository root."""

import contextlib
import io
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_template as dt  # noqa: E402


def function(name, env):
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {"FunctionName": f"api-dev-{name}", "Environment": {"Variables": env},
                       "MemorySize": 256, "Timeout": 29},
    }


COMMON = {"CORS_ALLOW_ORIGINS": "*", "RUST_LOG": "info"}
RESOURCES = {
    "ApiGatewayRestApi": {"Type": "AWS::ApiGateway::RestApi", "Properties": {}},
    "Api": {"Type": "AWS::ApiGateway::Resource",
            "Properties": {"ParentId": {"Fn::GetAtt": ["ApiGatewayRestApi", "RootResourceId"]},
                           "PathPart": "api"}},
    "ApiUsers": {"Type": "AWS::ApiGateway::Resource",
                 "Properties": {"ParentId": {"Ref": "Api"}, "PathPart": "users"}},
    "GetUsers": {"Type": "AWS::ApiGateway::Method",
                 "Properties": {"HttpMethod": "GET", "ResourceId": {"Ref": "ApiUsers"}}},
    "GetRoot": {"Type": "AWS::ApiGateway::Method",
                "Properties": {"HttpMethod": "GET", "ResourceId": {"Fn::GetAtt": ["ApiGatewayRestApi", "RootResourceId"]}}},
    "HealthLambdaFunction": function("health", COMMON),
    "UsersLambdaFunction": function("users", {**COMMON, "USERS_TABLE": {"Ref": "UsersTable"},
                                              "AUTH_ISSUER": "", "AUTH_AUDIENCE": ""}),
}


def run(check, resources, *args):
    """(passed, output) of one check."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            check(dt.Template(resources, {}), *args)
        except SystemExit as e:
            return False, str(e)
    return True, out.getvalue()


class TemplateTest(unittest.TestCase):
    def test_routes_rebuild_paths_from_the_resource_tree(self):
        routes = dt.Template(RESOURCES, {}).routes()
        self.assertEqual(set(routes), {("GET", "/api/users"), ("GET", "/")})

    def test_functions_are_named_by_the_last_part_of_their_name(self):
        self.assertEqual(set(dt.Template(RESOURCES, {}).functions()), {"health", "users"})

    def test_environment_passes_and_catches_a_table_on_health(self):
        self.assertTrue(run(dt.check_environment, RESOURCES)[0])
        widened = {**RESOURCES, "HealthLambdaFunction": function("health", {**COMMON, "USERS_TABLE": "t"})}
        passed, message = run(dt.check_environment, widened)
        self.assertFalse(passed)
        self.assertTrue(message.startswith("FAIL: health: environment"), message)

    def test_name_prefix(self):
        self.assertTrue(run(dt.check_name_prefix, RESOURCES, "api-dev-")[0])
        passed, message = run(dt.check_name_prefix, RESOURCES, "api-prod-")
        self.assertEqual((passed, message), (False, "FAIL: api-dev-health does not start with api-prod-"))

    def test_expected_routes_read_functions_yml(self):
        expected = dt.expected_routes(os.path.join(dt.ROOT, "functions.yml"))
        self.assertEqual(expected["health"], {"/ping": ["GET", "ANY"]})

    def test_protected_routes_are_the_events_with_an_authorizer(self):
        _, protected = dt.read_functions_yml(os.path.join(dt.ROOT, "functions.yml"))
        self.assertEqual(protected.get(("GET", "/api/v1/users")), "authorizer")
        self.assertEqual(protected.get(("ANY", "/api/v1/users/{id}")), "authorizer")
        self.assertNotIn(("GET", "/ping"), protected)
        self.assertNotIn(("ANY", "/ping"), protected)

    def test_an_unknown_mutation_is_refused(self):
        template = {"Resources": {
            "UsersRole": {"Properties": {"Policies": [{"PolicyDocument": {"Statement": [
                {"Action": ["dynamodb:GetItem"]}]}}]}},
            "IamRoleLambdaExecution": {"Properties": {"Policies": [{"PolicyDocument": {"Statement": []}}]}},
            "UsersTable": {"Properties": {}},
        }}
        with self.assertRaises(SystemExit) as raised:
            dt.mutate(template, "nonsense")
        self.assertEqual(str(raised.exception), "FAIL: unknown mutation nonsense")


if __name__ == "__main__":
    unittest.main()
