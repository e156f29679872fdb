"""The seed READMEs' receiver code, run as written.

``seed_code/*.py.txt`` hold the READMEs' code blocks byte for byte (kept out of ruff's reach,
which would reformat them). They are executed here; the Django view gets stand-ins for the
four Django names it uses (``csrf_exempt``, ``JsonResponse``, ``settings``, ``Order``) and a
request object with ``method``, ``headers`` and ``body`` as Django gives it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.receiver import Received, Reply

SEED_CODE = Path(__file__).with_name("seed_code")


def _run(name: str, names: dict[str, Any]) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": f"seed_{name}", **names}
    exec(compile((SEED_CODE / name).read_text(encoding="utf-8"), name, "exec"), namespace)  # noqa: S102
    return namespace


class JsonResponse:
    def __init__(self, data: dict[str, Any], status: int = 200) -> None:
        self.status_code = status
        self.content = json.dumps(data).encode()


class Order:
    """A shop's order: ``Order.objects.get(payment_id=...)`` over the orders the test placed."""

    placed: dict[str, Order] = {}

    def __init__(self, payment_id: str) -> None:
        self.payment_id = payment_id
        self.status = "new"
        self.saves = 0

    def save(self) -> None:
        self.saves += 1

    class objects:  # Django's manager attribute
        @staticmethod
        def get(payment_id: str) -> Order:
            return Order.placed[payment_id]


class DjangoRequest:
    def __init__(self, received: Received) -> None:
        self.method = "POST"
        self.headers = {k.title(): v for k, v in received.headers.items()}  # Django's are case-insensitive
        self.body = received.body


class DjangoShop:
    """AcquireMock v2 README "Отримання webhook в Django": ``payment_webhook`` as the shop runs it."""

    def __init__(self, secret: str) -> None:
        settings = type("settings", (), {"WEBHOOK_SECRET": secret})
        self.orders: dict[str, Order] = {}
        Order.placed = self.orders
        code = _run(
            "acquiremock_django_webhook.py.txt",
            {"csrf_exempt": lambda view: view, "JsonResponse": JsonResponse, "settings": settings, "Order": Order},
        )
        self.view: Callable[[DjangoRequest], JsonResponse] = code["payment_webhook"]
        self.verify_webhook_signature: Callable[[dict[str, Any], str, str], bool] = code["verify_webhook_signature"]

    def place_order(self, payment_id: str) -> Order:
        self.orders[payment_id] = Order(payment_id)
        return self.orders[payment_id]

    def reply(self, received: Received, _n: int) -> Reply:
        """A ``Receiver.plan``: the view's answer is the HTTP answer."""
        response = self.view(DjangoRequest(received))
        return Reply(status=response.status_code, body=response.content)


def payment_server_verify() -> Callable[[bytes, str, str], bool]:
    """Payment Server v2 README "서명 검증": ``verify_webhook_signature(payload, signature, secret)``."""
    verify: Callable[[bytes, str, str], bool] = _run("payment_server_verify.py.txt", {})["verify_webhook_signature"]
    return verify
