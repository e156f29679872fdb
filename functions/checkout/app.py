"""Hosted checkout: the HTML pages a customer sees (SPEC §4).

GET shows the page for the payment's state; the two POSTs change state and answer
303 See Other back to the GET (Post/Redirect/Get), so a refresh never re-posts a form. A form
error re-renders the form (422) with the message next to its field and changes nothing.

Pages are rendered with ``string.Template`` from ``templates/`` (shipped with the function),
every value HTML-escaped here. Each response carries a fresh CSP nonce for its one inline
style and script.

While SANDBOX_SHOW_OTP is on, the browser that entered the card keeps the new one-time code
in an HttpOnly cookie scoped to this payment's checkout path, so the code page (reached by the
redirect) can show it; the database only ever holds the code's keyed hash. Another device
gets its own code with "Send a new code" (the OTP form posted with action=resend).
"""

from __future__ import annotations

from paysandbox import init_phase

init_phase.begin()  # no garbage collection while the handler loads (init_phase.py)

import html
import secrets
import traceback
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit, urlunsplit

from aws_lambda_powertools import Logger
from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from aws_lambda_powertools.utilities.typing import LambdaContext

from paysandbox import cards, checkout, checkout_code, checkout_links, clock, otp_mail
from paysandbox.api_http import base_url, content_type, path_param, raw_body, routable
from paysandbox.checkout import Checkout, FormInvalid, Page
from paysandbox.errors import BadRequest, NotFound, PaySandboxError
from paysandbox.payment_display import format_amount, reference_of
from paysandbox.rest_resolver import APIGatewayRestResolver, Response
from paysandbox.settings import get_settings
from paysandbox.states import Status

logger = Logger()
app = APIGatewayRestResolver()

TEMPLATES_DIR = Path(__file__).parent / "templates"
TEMPLATES = {p.stem: Template(p.read_text()) for p in TEMPLATES_DIR.glob("*.html")}
SCRIPT = (TEMPLATES_DIR / "script.js").read_text()
MAX_FORM_BYTES = 16 * 1024
OTP_COOKIE = "psb_otp"
CARD_FIELDS = ("email", "card_number", "expiry", "cvv")


# ------------------------------------------------------------------ routes


@app.get("/checkout/<payment_id>")
def show(payment_id: str) -> Response[str]:
    current = checkout.load(_payment_key(payment_id))
    return _page_for(current)


@app.post("/checkout/<payment_id>")
def pay(payment_id: str) -> Response[str]:
    payment_id = _payment_key(payment_id)
    form = _form()
    try:
        result = checkout.pay_by_card(payment_id, form)
    except FormInvalid as invalid:
        # The form is checked before the payment is read: one that moved on meanwhile
        # just shows its page, as any post for it does.
        current = checkout.load(payment_id)
        if current.page is not Page.CARD:
            return _see_other(payment_id, None)
        # Echo only harmless fields back: never the card number or CVV.
        kept = {"email": form.get("email", ""), "expiry": form.get("expiry", "")}
        return _card_page(current, invalid.errors, kept, status=invalid.status)
    cookie = None
    if result.code is not None and get_settings().sandbox_show_otp:
        cookie = _otp_cookie(result.checkout, result.code)
    return _see_other(payment_id, cookie)


@app.post("/checkout/<payment_id>/otp")
def confirm_code(payment_id: str) -> Response[str]:
    payment_id = _payment_key(payment_id)
    form = _form()
    if form.get("action") == "resend":
        resent = checkout_code.resend_otp(payment_id, form.get("csrf_token"))
        cookie = None
        if resent.code is not None and get_settings().sandbox_show_otp:
            cookie = _otp_cookie(resent.checkout, resent.code)
        return _see_other(payment_id, cookie)
    try:
        after = checkout_code.submit_otp(payment_id, form.get("otp", ""), form.get("csrf_token"))
    except FormInvalid as invalid:
        current = checkout.load(payment_id)  # read only now: the code is checked before the payment
        if current.page is not Page.OTP:
            return _see_other(payment_id, _otp_cookie(current, "", clear=True))
        return _otp_page(current, invalid.errors, status=invalid.status)
    cookie = None if after.page is Page.OTP else _otp_cookie(after, "", clear=True)
    return _see_other(payment_id, cookie)


@app.exception_handler(PaySandboxError)
def _domain_error(error: PaySandboxError) -> Response[str]:
    if error.status >= 500:
        logger.error("checkout request failed", extra={"code": error.code})
    if isinstance(error, NotFound):
        return _message(404, "Payment not found", "This payment link is not valid. Check the link you were given.")
    if isinstance(error, checkout.CsrfRejected):
        path = _checkout_path(checkout_links.key_of(app.current_event.path_parameters.get("payment_id", "")) or "")
        link = f'<a class="button" href="{_e(path)}">Reload the payment page</a>'
        return _message(403, "This form can't be sent", "The form has expired or was not sent from this page.", link)
    if error.status >= 500:
        return _message(error.status, "Something went wrong", "Please try again in a moment.")
    return _message(error.status, "That didn't work", error.message)


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response[str]:
    # Type and frames only: an exception's text (pydantic's, say) could quote request data.
    frames = [f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in traceback.extract_tb(error.__traceback__)]
    logger.error("checkout request crashed", extra={"error": type(error).__name__, "frames": frames[-5:]})
    return _message(500, "Something went wrong", "Please try again in a moment.")


@app.not_found
def _no_route(_: Exception) -> Response[str]:
    return _message(404, "Page not found", "There is no checkout page at this address.")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(routable(event), context)


# ------------------------------------------------------------------ request helpers


def _form() -> dict[str, str]:
    """The url-encoded form body."""
    if content_type(app) != "application/x-www-form-urlencoded":
        raise BadRequest("Send the form from the checkout page.", code="unsupported_content_type")
    raw = raw_body(app, MAX_FORM_BYTES)
    return {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}


def _cookie_code() -> str | None:
    header = app.current_event.headers.get("cookie") or ""
    try:
        jar: SimpleCookie = SimpleCookie(header)
    except CookieError:
        return None
    morsel = jar.get(OTP_COOKIE)
    return morsel.value if morsel else None


def _payment_key(matched: str) -> str:
    """The table key of the payment the link names (checkout_links); 404 for any other link."""
    key = checkout_links.key_of(path_param(app, "payment_id", matched))
    if key is None:
        raise NotFound("No such checkout link.", code="payment_not_found")
    return key


def _checkout_path(payment_id: str) -> str:
    """Path of a payment's checkout page (``payment_id``: its table key) as the browser sees it
    (an execute-api URL has the stage in it)."""
    return f"{urlsplit(base_url(app)).path}/checkout/{quote(checkout_links.link_id(payment_id), safe='')}"


def _is_https() -> bool:
    return base_url(app).startswith("https://")


def _otp_cookie(current: Checkout, code: str, clear: bool = False) -> Cookie:
    remaining = int(current.payment.expires_at - clock.now_epoch())
    return Cookie(
        name=OTP_COOKIE,
        value=code,
        path=_checkout_path(current.payment.payment_id),
        secure=_is_https(),
        http_only=True,
        same_site=SameSite.STRICT_MODE,
        max_age=0 if clear else max(1, remaining),
    )


# ------------------------------------------------------------------ responses


def _security_headers(nonce: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; img-src data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }


def _html(status: int, title: str, content: str, summary: str = "", cookie: Cookie | None = None) -> Response[str]:
    nonce = secrets.token_urlsafe(18)
    script = f'<script nonce="{nonce}">{SCRIPT}</script>' if "<form" in content else ""
    body = TEMPLATES["base"].substitute(title=_e(title), nonce=nonce, summary=summary, content=content, script=script)
    return Response(
        status_code=status,
        content_type="text/html; charset=utf-8",
        body=body,
        headers=_security_headers(nonce),
        cookies=[cookie] if cookie else None,
    )


def _see_other(payment_id: str, cookie: Cookie | None) -> Response[str]:
    headers = {**_security_headers(secrets.token_urlsafe(18)), "Location": _checkout_path(payment_id)}
    return Response(status_code=303, body="", headers=headers, cookies=[cookie] if cookie else None)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


AMOUNT_LABELS = {
    Page.CARD: "Amount due",
    Page.OTP: "Amount due",
    Page.PAID: "Amount paid",
    Page.REFUNDED: "Amount refunded",
}  # declined and expired pages: "Amount"


def _summary(current: Checkout) -> str:
    payment = current.payment
    amount_text = format_amount(payment.amount, payment.currency)
    number, _, currency = amount_text.rpartition(" ")
    return TEMPLATES["summary"].substitute(
        label=AMOUNT_LABELS.get(current.page, "Amount"),
        amount=_e(number),
        currency=_e(currency),
        reference=_e(reference_of(payment)),
    )


def _field(name: str, errors: dict[str, str], hint_id: str | None = None) -> tuple[str, str]:
    """(input attributes, error paragraph) for a field: errors are tied to it for screen readers."""
    described = [hint_id] if hint_id else []
    if name not in errors:
        return (f'aria-describedby="{" ".join(described)}"' if described else ""), ""
    error_id = f"{name}-error"
    attrs = f'aria-invalid="true" aria-describedby="{" ".join([*described, error_id])}"'
    return attrs, f'<p class="error" id="{error_id}" role="alert">{_e(errors[name])}</p>'


def _alert(errors: dict[str, str]) -> str:
    if not errors:
        return ""
    return '<div class="alert" role="alert">Please correct the highlighted fields.</div>'


def _page_for(current: Checkout) -> Response[str]:
    if current.page is Page.CARD:
        return _card_page(current)
    if current.page is Page.OTP:
        return _otp_page(current)
    response = _result_page(current)
    if _cookie_code() is not None:  # the code is spent: drop it from the browser
        response.cookies.append(_otp_cookie(current, "", clear=True))
    return response


def _card_page(
    current: Checkout, errors: dict[str, str] | None = None, kept: dict[str, str] | None = None, status: int = 200
) -> Response[str]:
    if current.page is not Page.CARD:  # it moved on while the form was being corrected
        return _page_for(current)
    errors = errors or {}
    payment = current.payment
    kept = kept or {"email": payment.customer_email or "", "expiry": ""}
    values: dict[str, str] = {}
    for name in CARD_FIELDS:
        attrs, error = _field(name, errors, f"{name}-hint" if name in ("email", "card_number") else None)
        values[f"{name}_attrs"], values[f"{name}_error"] = attrs, error
    rows = "\n".join(
        f'<tr><td class="num">{_e(card.display)}</td><td>{_e(card.description)}</td></tr>' for card in cards.CATALOGUE
    )
    rows += '\n<tr><td class="num">any other valid number</td><td>Declined (insufficient_funds)</td></tr>'
    # Like Stripe Checkout's cancel_url: back to the merchant, the payment unchanged (still
    # pending, payable from this link until it expires); the URL says status=pending.
    url = return_url(current)
    cancel = f'<p class="cancel"><a href="{_e(url)}">Cancel and return to merchant</a></p>' if url else ""
    content = TEMPLATES["card"].substitute(
        alert=_alert(errors),
        action=_e(_checkout_path(payment.payment_id)),
        csrf_token=_e(checkout.csrf_token(payment.payment_id, checkout.CARD_FORM)),
        email=_e(kept.get("email", "")),
        expiry=_e(kept.get("expiry", "")),
        amount_text=_e(format_amount(payment.amount, payment.currency)),
        test_cards=rows,
        cancel_link=cancel,
        test_card_numbers=",".join(card.number for card in cards.CATALOGUE),
        **values,
    )
    return _html(status, "Pay by card", content, _summary(current))


def _otp_page(current: Checkout, errors: dict[str, str] | None = None, status: int = 200) -> Response[str]:
    if current.page is not Page.OTP:
        return _page_for(current)
    errors = dict(errors or {})
    payment = current.payment
    if not errors and current.otp_attempts:
        left = current.attempts_left
        errors["otp"] = f"That code is not correct. {left} attempt{'s' if left != 1 else ''} left."
    attrs, error = _field("otp", errors)
    if otp_mail.code_was_emailed(payment):
        sent_note = f"We e-mailed a 6-digit code to {_e(masked_email(payment.customer_email or ''))}."
    else:
        sent_note = "Enter the 6-digit one-time code for this payment."
    sandbox_code = ""
    code = _cookie_code()
    if get_settings().sandbox_show_otp and current.shows_code(code):
        sandbox_code = (
            '<div class="sandbox-otp"><span>Test mode: your code is</span>'
            f'<output data-testid="sandbox-otp">{_e(code)}</output></div>'
        )
    content = TEMPLATES["otp"].substitute(
        sent_note=sent_note,
        resent_note=_resent_note(current, bool(sandbox_code)),
        sandbox_code=sandbox_code,
        alert="",
        action=_e(_checkout_path(payment.payment_id) + "/otp"),
        csrf_token=_e(checkout.csrf_token(payment.payment_id, checkout.OTP_FORM)),
        otp_attrs=attrs,
        otp_error=error,
        card_mask=_e(payment.card_mask or ""),
        resend_button=(
            '<button type="submit" class="secondary" name="action" value="resend" formnovalidate>'
            "Send a new code</button>"
            if current.can_resend
            else ""
        ),
    )
    return _html(status, "Confirm your payment", content, _summary(current))


def _resent_note(current: Checkout, code_shown: bool) -> str:
    """What "Send a new code" did, on the page its redirect shows (and any later view of it)."""
    if not current.otp_resends:
        return ""
    payment = current.payment
    if otp_mail.code_was_emailed(payment):
        note = f"We sent a new code to {masked_email(payment.customer_email or '')}."
    elif code_shown:
        note = "Here is your new code."
    else:
        note = "A new code was made for this payment."
    note += " Codes sent before it no longer work."
    if not current.can_resend:
        note += " No more new codes can be sent for this payment."
    return f'<p class="notice" role="status">{_e(note)}</p>'


# Icons are drawn (templates/icon_*.html, inline SVG), not typed: a check mark or a clock
# character needs a symbol or emoji font that a customer's device may not have.
RESULTS = {
    Page.PAID: ("Payment successful", "ok"),
    Page.DECLINED: ("Payment declined", "bad"),
    Page.EXPIRED: ("Payment expired", "neutral"),
    Page.REFUNDED: ("Payment refunded", "neutral"),
}


def _result_page(current: Checkout) -> Response[str]:
    heading, icon_class = RESULTS[current.page]
    icon = TEMPLATES[f"icon_{current.page.value}"].template.strip()
    payment = current.payment
    if current.page is Page.PAID:
        message = f"Paid with card {payment.card_mask}." if payment.card_mask else "The payment has been received."
    elif current.page is Page.DECLINED:
        message = cards.decline_reason(payment.decline_code)
    elif current.page is Page.EXPIRED:
        message = "This payment link has expired. Return to the merchant to start again."
    else:
        message = "This payment has been refunded."
    url = return_url(current)
    if url:
        return_link = f'<a class="button" href="{_e(url)}">Return to merchant</a>'
    else:
        return_link = "<p>You can close this window.</p>"
    content = TEMPLATES["result"].substitute(
        icon_class=icon_class, icon=icon, heading=_e(heading), message=_e(message), return_link=return_link
    )
    return _html(200, heading, content, _summary(current))


def _message(status: int, heading: str, message: str, link: str = "") -> Response[str]:
    content = TEMPLATES["message"].substitute(heading=_e(heading), message=_e(message), link=link)
    return _html(status, heading, content)


def return_url(checkout: Checkout) -> str | None:
    """The merchant's redirect_url with ``payment_id`` and ``status`` added (invoices only;
    v2 payments have no redirect URL). A payment past its expiry already says ``expired``."""
    payment = checkout.payment
    if not payment.redirect_url:
        return None
    status = Status.EXPIRED.value if checkout.page is Page.EXPIRED else payment.status.value
    parts = urlsplit(payment.redirect_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("payment_id", "status")]
    query += [("payment_id", payment.payment_id), ("status", status)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def masked_email(email: str) -> str:
    """An address as the page may show it: a***@example.com."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


init_phase.end()  # the handler is ready
