"""template.yaml translated by aws-sam-translator (offline) and deployed into moto's CloudFormation.

The assertions read the created resources back through the ordinary AWS APIs. What moto cannot
create (the REST API from SAM's OpenAPI body, its stage and the API Gateway account setting)
is left out of the moto stack and checked on the translated template instead; see
``tests/template/cloudformation.py`` for exactly what is stood in for and why.

Every check iterates over what the template declares (functions, tables, queues, event source
mappings), so resources added later are held to the same rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tests.template.cloudformation import STACK, Deployed, deploy, function_role, functions, statements


@pytest.fixture(scope="module")
def stack() -> Iterator[Deployed]:
    with mock_aws():
        # With the account-wide logs role on (off by default, see test_two_stacks.py), so that
        # every resource of the template is created here.
        yield deploy({"ConfigureApiGatewayLogsRole": "true"})


def _queue_arns(d: Deployed) -> dict[str, str]:
    sqs = boto3.client("sqs")
    arns = {}
    for name in d.of_type("AWS::SQS::Queue"):
        attributes = sqs.get_queue_attributes(QueueUrl=d.physical[name], AttributeNames=["QueueArn"])["Attributes"]
        arns[name] = attributes["QueueArn"]
    return arns


# ---------------------------------------------------------------- the whole stack


def test_everything_but_the_rest_api_is_created(stack: Deployed) -> None:
    removed_types = {stack.translated["Resources"][n]["Type"] for n in stack.removed if not n.startswith("Outputs.")}
    assert removed_types <= {"AWS::ApiGateway::RestApi", "AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage",
                             "AWS::ApiGateway::Account", "AWS::Lambda::Permission"}  # fmt: skip
    for name in stack.removed:
        if stack.translated["Resources"].get(name, {}).get("Type") == "AWS::Lambda::Permission":
            assert "apigateway" in json.dumps(stack.translated["Resources"][name]["Properties"]["Principal"])
    # moto created every remaining resource (none silently skipped as unsupported).
    assert set(stack.physical) == set(stack.deployed["Resources"])
    assert {"ApiUrl", "ConsoleUrl"} <= {n.removeprefix("Outputs.") for n in stack.removed}


def test_functions_run_python313_on_arm64_with_the_layer_and_tracing(stack: Deployed) -> None:
    # moto does not keep Layers/Architectures/TracingConfig, so these are read from the translation.
    layers = {n for n, r in stack.translated["Resources"].items() if r["Type"] == "AWS::Lambda::LayerVersion"}
    assert len(layers) == 1
    (layer,) = layers
    assert stack.translated["Resources"][layer]["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert functions(stack)
    for name, function in functions(stack).items():
        props = function["Properties"]
        assert props["Runtime"] == "python3.13", name
        assert props["Architectures"] == ["arm64"], name
        assert props["TracingConfig"] == {"Mode": "Active"}, name
        assert {"Ref": layer} in props["Layers"], name
        env = props["Environment"]["Variables"]
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "PaySandbox", name
        assert env["POWERTOOLS_SERVICE_NAME"] == {"Ref": "AWS::StackName"}, name  # metrics dimension per stack


# ---------------------------------------------------------------- data


def test_tables_have_the_templates_keys_indexes_ttl_and_stream(stack: Deployed) -> None:
    dynamodb = boto3.client("dynamodb")
    tables = stack.of_type("AWS::DynamoDB::Table")
    assert {"Payments", "WebhookLogs"} <= set(tables)
    for name, table in tables.items():
        props = table["Properties"]
        described = dynamodb.describe_table(TableName=stack.physical[name])["Table"]
        assert described["KeySchema"] == props["KeySchema"], name
        assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST", name
        indexes = {i["IndexName"]: i for i in described.get("GlobalSecondaryIndexes", [])}
        for index in props.get("GlobalSecondaryIndexes", []):
            assert indexes[index["IndexName"]]["KeySchema"] == index["KeySchema"], (name, index["IndexName"])
            assert indexes[index["IndexName"]]["Projection"] == index["Projection"], (name, index["IndexName"])
        # moto's CloudFormation ignores TimeToLiveSpecification, so TTL is read from the template.
        # Teams are configuration, not data: they stay until deleted.
        if name != "Teams":
            assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}, name

    payments = dynamodb.describe_table(TableName=stack.physical["Payments"])["Table"]
    assert payments["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert payments["LatestStreamArn"]
    indexes = {i["IndexName"]: i for i in payments["GlobalSecondaryIndexes"]}
    assert [k["AttributeName"] for k in indexes["by-expiry"]["KeySchema"]] == ["due_pk", "expires_at"]
    assert indexes["by-expiry"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert [k["AttributeName"] for k in indexes["by-status"]["KeySchema"]] == ["status_group", "created_at"]


def test_functions_get_table_names_and_secret_arns_never_secret_values(stack: Deployed) -> None:
    lambda_client = boto3.client("lambda")
    secrets = boto3.client("secretsmanager")
    secret_arns = {stack.physical[n] for n in stack.of_type("AWS::SecretsManager::Secret")}
    assert len(secret_arns) == 2  # neither existing ARN given: the template creates both
    values = {secrets.get_secret_value(SecretId=arn)["SecretString"] for arn in secret_arns}
    assert all(len(v) >= 32 for v in values)
    for name in functions(stack):
        env = lambda_client.get_function_configuration(FunctionName=stack.physical[name])["Environment"]["Variables"]
        assert env["PAYMENTS_TABLE"] == stack.physical["Payments"], name
        assert env["WEBHOOK_LOGS_TABLE"] == stack.physical["WebhookLogs"], name
        assert {env["WEBHOOK_SECRET_ARN"], env["SERVICE_AUTH_TOKEN_ARN"]} == secret_arns, name
        assert not values & {str(v) for v in env.values()}, f"{name} has a secret value in its environment"
    assert stack.outputs["WebhookSecretArn"] == stack.physical["WebhookSecret"]
    assert stack.outputs["ServiceAuthTokenArn"] == stack.physical["ServiceAuthToken"]
    assert not values & set(stack.outputs.values())


# ---------------------------------------------------------------- least privilege


def test_iam_policies_name_the_stacks_own_tables_queues_and_secrets_only(stack: Deployed) -> None:
    dynamodb = boto3.client("dynamodb")
    table_arns = {
        dynamodb.describe_table(TableName=stack.physical[n])["Table"]["TableArn"]
        for n in stack.of_type("AWS::DynamoDB::Table")
    }
    allowed = {
        "dynamodb": table_arns
        | {f"{arn}/index/*" for arn in table_arns}
        | {f"{arn}/stream/*" for arn in table_arns}
        | {
            dynamodb.describe_table(TableName=stack.physical[n])["Table"].get("LatestStreamArn", "")
            for n in stack.of_type("AWS::DynamoDB::Table")
        },
        "secretsmanager": {stack.physical[n] for n in stack.of_type("AWS::SecretsManager::Secret")},
        "sqs": set(_queue_arns(stack).values()),
    }
    secrets_read: dict[str, set[str]] = {}
    for name in functions(stack):
        granted = statements(function_role(stack, name))
        assert granted, name
        secrets_read[name] = set()
        for statement in granted:
            for action in statement["Action"]:
                service = action.split(":", 1)[0]
                assert action != "*" and not action.endswith(":*"), f"{name}: wildcard action {action}"
                if service in allowed:
                    assert "*" not in statement["Resource"], f"{name}: {action} on every resource"
                    assert set(statement["Resource"]) <= allowed[service], (name, action, statement["Resource"])
                if service == "secretsmanager":
                    secrets_read[name] |= set(statement["Resource"])
    # Each function reads at most the secrets it needs; the expirer needs none.
    assert secrets_read["ExpirerFunction"] == set()
    # The operator API checks the token; its console shows receivers the signing secret.
    assert secrets_read["ConfirmFunction"] == {stack.physical["ServiceAuthToken"], stack.physical["WebhookSecret"]}
    assert all(len(arns) <= 2 for arns in secrets_read.values())


def test_functions_keep_the_managed_policies_sam_adds(stack: Deployed) -> None:
    # moto does not record ManagedPolicyArns on roles; read them from the translation.
    for name in functions(stack):
        role = stack.translated["Resources"][__function_role_logical(stack, name)]
        arns = role["Properties"]["ManagedPolicyArns"]
        assert "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" in arns, name
        assert "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess" in arns, name


def __function_role_logical(d: Deployed, function: str) -> str:
    return str(d.deployed["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0])


# ---------------------------------------------------------------- events


def test_schedules_invoke_their_function(stack: Deployed) -> None:
    events = boto3.client("events")
    lambda_client = boto3.client("lambda")
    expected = {
        (fn, e["Properties"]["Schedule"])
        for fn, res in stack.sam["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
        for e in (res["Properties"].get("Events") or {}).values()
        if e["Type"] == "Schedule"
    }
    assert ("ExpirerFunction", "rate(1 minute)") in expected
    rules = {r["Name"]: r for r in events.list_rules()["Rules"]}
    found = set()
    for rule in rules.values():
        for target in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]:
            function = next(n for n in functions(stack) if target["Arn"].endswith(f":function:{stack.physical[n]}"))
            assert rule["State"] == "ENABLED"
            found.add((function, rule["ScheduleExpression"]))
            policy = json.loads(lambda_client.get_policy(FunctionName=stack.physical[function])["Policy"])
            principals = {json.dumps(s.get("Principal")) for s in policy["Statement"]}
            assert any("events.amazonaws.com" in p for p in principals), function
    assert found == expected


def test_event_source_mappings_are_deployed_as_declared(stack: Deployed) -> None:
    """Stream and queue consumers: filter, partial batch failures, bisect, bounded retries and an
    on-failure destination in this stack (the webhook sender's mappings once they exist)."""
    lambda_client = boto3.client("lambda")
    declared = stack.of_type("AWS::Lambda::EventSourceMapping")
    deployed = [
        m
        for n in functions(stack)
        for m in lambda_client.list_event_source_mappings(FunctionName=stack.physical[n])["EventSourceMappings"]
    ]
    assert len(deployed) == len(declared)
    queue_arns = set(_queue_arns(stack).values())
    for name, mapping in declared.items():
        props = mapping["Properties"]
        function = stack.physical[props["FunctionName"]["Ref"]]
        (live,) = [
            m
            for m in deployed
            if m["FunctionArn"].endswith(f":function:{function}") and m["UUID"] == stack.physical[name]
        ]
        assert "ReportBatchItemFailures" in (live.get("FunctionResponseTypes") or []), name
        for key in (
            "BatchSize",
            "MaximumBatchingWindowInSeconds",
            "BisectBatchOnFunctionError",
            "MaximumRetryAttempts",
        ):
            if key in props:
                assert live[key] == props[key], (name, key)
        if ":dynamodb:" in live["EventSourceArn"]:
            assert props.get("FilterCriteria"), f"{name}: a stream consumer must filter to the events it handles"
            assert live["FilterCriteria"] == props["FilterCriteria"], name
            assert live["BisectBatchOnFunctionError"] is True, name
            assert 0 <= live["MaximumRetryAttempts"] < 10_000, f"{name}: stream retries must be bounded"
            on_failure = live["DestinationConfig"]["OnFailure"]["Destination"]
            assert on_failure in queue_arns, f"{name}: failed stream batches must land in this stack's queue"
        else:
            assert live["EventSourceArn"] in queue_arns, name


def test_queues_have_redrive_policies_and_visibility_as_declared(stack: Deployed) -> None:
    sqs = boto3.client("sqs")
    arns = _queue_arns(stack)
    dead_letter_targets = set()
    for name, queue in stack.of_type("AWS::SQS::Queue").items():
        props = queue["Properties"]
        attributes = sqs.get_queue_attributes(QueueUrl=stack.physical[name], AttributeNames=["All"])["Attributes"]
        if "VisibilityTimeout" in props:
            assert int(attributes["VisibilityTimeout"]) == int(props["VisibilityTimeout"]), name
        if "RedrivePolicy" in props:
            redrive = json.loads(attributes["RedrivePolicy"])
            assert redrive["deadLetterTargetArn"] in arns.values(), name
            assert int(redrive["maxReceiveCount"]) == int(props["RedrivePolicy"]["maxReceiveCount"]), name
            dead_letter_targets.add(redrive["deadLetterTargetArn"])
    # A consumer's queue must outlast its function's timeout, or messages are redelivered mid-run.
    for name, mapping in stack.of_type("AWS::Lambda::EventSourceMapping").items():
        source = mapping["Properties"]["EventSourceArn"]
        queue = next((q for q, arn in arns.items() if {"Fn::GetAtt": [q, "Arn"]} == source), None)
        if queue:
            function = stack.deployed["Resources"][mapping["Properties"]["FunctionName"]["Ref"]]
            timeout = int(function["Properties"].get("Timeout", 3))
            visibility = int(
                sqs.get_queue_attributes(QueueUrl=stack.physical[queue], AttributeNames=["All"])["Attributes"][
                    "VisibilityTimeout"
                ]
            )
            assert visibility >= timeout, name
    # Dead letters are kept as long as SQS allows, so nothing is dropped before someone looks.
    for name, arn in arns.items():
        if arn in dead_letter_targets:
            attributes = sqs.get_queue_attributes(QueueUrl=stack.physical[name], AttributeNames=["All"])["Attributes"]
            assert int(attributes["MessageRetentionPeriod"]) == 1_209_600, name


# ---------------------------------------------------------------- operations


def test_every_function_logs_to_a_group_with_retention(stack: Deployed) -> None:
    logs = boto3.client("logs")
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups()["logGroups"]}
    retention = int(stack.parameter("LogRetentionDays"))
    for name in functions(stack):
        group = groups.get(f"/aws/lambda/{stack.physical[name]}")
        assert group, f"{name} has no log group with retention (add a <Function>LogGroup resource)"
        assert group["retentionInDays"] == retention, name
    access = stack.deployed["Resources"]["ApiAccessLogGroup"]["Properties"]
    assert groups[stack.physical["ApiAccessLogGroup"]]["retentionInDays"] == retention
    assert access["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_alarms_watch_every_function_and_the_api_and_notify_the_topic(stack: Deployed) -> None:
    cloudwatch = boto3.client("cloudwatch")
    alarms = cloudwatch.describe_alarms()["MetricAlarms"]
    topic = stack.physical["AlarmTopic"]
    assert stack.outputs["AlarmTopicArn"] == topic
    for alarm in alarms:
        assert alarm["AlarmActions"] == [topic], alarm["AlarmName"]
        assert alarm["TreatMissingData"] == "notBreaching", alarm["AlarmName"]
    errors = {
        d["Value"]
        for a in alarms
        if a["Namespace"] == "AWS/Lambda" and a["MetricName"] == "Errors"
        for d in a["Dimensions"]
        if d["Name"] == "FunctionName"
    }
    for name in functions(stack):
        assert stack.physical[name] in errors, f"{name} has no Errors alarm"
    (api_alarm,) = [a for a in alarms if a["Namespace"] == "AWS/ApiGateway"]
    dims = {d["Name"]: d["Value"] for d in api_alarm["Dimensions"]}
    assert api_alarm["MetricName"] == "5XXError"
    # The API's name (the ApiName dimension) is set from the same expression the alarm uses.
    assert stack.translated["Resources"]["Api"]["Properties"]["Name"] == {"Ref": "AWS::StackName"}
    assert dims == {"ApiName": STACK, "Stage": stack.parameter("Stage")}
    # Every queue where failures end (a redrive target or a stream's on-failure destination: the
    # webhook DLQ and the stream failure queue) has a depth alarm on that queue.
    arns = _queue_arns(stack)
    sqs = boto3.client("sqs")
    failure_ends = {
        json.loads(sqs.get_queue_attributes(QueueUrl=stack.physical[n], AttributeNames=["All"])["Attributes"]
                   .get("RedrivePolicy", "{}")).get("deadLetterTargetArn")
        for n in arns
    }  # fmt: skip
    lambda_client = boto3.client("lambda")
    for function in functions(stack):
        for mapping in lambda_client.list_event_source_mappings(FunctionName=stack.physical[function])[
            "EventSourceMappings"
        ]:
            failure_ends.add((mapping.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination"))
    depth_alarms = {
        d["Value"]
        for a in alarms
        if a["Namespace"] == "AWS/SQS" and a["MetricName"] == "ApproximateNumberOfMessagesVisible"
        for d in a["Dimensions"]
        if d["Name"] == "QueueName"
    }
    for name, arn in arns.items():
        if arn in failure_ends:
            queue_name = arn.rsplit(":", 1)[-1]
            assert queue_name in depth_alarms, f"{name} has no depth alarm"


def test_api_stage_throttles_traces_and_writes_access_logs(stack: Deployed) -> None:
    (stage,) = [
        r["Properties"] for r in stack.translated["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage"
    ]
    assert stage["TracingEnabled"] is True
    # The only stage: no Deployment creates SAM's extra, unthrottled and unlogged stage "Stage".
    deployments = [r for r in stack.translated["Resources"].values() if r["Type"] == "AWS::ApiGateway::Deployment"]
    assert deployments and all("StageName" not in d["Properties"] for d in deployments)
    (setting,) = stage["MethodSettings"]
    assert setting["ResourcePath"] == "/*" and setting["HttpMethod"] == "*"
    assert setting["ThrottlingBurstLimit"] == {"Ref": "ApiThrottleBurstLimit"}
    assert setting["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRateLimit"}
    assert setting.get("DataTraceEnabled") is not True  # would log request bodies (card data)
    assert stage["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(stage["AccessLogSetting"]["Format"])
    assert {"requestId", "status", "resource", "xrayTraceId"} <= set(fields)
    assert not any("header" in v.lower() or "input.body" in v for v in fields.values())
    # The account-wide logs role is set first when this stack sets it (conditional dependency).
    tags = {t["Key"]: t["Value"] for t in stage["Tags"]}
    assert tags["logs-role"]["Fn::If"][1] == {"Ref": "ApiGatewayAccount"}
    account = stack.translated["Resources"]["ApiGatewayAccount"]
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayLogsRole", "Arn"]}
    assert stack.translated["Resources"]["ApiGatewayLogsRole"]["DeletionPolicy"] == "Retain"


def test_api_gateways_own_errors_use_the_one_json_error_shape(stack: Deployed) -> None:
    body = stack.translated["Resources"]["Api"]["Properties"]["Body"]
    responses = body["x-amazon-apigateway-gateway-responses"]
    expected = {"THROTTLED": ("429", "throttled"), "MISSING_AUTHENTICATION_TOKEN": ("404", "route_not_found")}
    for name, (status, _code) in expected.items():
        assert responses[name]["statusCode"] == status, name
    for name, response in responses.items():
        # API Gateway substitutes $context.error.messageString with a quoted JSON string.
        text = response["responseTemplates"]["application/json"].replace("$context.error.messageString", '"x"')
        error = json.loads(text)["error"]
        assert set(error) == {"code", "message"} and error["code"].islower(), name
        if name in expected:
            assert error["code"] == expected[name][1], name
    assert {"DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)


def test_outputs_name_the_api_console_tables_and_secret_arns(stack: Deployed) -> None:
    outputs = stack.translated["Outputs"]
    assert outputs["ConsoleUrl"]["Value"]["Fn::Sub"].endswith("/${Stage}/console")
    assert outputs["ApiUrl"]["Value"]["Fn::Sub"].startswith("https://${Api}.execute-api.")
    assert stack.outputs["PaymentsTableName"] == stack.physical["Payments"]
    assert stack.outputs["WebhookLogsTableName"] == stack.physical["WebhookLogs"]
    assert stack.outputs["WebhookSecretArn"].startswith("arn:aws:secretsmanager:")
