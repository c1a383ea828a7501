"""moto's server for tests/rehearsal.sh, with two fixes to its CloudFormation.

Usage: python3 tests/rehearsal_moto.py PORT   (listens on 127.0.0.1:PORT)

moto 5.2.1 cannot deploy this stack as CloudFormation would. Both fixes are
made here, before the server starts, and only for the moto version they were
written against (another version refuses to start: re-check the two places
named below, then update MOTO_VERSION):

1. AWS::ApiGateway::Method (moto/apigateway/models.py,
   Method.create_from_cloudformation_json) reads Integration.IntegrationHttpMethod
   and Integration.Uri with [], so the MOCK integration of every CORS
   preflight (which has neither) fails the stack with a KeyError. Here they
   default to None, which put_integration accepts for MOCK (and still refuses
   for AWS_PROXY, HTTP, ...).
2. AWS::Lambda::Function (moto/awslambda/models.py,
   LambdaFunction.create_from_cloudformation_json and
   update_from_cloudformation_json) copies a fixed list of properties that
   lacks PackageType and ImageConfig: an image function would come out as a
   Zip function without its command. Here both are applied to the function
   moto created or updated.
"""

import os
import sys

import moto

MOTO_VERSION = "5.2.1"

if moto.__version__ != MOTO_VERSION:
    sys.exit(
        f"rehearsal_moto: moto {moto.__version__} installed, the fixes are for "
        f"{MOTO_VERSION}; see this file's docstring"
    )

from moto.apigateway.models import Method  # noqa: E402
from moto.awslambda.models import ImageConfig, LambdaFunction  # noqa: E402
from moto.server import main  # noqa: E402


def method_with_optional_integration_fields(original):
    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        integration = cloudformation_json["Properties"].get("Integration", {})
        integration.setdefault("IntegrationHttpMethod", None)
        integration.setdefault("Uri", None)
        return original.__func__(
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        )

    return classmethod(create)


def apply_image_properties(function, properties):
    function.package_type = properties.get("PackageType", "Zip")
    function.image_config = ImageConfig(properties.get("ImageConfig", {}))
    return function


def lambda_create_with_image(original):
    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        function = original.__func__(
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        return apply_image_properties(function, cloudformation_json["Properties"])

    return classmethod(create)


def lambda_update_with_image(original):
    def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        function = original.__func__(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )
        return apply_image_properties(function, cloudformation_json["Properties"])

    return classmethod(update)


Method.create_from_cloudformation_json = method_with_optional_integration_fields(
    Method.__dict__["create_from_cloudformation_json"]
)
LambdaFunction.create_from_cloudformation_json = lambda_create_with_image(
    LambdaFunction.__dict__["create_from_cloudformation_json"]
)
LambdaFunction.update_from_cloudformation_json = lambda_update_with_image(
    LambdaFunction.__dict__["update_from_cloudformation_json"]
)

if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: rehearsal_moto.py PORT")
    # A function's image must exist in (moto's) ECR, by digest, as on AWS.
    os.environ["MOTO_LAMBDA_STUB_ECR"] = "false"
    main(["-H", "127.0.0.1", "-p", sys.argv[1]])
