"""How a payment reads to a person: its amount in major units and the merchant's reference.

Shared by the checkout page, the one-time-code e-mail and (the table) the console.
"""

from __future__ import annotations

from paysandbox.models import Payment

# ISO 4217 currencies whose minor unit is not 1/100.
MINOR_UNIT_EXPONENTS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND"), 0),
    **dict.fromkeys(("VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def format_amount(amount: int, currency: str) -> str:
    """Minor units as the customer reads them: 12500 UAH → "125.00 UAH"."""
    exponent = MINOR_UNIT_EXPONENTS.get(currency.upper(), 2)
    if exponent == 0:
        return f"{amount:,} {currency}"
    major, minor = divmod(amount, 10**exponent)
    return f"{major:,}.{minor:0{exponent}d} {currency}"


def reference_of(payment: Payment) -> str:
    """What the merchant calls this payment: the invoice reference or the v2 order id (an
    integer or a string, as the merchant sent it)."""
    if payment.reference:
        return payment.reference
    return str(payment.order_id) if payment.order_id not in (None, "") else payment.payment_id
