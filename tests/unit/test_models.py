"""Request validation of both API flavours and the payment views."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from paysandbox.errors import validation_failed
from paysandbox.models import InvoiceCreate, Payment, V2Create, payment_view
from paysandbox.states import Status
from tests.support import invoice_body, v2_body


def test_invoice_accepts_camel_case_url_aliases() -> None:
    body = invoice_body()
    body["webhookUrl"] = body.pop("webhook_url")
    body["redirectUrl"] = body.pop("redirect_url")
    parsed = InvoiceCreate.model_validate(body)
    assert parsed.webhook_url == "https://merchant.example.com/hooks"
    assert parsed.redirect_url == "https://merchant.example.com/thanks"
    assert parsed.currency == "UAH"


def test_snake_and_camel_case_bodies_are_the_same_request() -> None:
    camel = invoice_body()
    camel["webhookUrl"] = camel.pop("webhook_url")
    assert InvoiceCreate.model_validate(camel).model_dump() == InvoiceCreate.model_validate(invoice_body()).model_dump()


@pytest.mark.parametrize("amount", [0, -1, 1.5, 100.0, "100", True, None, 10**12 + 1, [], {"value": 1}], ids=repr)
def test_amount_must_be_a_positive_integer_of_minor_units(amount: object) -> None:
    with pytest.raises(ValidationError):
        InvoiceCreate.model_validate(invoice_body(amount=amount))
    with pytest.raises(ValidationError):
        V2Create.model_validate(v2_body(amount=amount))


def test_amount_limits_are_inclusive() -> None:
    assert InvoiceCreate.model_validate(invoice_body(amount=1)).amount == 1
    assert InvoiceCreate.model_validate(invoice_body(amount=10**12)).amount == 10**12


@pytest.mark.parametrize("value", [123, 0, "123", "order-1001", 2**63 - 1, -(2**63)], ids=repr)
def test_v2_ids_keep_the_json_type_the_client_sent(value: object) -> None:
    # The Payment Server v2 README sends "order_id": 123, "user_id": 1 (integers).
    parsed = V2Create.model_validate(v2_body(order_id=value, user_id=value))
    assert (parsed.order_id, parsed.user_id) == (value, value)
    assert (type(parsed.order_id), type(parsed.user_id)) == (type(value), type(value))
    stored = _payment(order_id=parsed.order_id, user_id=parsed.user_id)
    view = payment_view(stored)
    assert (view["order_id"], view["user_id"]) == (value, value)
    assert type(view["order_id"]) is type(value)


@pytest.mark.parametrize("value", [True, 1.0, 1.5, None, "", [], {}, 2**63, "x" * 129], ids=repr)
def test_v2_ids_are_an_integer_or_a_non_empty_string(value: object) -> None:
    with pytest.raises(ValidationError):
        V2Create.model_validate(v2_body(order_id=value))
    with pytest.raises(ValidationError):
        V2Create.model_validate(v2_body(user_id=value))


def test_card_mask_and_amount_refunded_are_always_there() -> None:
    view = payment_view(_payment(flavour="invoice", reference="r-1"))
    assert view["card_mask"] == "" and view["amount_refunded"] == 0


def test_the_package_version_is_the_projects() -> None:
    import tomllib

    import paysandbox
    from tests.support import ROOT

    assert paysandbox.__version__ == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://merchant.example.com/hook",
        "/relative/path",
        "merchant.example.com/hook",
        "https://",
        "https://user:pass@merchant.example.com/",
        "https://merchant.example.com/a b",
        "https://merchant.example.com/" + "x" * 2100,
        "javascript:alert(1)",
    ],
)
def test_urls_must_be_absolute_http(url: str) -> None:
    with pytest.raises(ValidationError):
        InvoiceCreate.model_validate(invoice_body(webhook_url=url))
    with pytest.raises(ValidationError):
        V2Create.model_validate(v2_body(callback_url=url))


@pytest.mark.parametrize("reference", ["", "r" * 129, 42, None])
def test_reference_is_1_to_128_characters(reference: object) -> None:
    with pytest.raises(ValidationError):
        InvoiceCreate.model_validate(invoice_body(reference=reference))


def test_currency_is_an_iso_code_upper_cased() -> None:
    assert InvoiceCreate.model_validate(invoice_body(currency="eur")).currency == "EUR"
    for bad in ("EU", "EURO", "E1R", ""):
        with pytest.raises(ValidationError):
            InvoiceCreate.model_validate(invoice_body(currency=bad))


@pytest.mark.parametrize("tx_id", ["", "t" * 129, "a/b", "with space", "tab\there", 7])
def test_tx_id_must_be_a_safe_identifier(tx_id: object) -> None:
    with pytest.raises(ValidationError):
        V2Create.model_validate(v2_body(tx_id=tx_id))


def test_v2_version_must_be_v2_when_given() -> None:
    assert V2Create.model_validate({k: v for k, v in v2_body().items() if k != "version"}).version == "v2"
    with pytest.raises(ValidationError):
        V2Create.model_validate(v2_body(version="v1"))


def test_validation_details_name_fields_but_never_echo_input() -> None:
    secret_looking = "4444444444444444"
    with pytest.raises(ValidationError) as caught:
        InvoiceCreate.model_validate(invoice_body(amount=secret_looking, reference=""))
    body = validation_failed(caught.value).to_body()
    assert body["error"]["code"] == "validation_error"
    assert {d["field"] for d in body["error"]["details"]} == {"amount", "reference"}
    assert secret_looking not in str(body)


def _payment(**overrides: object) -> Payment:
    values: dict[str, object] = {
        "payment_id": "pay_tx-1",
        "flavour": "v2",
        "status": Status.WAITING_FOR_OTP,
        "amount": 100,
        "webhook_url": "https://merchant.example.com/hook",
        "tx_id": "tx-1",
        "order_id": "o-1",
        "user_id": "u-1",
        "created_at": 1_800_000_000.0,
        "updated_at": 1_800_000_001.5,
        "expires_at": 1_800_000_900.0,
        "request_hash": "abc",
    }
    values.update(overrides)
    return Payment.model_validate(values)


def test_v2_view_shows_upper_case_status_and_v2_fields() -> None:
    view = payment_view(_payment())
    assert view["status"] == "PENDING"
    assert (view["tx_id"], view["order_id"], view["user_id"]) == ("tx-1", "o-1", "u-1")
    assert "reference" not in view
    assert view["created_at"] == "2027-01-15T08:00:00.000Z"
    assert view["updated_at"] == "2027-01-15T08:00:01.500Z"


def test_invoice_view_shows_lower_case_status_and_reference() -> None:
    view = payment_view(_payment(flavour="invoice", reference="r-1", status=Status.PAID, paid_at=1_800_000_100.0))
    assert view["status"] == "paid"
    assert view["reference"] == "r-1"
    assert view["paid_at"] == "2027-01-15T08:01:40.000Z"
    assert "tx_id" not in view


def test_views_hold_no_internal_or_secret_fields() -> None:
    view = payment_view(_payment(card_mask="**** 4444"))
    assert set(view) == {
        "payment_id",
        "status",
        "amount",
        "currency",
        "created_at",
        "updated_at",
        "expires_at",
        "paid_at",
        "webhook_status",
        "webhook_attempts",
        "card_mask",
        "decline_code",
        "amount_refunded",
        "tx_id",
        "order_id",
        "user_id",
        # The Payment Server v2 README's list example shows these two.
        "confirmed_at",
        "callback_url",
    }
