"""The checkout function as template.yaml declares it: routes, least-privilege policies."""

from __future__ import annotations

from typing import Any

from sandbox.template import load_template


def _checkout() -> dict[str, Any]:
    resource: dict[str, Any] = load_template()["Resources"]["CheckoutFunction"]
    return resource


def test_checkout_routes_are_the_three_of_the_spec() -> None:
    events = _checkout()["Properties"]["Events"].values()
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events if e["Type"] == "Api"}
    assert routes == {
        ("GET", "/checkout/{payment_id}"),
        ("POST", "/checkout/{payment_id}"),
        ("POST", "/checkout/{payment_id}/otp"),
    }
    assert _checkout()["Properties"]["CodeUri"] == "functions/checkout/"


def test_ses_send_is_granted_only_when_a_sender_is_configured_and_only_for_it() -> None:
    template = load_template()
    assert template["Conditions"]["HasSesSender"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "SesSender"}, ""]}]}
    policies = _checkout()["Properties"]["Policies"]
    conditional = [p for p in policies if isinstance(p, dict) and "Fn::If" in p]
    assert len(conditional) == 1
    name, granted, otherwise = conditional[0]["Fn::If"]
    assert name == "HasSesSender" and otherwise == {"Ref": "AWS::NoValue"}
    (statement,) = granted["Statement"]
    assert statement["Action"] == "ses:SendEmail"
    assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "SesSender"}}}
    # The CSRF/code keys come from the webhook secret: it may read that secret and no other.
    secrets = [
        p["AWSSecretsManagerGetSecretValuePolicy"] for p in policies if "AWSSecretsManagerGetSecretValuePolicy" in p
    ]
    assert secrets == [
        {
            "SecretArn": {
                "Fn::If": ["CreateWebhookSecret", {"Ref": "WebhookSecret"}, {"Ref": "ExistingWebhookSecretArn"}]
            }
        }
    ]
