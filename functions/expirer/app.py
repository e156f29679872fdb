"""The expirer, run every minute by EventBridge: payments still open (pending, or waiting for a
one-time code) past their ``expires_at`` become ``expired``, which sends their
``payment.expired`` webhook. A run stops picking up work before its timeout or after a bounded
number of payments; the next run finishes what is left."""

from __future__ import annotations

from paysandbox import init_phase

init_phase.begin()  # no garbage collection while the handler loads (init_phase.py)

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paysandbox.expiry import expire_due

logger = Logger()
metrics = Metrics()

# Stop picking up work this long before the Lambda timeout, so an update is never cut off.
SAFETY_MARGIN_MS = 5_000


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = expire_due(lambda: context.get_remaining_time_in_millis() > SAFETY_MARGIN_MS)
    metrics.add_metric(name="PaymentsExpired", unit=MetricUnit.Count, value=run.expired)
    logger.info("expirer run", extra={"expired": run.expired, "lost_races": run.lost_races, "complete": run.complete})
    return {"expired": run.expired, "lost_races": run.lost_races, "complete": run.complete}


init_phase.end()  # the handler is ready
