"""Drift: the sandbox serves and polls exactly what template.yaml declares, nothing else."""

from __future__ import annotations

import pytest

from sandbox.environment import (
    EnvironmentConflict,
    secret_variables,
    shared_environment,
)
from sandbox.functions import functions
from sandbox.gateway import api_routes
from sandbox.pollers import SchedulePoller, SqsPoller, StreamPoller, event_pollers
from sandbox.template import load_template, parameter_values, resources_of_type
from tests.integration.emulator import _emulator_server, emulator, stack  # noqa: F401  (fixtures)

POLLER_TYPES = {"DynamoDB": StreamPoller, "SQS": SqsPoller, "Schedule": SchedulePoller, "ScheduleV2": SchedulePoller}


def template_events() -> dict[tuple[str, str], dict]:
    found = {}
    for name, resource in resources_of_type("AWS::Serverless::Function").items():
        for event_name, event in (resource["Properties"].get("Events") or {}).items():
            found[(name, event_name)] = event
    return found


def test_every_api_event_is_a_route_and_nothing_else() -> None:
    expected = {
        (e["Properties"]["Method"].upper(), e["Properties"]["Path"], fn)
        for (fn, _), e in template_events().items()
        if e["Type"] == "Api"
    }
    served = {(r.method, r.path, r.function.logical_id) for r in api_routes(functions())}
    assert served == expected


def test_every_other_event_source_is_polled_and_nothing_else(emulator, stack) -> None:  # noqa: F811
    expected = {
        (fn, name, POLLER_TYPES[e["Type"]])
        for (fn, name), e in template_events().items()
        if e["Type"] != "Api" and (e.get("Properties") or {}).get("Enabled", True) is not False
    }
    pollers = event_pollers(functions(), stack, emulator, {})
    assert {(p.function.logical_id, p.event_name, type(p)) for p in pollers} == expected
    assert expected, "the template has event sources (at least the expirer's schedule)"


def test_every_stateful_resource_exists_on_the_emulator(emulator, stack) -> None:  # noqa: F811
    template = load_template()
    tables = set(emulator.dynamodb.list_tables()["TableNames"])
    assert tables == set(resources_of_type("AWS::DynamoDB::Table", template))
    for name in tables:
        description = emulator.dynamodb.describe_table(TableName=name)["Table"]
        props = template["Resources"][name]["Properties"]
        assert description["KeySchema"] == props["KeySchema"]
        ttl = emulator.dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if "TimeToLiveSpecification" not in props:  # Teams: kept until deleted
            assert ttl["TimeToLiveStatus"] == "DISABLED", name
            continue
        assert ttl == {
            "TimeToLiveStatus": "ENABLED",
            "AttributeName": props["TimeToLiveSpecification"]["AttributeName"],
        }
        if "StreamSpecification" in props:
            assert (
                description["StreamSpecification"]["StreamViewType"] == props["StreamSpecification"]["StreamViewType"]
            )
    queues = {url.rsplit("/", 1)[1] for url in emulator.sqs.list_queues().get("QueueUrls", [])}
    assert queues == {
        (r.get("Properties") or {}).get("QueueName") or name
        for name, r in resources_of_type("AWS::SQS::Queue", template).items()
    }
    secrets = {s["Name"] for s in emulator.secretsmanager.list_secrets()["SecretList"]}
    assert secrets == set(resources_of_type("AWS::SecretsManager::Secret", template))


def test_handler_environment_is_resolved_with_local_overrides(emulator, stack) -> None:  # noqa: F811
    template = load_template()
    fns = functions(template)
    secret_vars = secret_variables(fns, template, parameter_values(template))
    environ = {"WEBHOOK_RETRY_DELAYS": "1,1", "PAYMENT_TTL_SECONDS": "5"}
    env = shared_environment(fns, stack, environ, secret_vars)
    assert env["PAYMENTS_TABLE"] == "Payments" and env["WEBHOOK_LOGS_TABLE"] == "WebhookLogs"
    assert env["WEBHOOK_RETRY_DELAYS"] == "1,1" and env["PAYMENT_TTL_SECONDS"] == "5"
    assert env["WEBHOOK_MAX_ATTEMPTS"] == str(template["Parameters"]["WebhookMaxAttempts"]["Default"])
    assert env["ALLOW_PRIVATE_WEBHOOK_TARGETS"] == "true"  # the local default
    # Secrets: the ARN variables are empty, the plain variables carry the emulator's values.
    assert env["WEBHOOK_SECRET_ARN"] == "" and env["SERVICE_AUTH_TOKEN_ARN"] == ""
    assert env["WEBHOOK_SECRET"] == stack.secrets["WebhookSecret"]
    assert env["SERVICE_AUTH_TOKEN"] == stack.secrets["ServiceAuthToken"]
    assert not any(isinstance(v, dict) or "{" in v for v in env.values())


def test_conflicting_per_function_variables_refuse_to_start(emulator, stack) -> None:  # noqa: F811
    fns = functions()
    first, second = list(fns.values())[:2]
    first.environment = {**first.environment, "MODE": "a"}
    second.environment = {**second.environment, "MODE": "b"}
    with pytest.raises(EnvironmentConflict, match="MODE"):
        shared_environment(fns, stack, {}, {})
