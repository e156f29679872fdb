"""One-time codes: random 6 digits, stored only as a keyed hash bound to the payment."""

from __future__ import annotations

import hashlib

import pytest

from paysandbox import otp


def test_codes_are_six_digits_and_vary() -> None:
    codes = {otp.new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 190  # 200 draws from 10^6: collisions are rare, a constant is caught


def test_hash_is_keyed_bound_to_payment_and_not_the_plain_digest() -> None:
    stored = otp.hash_code("inv_1", "123456")
    assert "123456" not in stored
    assert stored != hashlib.sha256(b"inv_1:123456").hexdigest()
    assert otp.matches("inv_1", "123456", stored)
    assert not otp.matches("inv_1", "123457", stored)
    assert not otp.matches("inv_2", "123456", stored)  # a hash cannot be moved to another payment
    assert not otp.matches("inv_1", "123456", None)


def test_a_new_webhook_secret_invalidates_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = otp.hash_code("inv_1", "123456")
    monkeypatch.setenv("WEBHOOK_SECRET", "rotated-secret")
    assert not otp.matches("inv_1", "123456", stored)


@pytest.mark.parametrize(("code", "ok"), [("012345", True), ("12345", False), ("1234567", False), ("12a456", False)])
def test_well_formed(code: str, ok: bool) -> None:
    assert otp.is_well_formed(code) is ok
