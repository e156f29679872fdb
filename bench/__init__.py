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

from harness.fake_aws import fake_aws_environment, handler_environment, use_fake_aws  # noqa: E402

FAKE_AWS_ENV = fake_aws_environment()
BENCH_ENV = {
    **FAKE_AWS_ENV,
    **handler_environment("paysandbox-bench", "bench-operator-token", "bench-webhook-secret"),
}
# The fake AWS identity is forced; the rest only filled in, so that importing bench from the
# test suite (tests/unit/test_bench_report.py) keeps the values tests/conftest.py set.
use_fake_aws(FAKE_AWS_ENV)
for _name, _value in BENCH_ENV.items():
    os.environ.setdefault(_name, _value)
os.environ.pop("PAYMENT_WEBHOOK_SECRET", None)
