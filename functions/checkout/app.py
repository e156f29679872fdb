"""Hosted checkout: the HTML pages a customer opens from a payment link (``/checkout/...``),
where they pay by test card and, for some cards, enter a one-time code.

GET shows the page for the payment's state; the two POSTs change state and answer 303 See
Other back to the GET (Post/Redirect/Get), so a refresh never re-posts a form. A form error
re-renders the form (422) with the message next to its field and changes nothing. The pages
are in ``checkout_pages``, the request's cookie and form in ``checkout_browser``; the card and
code steps in the layer (``paysandbox.checkout``, ``paysandbox.checkout_code``).

Another device gets its own code with "Send a new code" (the OTP form posted with
action=resend).
"""

from __future__ import annotations

from paysandbox import init_phase

init_phase.begin()  # no garbage collection while the handler loads (init_phase.py)

import traceback
from pathlib import Path
from typing import Any

import checkout_pages as pages
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from checkout_browser import Browser

from paysandbox import checkout, checkout_code, checkout_links
from paysandbox.api_http import routable
from paysandbox.checkout import FormInvalid, Page
from paysandbox.errors import NotFound, PaySandboxError
from paysandbox.settings import get_settings

logger = Logger()
app = APIGatewayRestResolver()
browser = Browser(app)


@app.get("/checkout/<payment_id>")
def show(payment_id: str) -> Response[str]:
    return pages.page_for(checkout.load(browser.payment_key(payment_id)), browser)


@app.post("/checkout/<payment_id>")
def pay(payment_id: str) -> Response[str]:
    payment_id = browser.payment_key(payment_id)
    form = browser.form()
    try:
        result = checkout.pay_by_card(payment_id, form)
    except FormInvalid as invalid:
        # The form is checked before the payment is read: one that moved on meanwhile
        # just shows its page, as any post for it does.
        current = checkout.load(payment_id)
        if current.page is not Page.CARD:
            return pages.see_other(browser.checkout_path(payment_id), None)
        # Echo only harmless fields back: never the card number or CVV.
        kept = {"email": form.get("email", ""), "expiry": form.get("expiry", "")}
        return pages.card_page(current, browser, invalid.errors, kept, status=invalid.status)
    cookie = None
    if result.code is not None and get_settings().sandbox_show_otp:
        cookie = browser.otp_cookie(result.checkout, result.code)
    return pages.see_other(browser.checkout_path(payment_id), cookie)


@app.post("/checkout/<payment_id>/otp")
def confirm_code(payment_id: str) -> Response[str]:
    payment_id = browser.payment_key(payment_id)
    form = browser.form()
    if form.get("action") == "resend":
        resent = checkout_code.resend_otp(payment_id, form.get("csrf_token"))
        cookie = None
        if resent.code is not None and get_settings().sandbox_show_otp:
            cookie = browser.otp_cookie(resent.checkout, resent.code)
        return pages.see_other(browser.checkout_path(payment_id), cookie)
    try:
        after = checkout_code.submit_otp(payment_id, form.get("otp", ""), form.get("csrf_token"))
    except FormInvalid as invalid:
        current = checkout.load(payment_id)  # read only now: the code is checked before the payment
        if current.page is not Page.OTP:
            return pages.see_other(browser.checkout_path(payment_id), browser.otp_cookie(current, "", clear=True))
        return pages.otp_page(current, browser, invalid.errors, status=invalid.status)
    cookie = None if after.page is Page.OTP else browser.otp_cookie(after, "", clear=True)
    return pages.see_other(browser.checkout_path(payment_id), cookie)


@app.exception_handler(PaySandboxError)
def _domain_error(error: PaySandboxError) -> Response[str]:
    if error.status >= 500:
        logger.error("checkout request failed", extra={"code": error.code})
    if isinstance(error, NotFound):
        return pages.message_page(
            404, "Payment not found", "This payment link is not valid. Check the link you were given."
        )
    if isinstance(error, checkout.CsrfRejected):
        key = checkout_links.key_of(app.current_event.path_parameters.get("payment_id", "")) or ""
        return pages.message_page(
            403,
            "This form can't be sent",
            "The form has expired or was not sent from this page.",
            link_to=browser.checkout_path(key),
            link_text="Reload the payment page",
        )
    if error.status >= 500:
        return pages.message_page(error.status, "Something went wrong", "Please try again in a moment.")
    return pages.message_page(error.status, "That didn't work", error.message)


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response[str]:
    # Type and frames only: an exception's text (pydantic's, say) could quote request data.
    frames = [f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in traceback.extract_tb(error.__traceback__)]
    logger.error("checkout request crashed", extra={"error": type(error).__name__, "frames": frames[-5:]})
    return pages.message_page(500, "Something went wrong", "Please try again in a moment.")


@app.not_found
def _no_route(_: Exception) -> Response[str]:
    return pages.message_page(404, "Page not found", "There is no checkout page at this address.")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(routable(event), context)


init_phase.end()  # the handler is ready
