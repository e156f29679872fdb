"""Two API functions called at once each see their own request (one process, many functions).

Powertools' REST resolver keeps the current event on a class attribute shared by every
resolver in a process; in Lambda each function is its own process, in the sandbox they are
not. The interleaving is played, not raced: the first function holds inside its route until
the second has run (or 2 s passed, when the second is made to wait, as it must be).
"""

from __future__ import annotations

import json
import textwrap
import threading
from pathlib import Path
from typing import Any

from sandbox.apigw import proxy_event
from sandbox.functions import functions

HANDLER = textwrap.dedent(
    """
    import threading
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    app = APIGatewayRestResolver()
    entered, others_done = threading.Event(), threading.Event()

    @app.post("/<name>")
    def echo(name):
        entered.set()
        others_done.wait(2)  # the other function runs now, unless it has to wait its turn
        return {"seen": app.current_event.json_body}

    def handler(event, context):
        return app.resolve(event, context)
    """
)


def _template(root: Path) -> dict[str, Any]:
    resources = {}
    for name in ("First", "Second"):
        (root / name).mkdir()
        (root / name / "app.py").write_text(HANDLER)
        api = {"Type": "Api", "Properties": {"Path": "/{name}", "Method": "post"}}
        resources[f"{name}Function"] = {
            "Type": "AWS::Serverless::Function",
            "Properties": {"CodeUri": str(root / name), "Handler": "app.handler", "Events": {"Api": api}},
        }
    return {"Resources": resources}


def test_two_api_functions_at_once_each_answer_their_own_request(tmp_path: Path) -> None:
    loaded = functions(_template(tmp_path))
    first, second = loaded["FirstFunction"], loaded["SecondFunction"]
    first_module, _ = first.load(), second.load()  # as the sandbox does at start
    answers: dict[str, Any] = {}

    def call(function: Any, who: str) -> None:
        event = proxy_event(
            "POST", f"/{who}", resource="/{name}", path_parameters={"name": who}, body=json.dumps({"who": who})
        )
        answers[who] = json.loads(function.invoke(event)["body"])["seen"]
        if who == "second":
            first_module.others_done.set()

    held = threading.Thread(target=call, args=(first, "first"))
    held.start()
    assert first_module.entered.wait(10)
    other = threading.Thread(target=call, args=(second, "second"))
    other.start()
    held.join(15)
    other.join(15)
    assert answers == {"first": {"who": "first"}, "second": {"who": "second"}}
