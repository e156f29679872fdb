"""Every handler pauses the garbage collector only while it loads (paysandbox/init_phase.py).

A handler that left the collector off would never free a reference cycle again: a warm
function's memory would grow with every invocation until Lambda killed it. The handlers load one
after another in a fresh interpreter, with the local sandbox's own loader.
"""

from __future__ import annotations

import json
import subprocess
import sys

from harness.fake_aws import fake_aws_environment, handler_environment
from tests.support import ROOT

LOAD_ALL = r"""
import gc, json
from sandbox.functions import functions
seen = {}
for name, function in functions().items():
    frozen_before = gc.get_freeze_count()
    function.load()
    seen[name] = {"collector_on": gc.isenabled(), "froze_its_init": gc.get_freeze_count() > frozen_before}
print(json.dumps(seen))
"""


def test_every_handler_leaves_the_collector_on_and_its_init_frozen():
    env = {"PATH": "/usr/bin:/bin", **fake_aws_environment(), **handler_environment("paysandbox", "t", "s")}
    done = subprocess.run(
        [sys.executable, "-c", LOAD_ALL], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen: dict[str, dict[str, bool | int]] = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(seen) >= {"CreatePaymentFunction", "CheckoutFunction", "WebhookSenderFunction"}
    for name, state in seen.items():
        assert state["collector_on"], f"{name} left the garbage collector off"
        assert state["froze_its_init"], f"{name}: its init was not frozen"
