"""env.json (for ``sam local start-api --env-vars env.json``) matches what the sandbox creates.

SAM resolves ``!Ref`` of a table to its logical id by itself, but not queue URLs, secrets or
the emulator's endpoint: those must come from env.json, with the values the sandbox's
emulator really has (queues at the moto URL, secrets by name).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

from sandbox.environment import function_environment
from sandbox.functions import functions
from sandbox.stack import Stack
from sandbox.template import ROOT, load_template, parameter_values, resolve_ifs, resources_of_type
from tests.integration.emulator import _emulator_server, emulator, stack  # noqa: F401  (fixtures)

DOCKER_HOST = "http://host.docker.internal:5000"


def test_env_json_gives_sam_local_every_value_it_cannot_resolve(emulator: SimpleNamespace, stack: Stack) -> None:  # noqa: F811
    given = json.loads((ROOT / "env.json").read_text())["Parameters"]
    template = load_template()
    fns = functions(template)
    parameters = parameter_values(template)
    queues = set(resources_of_type("AWS::SQS::Queue", template))
    secret_ids = set(resources_of_type("AWS::SecretsManager::Secret", template))

    assert given["AWS_ENDPOINT_URL"] == DOCKER_HOST
    for function in fns.values():
        resolved = function_environment(function, stack, {})
        assert "AWS_ENDPOINT_URL" in function.environment, "SAM passes only variables the template declares"
        for name, raw in function.environment.items():
            value = resolve_ifs(raw, template, parameters)
            ref = value.get("Ref") if isinstance(value, dict) else None
            if ref in queues:
                # The emulator's URL for the queue, as seen from inside a container.
                assert given[name] == resolved[name].replace(emulator.url, DOCKER_HOST)
            elif ref in secret_ids:
                # Read through the emulator's Secrets Manager by name (GetSecretValue accepts it).
                assert given[name] == ref
                assert emulator.secretsmanager.get_secret_value(SecretId=given[name])["SecretString"]
            elif name in given and name != "AWS_ENDPOINT_URL":
                assert given[name] == resolved[name], name
