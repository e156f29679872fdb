"""The IAM check of the whole run (tests/conftest.py): a handler's AWS calls are recorded per
function, and a call its policy in template.yaml does not grant is reported by name.

Moto has no IAM: without this check the events list's BatchGetItem passed every test while the
operator function's role did not allow it (AccessDenied, a 500, in AWS)."""

from __future__ import annotations

import copy

from harness.aws_calls import Call, recorded
from harness.receiver import Receiver
from sandbox.template import load_template
from tests.integration.conftest import Pipeline
from tests.support import OPERATOR, Api, v2_body
from tests.template.iam_grants import grants_of, is_granted, ungranted

WEBHOOK_LOGS = "arn:aws:dynamodb:eu-west-1:123456789012:table/WebhookLogs"
EVENTS_LIST_READ = Call("ConfirmFunction", "dynamodb:BatchGetItem", WEBHOOK_LOGS)


def test_the_events_list_read_is_recorded_against_the_operator_function(
    pipeline: Pipeline, receiver: Receiver, merchant: Api, operator: Api
) -> None:
    status, created, _ = merchant.call("POST", "/api/v2/payments", v2_body(callback_url=receiver.url()))
    assert status == 200, created
    confirm = {"payment_id": created["payment_id"]}
    assert operator.call("POST", "/api/v2/confirm-payment", confirm, headers=OPERATOR)[0] == 200
    pipeline.run()
    status, page, _ = operator.call("GET", "/api/events", headers=OPERATOR)
    assert status == 200 and len(page["events"]) == 1, page

    assert EVENTS_LIST_READ in recorded
    assert is_granted(EVENTS_LIST_READ)


def test_a_call_the_template_does_not_grant_is_reported_with_function_action_and_resource() -> None:
    template = copy.deepcopy(load_template())
    for policy in template["Resources"]["ConfirmFunction"]["Properties"]["Policies"]:
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            if "dynamodb:BatchGetItem" in statement["Action"]:
                statement["Action"].remove("dynamodb:BatchGetItem")

    assert not is_granted(EVENTS_LIST_READ, grants_of(template))
    retry_queue = Call("ExpirerFunction", "sqs:SendMessage", "arn:aws:sqs:eu-west-1:123456789012:WebhookRetryQueue")
    report = ungranted({retry_queue: "tests/x.py::test_y", EVENTS_LIST_READ: "tests/x.py::test_z"})
    assert "ExpirerFunction  sqs:SendMessage  on arn:aws:sqs:eu-west-1:123456789012:WebhookRetryQueue" in report
    assert "(first in tests/x.py::test_y)" in report
    assert "ConfirmFunction" not in report  # granted by the real template
