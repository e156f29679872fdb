"""Offline SAM translation and moto CloudFormation deployment of ``template.yaml``.

What is real here: the translation is aws-sam-translator's own ``transform`` (the code the
``AWS::Serverless-2016-10-31`` transform runs); the deployment is moto's CloudFormation
``create_stack``, which resolves Ref/Sub/If/GetAtt/Conditions and creates the resources through
moto's service backends, so the assertions read them back with the ordinary AWS APIs.

What is stood in for, and why:
- The managed-policy map. The translator would page through IAM's ``ListPolicies`` to turn
  policy *names* into ARNs; offline it gets the map the translator itself bundles
  (``samtranslator/internal/data/aws_managed_policies.json``). No IAM call is made.
- ``CodeUri``/``ContentUri``: ``sam build``/``sam package`` upload the code and rewrite these to
  S3 locations before the transform runs; here the real function and layer directories are
  zipped into a moto S3 bucket and the URIs point there.
- The REST API. moto cannot create an API Gateway REST API from the OpenAPI body SAM generates
  (nor ``AWS::ApiGateway::Stage``/``Account``), so every ``AWS::ApiGateway::*`` resource and
  whatever refers to one (the Lambda invoke permissions for API events, the API URL outputs)
  is left out of the moto stack. ``without_rest_api`` returns what it removed, and the tests
  check those parts on the translated template instead.
- Two resource types moto's CloudFormation does not implement: ``AWS::SecretsManager::Secret``
  and ``AWS::CloudWatch::Alarm``. ``register_missing_moto_resources`` teaches moto's
  CloudFormation to create them through moto's own Secrets Manager and CloudWatch backends
  (the same code the ``CreateSecret``/``PutMetricAlarm`` APIs run), so references to them resolve
  like in AWS (Ref of a secret is its ARN) and the alarms can be read back with
  ``DescribeAlarms``.
"""

from __future__ import annotations

import ast
import copy
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from sandbox.template import load_template, parameter_values, resolve_ifs
from tests.support import ROOT

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
CODE_BUCKET = "paysandbox-code"


class OfflineManagedPolicies:
    """Managed-policy loader for ``transform`` that never calls IAM (see module docstring)."""

    def load(self) -> dict[str, str]:
        from samtranslator.internal.managed_policies import get_bundled_managed_policy_map

        return get_bundled_managed_policy_map("aws") or {}


def zip_directory(directory: Path) -> bytes:
    """The directory's files in a zip, skipping caches (what ``sam package`` would upload)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()


def code_locations(template: dict[str, Any]) -> dict[str, str]:
    """Local code directory -> S3 key, for every function and layer of the SAM template."""
    keys = {}
    for name, resource in template["Resources"].items():
        props = resource.get("Properties") or {}
        local = props.get("CodeUri") or props.get("ContentUri")
        if isinstance(local, str) and not local.startswith("s3://"):
            keys[local] = f"{name}.zip"
    return keys


def translate(
    template: dict[str, Any], parameters: dict[str, str] | None = None, stack_name: str = "paysandbox-test"
) -> dict[str, Any]:
    """The SAM template as plain CloudFormation, code pointing at ``CODE_BUCKET``."""
    from samtranslator.translator.transform import transform

    sam = copy.deepcopy(template)
    keys = code_locations(sam)
    for resource in sam["Resources"].values():
        props = resource.get("Properties") or {}
        for uri in ("CodeUri", "ContentUri"):
            if isinstance(props.get(uri), str) and props[uri] in keys:
                props[uri] = f"s3://{CODE_BUCKET}/{keys[props[uri]]}"
    pseudo = {
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::StackName": stack_name,
    }
    return transform(sam, {**pseudo, **(parameters or {})}, OfflineManagedPolicies())


def upload_code(s3: Any, template: dict[str, Any]) -> None:
    """Zip every function's and layer's directory into the moto bucket the translation names."""
    if not any(b["Name"] == CODE_BUCKET for b in s3.list_buckets()["Buckets"]):  # a second stack reuses it
        s3.create_bucket(Bucket=CODE_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    for local, key in code_locations(template).items():
        s3.put_object(Bucket=CODE_BUCKET, Key=key, Body=zip_directory(ROOT / local))


def _references(node: Any) -> set[str]:
    """Logical ids a CloudFormation fragment refers to (Ref, GetAtt, ${...} in Sub, DependsOn)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value.split(".", 1)[0] if isinstance(value, str) else value[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found.update(part.split("}", 1)[0].split(".", 1)[0] for part in text.split("${")[1:])
                found.update(_references(value))
            elif key == "DependsOn":
                found.update([value] if isinstance(value, str) else value)
            else:
                found.update(_references(value))
    elif isinstance(node, list):
        for item in node:
            found.update(_references(item))
    return found


def without_rest_api(template: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The template minus API Gateway resources and everything that refers to them.

    Returns the reduced template and the logical ids / output names removed.
    """
    reduced = copy.deepcopy(template)
    removed = [name for name, res in reduced["Resources"].items() if res["Type"].startswith("AWS::ApiGateway::")]
    changed = True
    while changed:
        changed = False
        for name, resource in list(reduced["Resources"].items()):
            if name in removed:
                del reduced["Resources"][name]
                changed = True
            elif _references(resource) & set(removed):
                removed.append(name)
                changed = True
    for name, output in list(reduced.get("Outputs", {}).items()):
        if _references(output) & set(removed):
            del reduced["Outputs"][name]
            removed.append(f"Outputs.{name}")
    return reduced, removed


def register_missing_moto_resources() -> None:
    """Teach moto's CloudFormation the two resource types it lacks (see module docstring)."""
    from moto.cloudformation import parsing
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core.common_models import CloudFormationModel
    from moto.secretsmanager.models import secretsmanager_backends

    if "AWS::CloudWatch::Alarm" in parsing.get_model_map():
        return

    class TemplateSecret(CloudFormationModel):
        def __init__(self, arn: str):
            self.arn = arn

        @property
        def physical_resource_id(self) -> str:
            return self.arn  # Ref of a secret is its ARN, as in AWS

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SecretsManager::Secret"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Id"

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> TemplateSecret:
            props = cloudformation_json["Properties"]
            backend = secretsmanager_backends[account_id][region_name]
            value = props.get("SecretString")
            if value is None:
                generate = props["GenerateSecretString"]
                value = backend.get_random_password(
                    password_length=int(generate.get("PasswordLength", 32)),
                    exclude_characters=generate.get("ExcludeCharacters", ""),
                    exclude_numbers=bool(generate.get("ExcludeNumbers", False)),
                    exclude_punctuation=bool(generate.get("ExcludePunctuation", False)),
                    exclude_uppercase=bool(generate.get("ExcludeUppercase", False)),
                    exclude_lowercase=bool(generate.get("ExcludeLowercase", False)),
                    include_space=bool(generate.get("IncludeSpace", False)),
                    require_each_included_type=bool(generate.get("RequireEachIncludedType", True)),
                )
                value = json.loads(value)["RandomPassword"]
            created = backend.create_secret(
                name=resource_name,
                secret_string=value,
                secret_binary=None,
                description=props.get("Description"),
                tags=props.get("Tags"),
                kms_key_id=props.get("KmsKeyId"),
                client_request_token=None,
                replica_regions=[],
                force_overwrite=False,
            )
            return cls(json.loads(created)["ARN"])

    class TemplateAlarm(CloudFormationModel):
        def __init__(self, name: str):
            self.name = name

        @property
        def physical_resource_id(self) -> str:
            return self.name  # Ref of an alarm is its name

        @staticmethod
        def cloudformation_name_type() -> str:
            return "AlarmName"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::CloudWatch::Alarm"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> TemplateAlarm:
            props = cloudformation_json["Properties"]
            cloudwatch_backends[account_id][region_name].put_metric_alarm(
                name=resource_name,
                namespace=props.get("Namespace"),
                metric_name=props.get("MetricName"),
                comparison_operator=props["ComparisonOperator"],
                evaluation_periods=int(props["EvaluationPeriods"]),
                period=int(props.get("Period", 60)),
                threshold=float(props["Threshold"]),
                statistic=props.get("Statistic"),
                description=props.get("AlarmDescription", ""),
                dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in props.get("Dimensions", [])],
                alarm_actions=props.get("AlarmActions", []),
                ok_actions=props.get("OKActions", []),
                insufficient_data_actions=props.get("InsufficientDataActions", []),
                datapoints_to_alarm=props.get("DatapointsToAlarm"),
                treat_missing_data=props.get("TreatMissingData"),
            )
            return cls(resource_name)

    # moto caches its list of CloudFormation models; rebuild it with the two above.
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()


# ---------------------------------------------------------------- deploying into moto

STACK = "paysandbox-test"


@dataclass
class Deployed:
    """One moto stack made from the translated template, and the handles to inspect it."""

    sam: dict[str, Any]  # template.yaml as written
    translated: dict[str, Any]  # plain CloudFormation from the SAM transform
    deployed: dict[str, Any]  # what went to moto (translated minus the REST API)
    removed: list[str]
    physical: dict[str, str]  # logical id -> physical id
    outputs: dict[str, str]
    parameters: dict[str, str] = field(default_factory=dict)
    stack_name: str = STACK

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.deployed["Resources"].items() if v["Type"] == resource_type}

    def parameter(self, name: str) -> str:
        return str(self.parameters.get(name, self.sam["Parameters"][name].get("Default", "")))


def deploy(parameters: dict[str, str] | None = None, stack_name: str = STACK) -> Deployed:
    """Translate template.yaml and create it as a moto stack (mock_aws must be active)."""
    register_missing_moto_resources()
    sam = load_template()
    translated = translate(sam, parameters, stack_name)
    deployed, removed = without_rest_api(translated)
    # moto's IAM cannot create a role whose Policies hold an Fn::If that picks AWS::NoValue
    # (it reads the policy as None): choose those branches here, as CloudFormation would.
    values = parameter_values(translated, parameters)
    for resource in deployed["Resources"].values():
        if resource["Type"] == "AWS::IAM::Role" and "Policies" in resource["Properties"]:
            resource["Properties"]["Policies"] = resolve_ifs(resource["Properties"]["Policies"], translated, values)
    upload_code(boto3.client("s3"), sam)
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(deployed),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    summaries = cloudformation.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    return Deployed(
        sam=sam,
        translated=translated,
        deployed=deployed,
        removed=removed,
        physical={r["LogicalResourceId"]: r["PhysicalResourceId"] for r in summaries},
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        parameters=parameters or {},
        stack_name=stack_name,
    )


def functions(d: Deployed) -> dict[str, dict[str, Any]]:
    return d.of_type("AWS::Lambda::Function")


def statements(role_name: str) -> list[dict[str, Any]]:
    iam = boto3.client("iam")
    statements = []
    for policy_name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
        if isinstance(document, str):
            # moto stores a CloudFormation role's inline policy as the repr of a dict.
            document = ast.literal_eval(document)
        for statement in document["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            statements.append({**statement, "Action": actions, "Resource": resources})
    return statements


def function_role(d: Deployed, function: str) -> str:
    role_ref = d.deployed["Resources"][function]["Properties"]["Role"]
    return d.physical[role_ref["Fn::GetAtt"][0]]
