"""Bringing your own secrets: ExistingWebhookSecretArn / ExistingServiceAuthTokenArn.

Its own module (so its own moto account state) next to test_cloudformation.py; the same
offline translation + moto CloudFormation deployment, see tests/template/cloudformation.py.
"""

from __future__ import annotations

import re

import boto3
from moto import mock_aws

from sandbox.template import load_template
from tests.template.cloudformation import REGION, deploy, function_role, functions, statements


def test_existing_secrets_are_used_instead_of_created() -> None:
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name=REGION)
        webhook = secrets.create_secret(Name="team/webhook-secret", SecretString="whsec-from-the-team")["ARN"]
        token = secrets.create_secret(Name="team/operator-token", SecretString="operator-from-the-team")["ARN"]
        # The parameters' AllowedPattern (which CloudFormation enforces, moto does not) takes a
        # full secret ARN and refuses a partial one, whose IAM grant would match nothing.
        for parameter in ("ExistingWebhookSecretArn", "ExistingServiceAuthTokenArn"):
            pattern = load_template()["Parameters"][parameter]["AllowedPattern"]
            assert re.fullmatch(pattern, webhook) and re.fullmatch(pattern, "")
            assert not re.fullmatch(pattern, token.rsplit("-", 1)[0])  # "...:secret:team/operator-token"
        d = deploy({"ExistingWebhookSecretArn": webhook, "ExistingServiceAuthTokenArn": token})

        # The template created no secret of its own: the two above are all there is.
        assert not {"WebhookSecret", "ServiceAuthToken"} & set(d.physical)
        assert {s["ARN"] for s in secrets.list_secrets()["SecretList"]} == {webhook, token}
        lambda_client = boto3.client("lambda")
        for name in functions(d):
            env = lambda_client.get_function_configuration(FunctionName=d.physical[name])["Environment"]["Variables"]
            assert (env["WEBHOOK_SECRET_ARN"], env["SERVICE_AUTH_TOKEN_ARN"]) == (webhook, token), name
            for statement in statements(function_role(d, name)):
                if any(a.startswith("secretsmanager:") for a in statement["Action"]):
                    assert set(statement["Resource"]) <= {webhook, token}, name
        assert (d.outputs["WebhookSecretArn"], d.outputs["ServiceAuthTokenArn"]) == (webhook, token)
