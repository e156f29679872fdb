"""Conformance set-up: the local sandbox started as ``make run`` starts it (``python -m
sandbox`` in a subprocess on free ports, one per test so every test can use the READMEs'
literal ids such as ``tx_1001``), a real HTTP receiver on 127.0.0.1, and a customer who pays
on the hosted checkout over plain HTTP."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bench.lifecycle_driver import form_field
from harness.receiver import Receiver
from harness.sandbox_process import SECRET, TOKEN, Sandbox

OPERATOR = {"Authorization": f"Bearer {TOKEN}"}

__all__ = ["OPERATOR", "SECRET", "TOKEN", "Customer", "Sandbox"]


@pytest.fixture
def start(sandbox_factory: Callable[..., Sandbox]) -> Callable[..., Sandbox]:
    """``start(**env)``: a fresh sandbox, state in memory only."""

    def started(**env: str) -> Sandbox:
        return sandbox_factory(SANDBOX_STATE_DIR="none", **env)

    return started


@pytest.fixture
def sandbox(start: Callable[..., Sandbox]) -> Sandbox:
    return start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


class Customer:
    """A customer's browser on the hosted checkout, over HTTP: cookies kept, redirects followed,
    forms read from the HTML."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, url: str) -> str:
        with self.opener.open(url, timeout=15) as response:
            return str(response.read().decode())

    def post(self, url: str, form: dict[str, str]) -> str:
        data = urllib.parse.urlencode(form).encode()
        with self.opener.open(urllib.request.Request(url, data=data, method="POST"), timeout=15) as response:
            return str(response.read().decode())

    def pay(self, page_url: str, card_number: str, expiry: str, cvv: str) -> str:
        """Card form, then the one-time code the sandbox shows; returns the result page."""
        card_page = self.get(page_url)
        form = {"email": "", "card_number": card_number, "expiry": expiry, "cvv": cvv}
        otp_page = self.post(page_url, {**form, "csrf_token": form_field(card_page, "csrf_token")})
        code = re.search(r'data-testid="sandbox-otp">(\d{6})<', otp_page)
        assert code, otp_page
        return self.post(page_url + "/otp", {"otp": code.group(1), "csrf_token": form_field(otp_page, "csrf_token")})


def json_type(value: Any) -> str:
    """The JSON type of a decoded value, as a reader of the README would name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}[type(value)]
