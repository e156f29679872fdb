"""Operator API and console: confirm or fail payments, list them, refund them, read and
redeliver their webhooks and events, the test helpers, teams (all behind the admin token or a
team's key), and the operator console page (public HTML; its data calls need the token).

The directory is called ``confirm`` by the design's naming; it serves every operator route.
The routes are in one router per audience: ``confirm_payments``, ``confirm_events``,
``confirm_teams``, ``confirm_console``; the operator check they share is in ``confirm_operator``.
"""

from __future__ import annotations

from paysandbox import init_phase

init_phase.begin()  # no garbage collection while the handler loads (init_phase.py)

from typing import Any

import confirm_console
import confirm_events
import confirm_payments
import confirm_teams
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

from paysandbox.api_http import install_error_handlers, routable

logger = Logger()
metrics = Metrics()
app = APIGatewayRestResolver()
install_error_handlers(app)
for audience in (confirm_payments, confirm_events, confirm_console, confirm_teams):
    app.include_router(audience.router)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(routable(event), context)


init_phase.end()  # the handler is ready


init_phase.end()  # the handler is ready
