"""The checkout's HTML: one page per payment state, rendered with ``string.Template`` from
``templates/`` (shipped with the function), every value HTML-escaped here.

Each response carries a fresh CSP nonce for its one inline style and script. A form error
re-renders its form with the message next to the field.
"""

from __future__ import annotations

import html
import secrets
from pathlib import Path
from string import Template
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie
from checkout_browser import Browser

from paysandbox import cards, checkout, otp_mail
from paysandbox.checkout import Checkout, Page
from paysandbox.payment_display import format_amount, reference_of
from paysandbox.settings import get_settings
from paysandbox.states import Status

TEMPLATES_DIR = Path(__file__).parent / "templates"
TEMPLATES = {p.stem: Template(p.read_text()) for p in TEMPLATES_DIR.glob("*.html")}
SCRIPT = (TEMPLATES_DIR / "script.js").read_text()
CARD_FIELDS = ("email", "card_number", "expiry", "cvv")

AMOUNT_LABELS = {
    Page.CARD: "Amount due",
    Page.OTP: "Amount due",
    Page.PAID: "Amount paid",
    Page.REFUNDED: "Amount refunded",
}  # declined and expired pages: "Amount"

# Icons are drawn (templates/icon_*.html, inline SVG), not typed: a check mark or a clock
# character needs a symbol or emoji font that a customer's device may not have.
RESULTS = {
    Page.PAID: ("Payment successful", "ok"),
    Page.DECLINED: ("Payment declined", "bad"),
    Page.EXPIRED: ("Payment expired", "neutral"),
    Page.REFUNDED: ("Payment refunded", "neutral"),
}


# ------------------------------------------------------------------ the pages


def page_for(current: Checkout, browser: Browser) -> Response[str]:
    """The page of the payment's state."""
    if current.page is Page.CARD:
        return card_page(current, browser)
    if current.page is Page.OTP:
        return otp_page(current, browser)
    response = result_page(current)
    if browser.cookie_code() is not None:  # the code is spent: drop it from the browser
        response.cookies.append(browser.otp_cookie(current, "", clear=True))
    return response


def card_page(
    current: Checkout,
    browser: Browser,
    errors: dict[str, str] | None = None,
    kept: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    """The card form; ``kept`` are the harmless fields echoed back after a form error."""
    if current.page is not Page.CARD:  # it moved on while the form was being corrected
        return page_for(current, browser)
    errors = errors or {}
    payment = current.payment
    kept = kept or {"email": payment.customer_email or "", "expiry": ""}
    values: dict[str, str] = {}
    for name in CARD_FIELDS:
        attrs, error = _field(name, errors, f"{name}-hint" if name in ("email", "card_number") else None)
        values[f"{name}_attrs"], values[f"{name}_error"] = attrs, error
    # Like Stripe Checkout's cancel_url: back to the merchant, the payment unchanged (still
    # pending, payable from this link until it expires); the URL says status=pending.
    url = return_url(current)
    cancel = f'<p class="cancel"><a href="{_e(url)}">Cancel and return to merchant</a></p>' if url else ""
    content = TEMPLATES["card"].substitute(
        alert=_alert(errors),
        action=_e(browser.checkout_path(payment.payment_id)),
        csrf_token=_e(checkout.csrf_token(payment.payment_id, checkout.CARD_FORM)),
        email=_e(kept.get("email", "")),
        expiry=_e(kept.get("expiry", "")),
        amount_text=_e(format_amount(payment.amount, payment.currency)),
        test_cards=_test_card_rows(),
        cancel_link=cancel,
        test_card_numbers=",".join(card.number for card in cards.CATALOGUE),
        **values,
    )
    return html_page(status, "Pay by card", content, _summary(current))


def otp_page(
    current: Checkout, browser: Browser, errors: dict[str, str] | None = None, status: int = 200
) -> Response[str]:
    """The one-time-code form (with the code itself in test mode, to the browser that has it)."""
    if current.page is not Page.OTP:
        return page_for(current, browser)
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
    code = browser.cookie_code()
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
        action=_e(browser.checkout_path(payment.payment_id) + "/otp"),
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
    return html_page(status, "Confirm your payment", content, _summary(current))


def result_page(current: Checkout) -> Response[str]:
    """Paid, declined, expired or refunded, with the way back to the merchant."""
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
    return html_page(200, heading, content, _summary(current))


def message_page(status: int, heading: str, message: str, link_to: str = "", link_text: str = "") -> Response[str]:
    """A page with a heading and a message (errors, not found), and a button to ``link_to``."""
    link = f'<a class="button" href="{_e(link_to)}">{_e(link_text)}</a>' if link_to else ""
    content = TEMPLATES["message"].substitute(heading=_e(heading), message=_e(message), link=link)
    return html_page(status, heading, content)


def see_other(location: str, cookie: Cookie | None) -> Response[str]:
    """303 back to a checkout page (Post/Redirect/Get: a refresh never re-posts a form)."""
    headers = {**security_headers(secrets.token_urlsafe(18)), "Location": location}
    return Response(status_code=303, body="", headers=headers, cookies=[cookie] if cookie else None)


# ------------------------------------------------------------------ shaping


def security_headers(nonce: str) -> dict[str, str]:
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


def html_page(status: int, title: str, content: str, summary: str = "") -> Response[str]:
    nonce = secrets.token_urlsafe(18)
    script = f'<script nonce="{nonce}">{SCRIPT}</script>' if "<form" in content else ""
    body = TEMPLATES["base"].substitute(title=_e(title), nonce=nonce, summary=summary, content=content, script=script)
    return Response(
        status_code=status, content_type="text/html; charset=utf-8", body=body, headers=security_headers(nonce)
    )


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


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


def _test_card_rows() -> str:
    rows = "\n".join(
        f'<tr><td class="num">{_e(card.display)}</td><td>{_e(card.description)}</td></tr>' for card in cards.CATALOGUE
    )
    return rows + '\n<tr><td class="num">any other valid number</td><td>Declined (insufficient_funds)</td></tr>'


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


def return_url(current: Checkout) -> str | None:
    """The merchant's redirect_url with ``payment_id`` and ``status`` added (invoices only;
    v2 payments have no redirect URL). A payment past its expiry already says ``expired``."""
    payment = current.payment
    if not payment.redirect_url:
        return None
    status = Status.EXPIRED.value if current.page is Page.EXPIRED else payment.status.value
    parts = urlsplit(payment.redirect_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("payment_id", "status")]
    query += [("payment_id", payment.payment_id), ("status", status)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def masked_email(email: str) -> str:
    """An address as the page may show it: a***@example.com."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
