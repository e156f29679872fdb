"""The customer's browser as one checkout request shows it: the form it posted, where the
checkout pages are (an execute-api URL has the stage in its path) and the one-time-code cookie.

While SANDBOX_SHOW_OTP is on, the browser that entered the card keeps the new one-time code in
an HttpOnly cookie scoped to this payment's checkout path, so the code page (reached by the
redirect) can show it; the database only ever holds the code's keyed hash.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs, quote, urlsplit

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from paysandbox import checkout_links, clock
from paysandbox.api_http import base_url, content_type, path_param, raw_body
from paysandbox.checkout import Checkout
from paysandbox.errors import BadRequest, NotFound

MAX_FORM_BYTES = 16 * 1024
OTP_COOKIE = "psb_otp"


class Browser:
    """Read from the current request on demand (an error page may need none of it)."""

    def __init__(self, app: APIGatewayRestResolver):
        self._app = app

    def payment_key(self, matched: str) -> str:
        """The table key of the payment the link names (checkout_links); 404 for any other link."""
        key = checkout_links.key_of(path_param(self._app, "payment_id", matched))
        if key is None:
            raise NotFound("No such checkout link.", code="payment_not_found")
        return key

    def form(self) -> dict[str, str]:
        """The url-encoded form body."""
        if content_type(self._app) != "application/x-www-form-urlencoded":
            raise BadRequest("Send the form from the checkout page.", code="unsupported_content_type")
        raw = raw_body(self._app, MAX_FORM_BYTES)
        return {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}

    def checkout_path(self, payment_id: str) -> str:
        """Path of a payment's checkout page (``payment_id``: its table key) as the browser sees it."""
        base_path = urlsplit(base_url(self._app)).path
        return f"{base_path}/checkout/{quote(checkout_links.link_id(payment_id), safe='')}"

    def cookie_code(self) -> str | None:
        """The one-time code this browser was given, if any."""
        header = self._app.current_event.headers.get("cookie") or ""
        try:
            jar: SimpleCookie = SimpleCookie(header)
        except CookieError:
            return None
        morsel = jar.get(OTP_COOKIE)
        return morsel.value if morsel else None

    def otp_cookie(self, current: Checkout, code: str, clear: bool = False) -> Cookie:
        """The cookie that keeps ``code`` until the payment expires, or (``clear``) drops it."""
        remaining = int(current.payment.expires_at - clock.now_epoch())
        return Cookie(
            name=OTP_COOKIE,
            value=code,
            path=self.checkout_path(current.payment.payment_id),
            secure=base_url(self._app).startswith("https://"),
            http_only=True,
            same_site=SameSite.STRICT_MODE,
            max_age=0 if clear else max(1, remaining),
        )
