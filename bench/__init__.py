"""paysandbox benchmarks (`make bench` = `python -m bench`): one module per figure of issue 7.

Every figure is a ratio measured side by side in one run (this machine is noisy), and every
benchmark checks that the work was really done and raises if not. CI never runs these.

Importing this package fixes a fake AWS environment BEFORE boto3 is imported, with the same
region and credentials as tests/conftest.py, so module-level clients in the layer see the fake region and
credentials and moto can intercept them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "common"
for _path in (str(ROOT), str(LAYER)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

FAKE_AWS_ENV = {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    # botocore 1.44 routes DynamoDB Streams to an account-scoped endpoint moto does not serve.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}
BENCH_ENV = {
    **FAKE_AWS_ENV,
    "POWERTOOLS_SERVICE_NAME": "paysandbox-bench",
    "POWERTOOLS_METRICS_NAMESPACE": "PaySandboxBench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "SERVICE_AUTH_TOKEN": "bench-operator-token",
    "WEBHOOK_SECRET": "bench-webhook-secret",
    "ALLOW_PRIVATE_WEBHOOK_TARGETS": "true",
    "PAYMENTS_TABLE": "Payments",
    "WEBHOOK_LOGS_TABLE": "WebhookLogs",
}
# The fake AWS identity is forced; the rest only filled in, so that importing bench from the
# test suite (tests/unit/test_bench_report.py) keeps the values tests/conftest.py set.
os.environ.update(FAKE_AWS_ENV)
for _name, _value in BENCH_ENV.items():
    os.environ.setdefault(_name, _value)
for _leaked in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "PAYMENT_WEBHOOK_SECRET"):
    os.environ.pop(_leaked, None)
