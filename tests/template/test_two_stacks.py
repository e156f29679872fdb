"""Two teams, one account and region: the template deployed twice into moto's CloudFormation.

Every physical name (tables, queues, secrets, functions, roles, log groups, alarms, the layer,
the REST API's name) must differ between the stacks, and each stack's functions, event sources
and permissions must be wired to its own resources only. No stack may set the account-wide
API Gateway logs role unless asked to.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tests.template.cloudformation import Deployed, deploy, function_role, functions, statements

TEAMS = ("paysandbox-shop", "paysandbox-billing")


@pytest.fixture(scope="module")
def stacks() -> Iterator[tuple[Deployed, Deployed]]:
    with mock_aws():
        yield deploy(stack_name=TEAMS[0]), deploy(stack_name=TEAMS[1])


def _names(d: Deployed) -> dict[str, str]:
    """Logical id -> physical id, for every resource moto reports one for (it reports none for
    layer versions and a few permissions: the layer is checked by name below)."""
    return {logical: physical for logical, physical in d.physical.items() if logical and physical}


def test_no_physical_name_is_shared_between_the_two_stacks(stacks: tuple[Deployed, Deployed]) -> None:
    shop, billing = stacks
    ours, theirs = _names(shop), _names(billing)
    assert len(ours) > 30 and set(ours) == set(theirs)
    shared = {logical: name for logical, name in ours.items() if theirs[logical] == name}
    assert shared == {}
    # Names moto does not show: the layer's (moto's CloudFormation ignores LayerName and makes up
    # one; without a LayerName SAM names the layer after its logical id, one name for every stack),
    # and the REST API's.
    for d in stacks:
        (layer,) = d.of_type("AWS::Lambda::LayerVersion").values()
        assert layer["Properties"]["LayerName"] == {"Fn::Sub": f"{d.stack_name}-common"}  # SAM resolved it
        assert d.translated["Resources"]["Api"]["Properties"]["Name"] == {"Ref": "AWS::StackName"}
    lambda_client = boto3.client("lambda")
    services = {
        lambda_client.get_function_configuration(FunctionName=d.physical[name])["Environment"]["Variables"][
            "POWERTOOLS_SERVICE_NAME"
        ]
        for d in stacks
        for name in functions(d)
    }
    assert services == set(TEAMS)  # one metrics dimension per stack


def _arns(d: Deployed) -> set[str]:
    """ARNs of the stack's tables (and their streams), queues and secrets."""
    dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
    arns = set()
    for name in d.of_type("AWS::DynamoDB::Table"):
        table = dynamodb.describe_table(TableName=d.physical[name])["Table"]
        arns |= {table["TableArn"], table.get("LatestStreamArn", "")} - {""}
    for name in d.of_type("AWS::SQS::Queue"):
        arns.add(
            sqs.get_queue_attributes(QueueUrl=d.physical[name], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        )
    arns |= {d.physical[name] for name in d.of_type("AWS::SecretsManager::Secret")}
    return arns


def test_each_stack_is_wired_to_its_own_resources_only(stacks: tuple[Deployed, Deployed]) -> None:
    lambda_client = boto3.client("lambda")
    for d, other in (stacks, stacks[::-1]):
        own, foreign = _arns(d), _arns(other)
        assert own and not own & foreign
        for name in functions(d):
            env = lambda_client.get_function_configuration(FunctionName=d.physical[name])["Environment"]["Variables"]
            assert env["PAYMENTS_TABLE"] == d.physical["Payments"], (d.stack_name, name)
            assert env["WEBHOOK_LOGS_TABLE"] == d.physical["WebhookLogs"], (d.stack_name, name)
            assert env["WEBHOOK_RETRY_QUEUE_URL"] == d.physical["WebhookRetryQueue"], (d.stack_name, name)
            assert env["WEBHOOK_DEAD_LETTER_QUEUE_URL"] == d.physical["WebhookDeadLetterQueue"], (d.stack_name, name)
            secrets = {env["WEBHOOK_SECRET_ARN"], env["SERVICE_AUTH_TOKEN_ARN"]}
            assert secrets == {d.physical["WebhookSecret"], d.physical["ServiceAuthToken"]}, (d.stack_name, name)
            granted = {r for s in statements(function_role(d, name)) for r in s["Resource"]}
            assert not {r.removesuffix("/index/*").removesuffix("/stream/*") for r in granted} & foreign, name
        mappings = lambda_client.list_event_source_mappings(FunctionName=d.physical["WebhookSenderFunction"])
        sources = {m["EventSourceArn"] for m in mappings["EventSourceMappings"]}
        assert len(sources) == 2 and sources <= own, d.stack_name


def test_no_stack_sets_the_account_wide_api_gateway_logs_role_by_default(stacks: tuple[Deployed, Deployed]) -> None:
    for d in stacks:
        assert d.parameter("ConfigureApiGatewayLogsRole") == "false"
        assert d.translated["Resources"]["ApiGatewayAccount"]["Condition"] == "ConfigureApiGatewayAccount"
        assert "ApiGatewayLogsRole" not in d.physical  # the condition held: the role was not created
    assert not boto3.client("iam").list_roles(PathPrefix="/")["Roles"] or all(
        "ApiGatewayLogsRole" not in role["RoleName"] for role in boto3.client("iam").list_roles()["Roles"]
    )


def test_deleting_a_stack_keeps_payments_queues_and_secrets_and_prod_tables_are_protected() -> None:
    with mock_aws():
        dev = deploy(stack_name="paysandbox-dev")
        prod = deploy({"Stage": "prod"}, stack_name="paysandbox-prod")
        dynamodb, sqs, secrets = boto3.client("dynamodb"), boto3.client("sqs"), boto3.client("secretsmanager")
        dynamodb.put_item(TableName=dev.physical["Payments"], Item={"payment_id": {"S": "inv_kept"}})
        sqs.send_message(QueueUrl=dev.physical["WebhookRetryQueue"], MessageBody='{"payment_id": "inv_kept"}')
        secret = secrets.get_secret_value(SecretId=dev.physical["WebhookSecret"])["SecretString"]

        boto3.client("cloudformation").delete_stack(StackName=dev.stack_name)

        item = dynamodb.get_item(TableName=dev.physical["Payments"], Key={"payment_id": {"S": "inv_kept"}})
        assert item["Item"]["payment_id"] == {"S": "inv_kept"}
        for name in dev.of_type("AWS::DynamoDB::Table"):
            dynamodb.describe_table(TableName=dev.physical[name])
        attributes = sqs.get_queue_attributes(
            QueueUrl=dev.physical["WebhookRetryQueue"], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "1"
        for name in dev.of_type("AWS::SQS::Queue"):
            sqs.get_queue_attributes(QueueUrl=dev.physical[name])
        assert secrets.get_secret_value(SecretId=dev.physical["WebhookSecret"])["SecretString"] == secret
        secrets.get_secret_value(SecretId=dev.physical["ServiceAuthToken"])

        # DeletionProtection=auto: on for the prod stage only, so a DeleteTable is refused there.
        for d, protected in ((dev, False), (prod, True)):
            for name in d.of_type("AWS::DynamoDB::Table"):
                table = dynamodb.describe_table(TableName=d.physical[name])["Table"]
                assert table["DeletionProtectionEnabled"] is protected, (d.stack_name, name)
        with pytest.raises(dynamodb.exceptions.ClientError):
            dynamodb.delete_table(TableName=prod.physical["Payments"])


def test_replacing_or_deleting_never_drops_data_and_tables_have_point_in_time_recovery() -> None:
    """What moto cannot show (it ignores UpdateReplacePolicy and PITR) is read from the translation."""
    from sandbox.template import load_template
    from tests.template.cloudformation import translate

    translated = translate(load_template())
    kept = {"AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::SecretsManager::Secret"}
    resources = {n: r for n, r in translated["Resources"].items() if r["Type"] in kept}
    assert len(resources) == 8  # Payments, WebhookLogs, Teams, 3 queues, 2 secrets
    for name, resource in resources.items():
        assert (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")) == ("Retain", "Retain"), name
        if resource["Type"] == "AWS::DynamoDB::Table":
            assert resource["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
