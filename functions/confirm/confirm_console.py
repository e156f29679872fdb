"""The operator console: its page (public HTML with no data and no secret in it; its script
calls the operator API with the token the operator pastes) and the one route only it needs,
the webhook secret in the form receivers verify with."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from aws_lambda_powertools.event_handler import Response
from confirm_operator import new_router, operator_only, team

from paysandbox import scope
from paysandbox.api_http import json_response
from paysandbox.secret_store import webhook_secret

router = new_router()
CONSOLE_PAGE = Path(__file__).with_name("console.html")
_console_template: str | None = None


@router.get("/console")
def console() -> Response[str]:
    """The console shell, with a fresh CSP nonce for its inline script and style."""
    global _console_template
    if _console_template is None:  # read on first use: most invocations never serve the page
        from paysandbox.payment_display import MINOR_UNIT_EXPONENTS  # the checkout's table: one source

        _console_template = CONSOLE_PAGE.read_text(encoding="utf-8").replace(
            "{{minor_units}}", json.dumps(MINOR_UNIT_EXPONENTS, sort_keys=True)
        )
    nonce = secrets.token_urlsafe(16)
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=_console_template.replace("{{nonce}}", nonce),
        headers={
            "Content-Security-Policy": (
                f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
                "connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
            ),
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


@router.get("/api/v2/console-config", middlewares=[operator_only])
def console_config() -> Response[str]:
    """What the console shows receivers: the webhook secret in Standard Webhooks ``whsec_`` form."""
    from paysandbox.signatures import whsec  # only this route needs the signing module

    caller_team = team(router)
    if caller_team == scope.DEFAULT_TEAM:
        secret_whsec = whsec(webhook_secret())
    else:
        from paysandbox import teams

        secret_whsec = teams.view(caller_team)["whsec"]
    return json_response(
        200, {"team_id": caller_team, "webhook_secret_whsec": secret_whsec}, headers={"Cache-Control": "no-store"}
    )
