"""Figure 3's driver: one payment through the real handlers as a merchant, a browser and
Lambda's event source mapping would drive them (``Bench.run_lifecycle``), each step counted
(``bench/lifecycle_counting.py``), and the checks that it really happened.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from bench.common import captured_stdout
from bench.ddb_counter import item_size
from bench.lifecycle_counting import CountedSteps, Lifecycle, Step
from harness.receiver import Receiver
from harness.streams import StreamReader

CARD = "4444 4444 4444 4444"
FORM = "application/x-www-form-urlencoded"


def x_signature_valid(secret: str, headers: dict[str, str], raw: bytes) -> bool:
    """X-Signature (docs/webhooks.md): hex HMAC-SHA256 of the sorted-keys JSON body (recomputed here)."""
    expected = hmac.new(secret.encode(), json.dumps(json.loads(raw), sort_keys=True).encode(), hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), headers.get("X-Signature", ""))


class Browser:
    """One browser on the hosted checkout: keeps cookies, reads forms from the HTML."""

    def __init__(self, invoke: Callable[[str, dict[str, Any]], dict[str, Any]]):
        self.invoke = invoke
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, resource: str, payment_id: str, form: dict[str, str] | None = None
    ) -> dict[str, Any]:
        from sandbox.apigw import proxy_event

        headers = {"Accept": "text/html"}
        if form is not None:
            headers["Content-Type"] = FORM
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        event = proxy_event(
            method,
            path,
            resource=resource,
            path_parameters={"payment_id": payment_id},
            headers=headers,
            body=urlencode(form) if form is not None else None,
        )
        response: dict[str, Any] = self.invoke("CheckoutFunction", event)
        for cookie in (response.get("multiValueHeaders") or {}).get("Set-Cookie", []):
            name, _, rest = cookie.partition("=")
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = rest.split(";")[0]
        return response

    def get(self, payment_id: str) -> str:
        response = self.request("GET", f"/checkout/{payment_id}", "/checkout/{payment_id}", payment_id)
        if response["statusCode"] != 200:
            raise RuntimeError(f"checkout page answered {response['statusCode']}")
        return str(response["body"])

    def post(self, payment_id: str, suffix: str, form: dict[str, str]) -> None:
        path = f"/checkout/{payment_id}{suffix}"
        response = self.request("POST", path, "/checkout/{payment_id}" + suffix, payment_id, form)
        if response["statusCode"] != 303:
            raise RuntimeError(f"POST {suffix or '/'} answered {response['statusCode']}, not 303")


def form_field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    if not found:
        raise RuntimeError(f"the page has no {name} field")
    return found.group(1)


class LambdaStreamPoller:
    """What Lambda's event source mapping does: read the Payments stream from where it left
    off (moto's real get_records), keep records that pass the template's FilterCriteria."""

    def __init__(self, admin: Any) -> None:
        import boto3

        from sandbox.template import filter_patterns

        self.streams = boto3.client("dynamodbstreams")
        self.calls: Counter[str] = Counter()
        self.streams.meta.events.register("after-call.dynamodb-streams.*", self._count)
        self.arn = admin.describe_table(TableName="Payments")["Table"]["LatestStreamArn"]
        self.filters = filter_patterns("WebhookSenderFunction", "PaymentsStream")
        self.reader = StreamReader(self.streams, self.arn)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def poll(self) -> tuple[list[dict[str, Any]], int]:
        """(records that pass the filter, records read)."""
        from sandbox.event_filter import matches_any
        from sandbox.lambda_events import stream_records_to_event

        records = self.reader.poll()
        event = stream_records_to_event(records, self.arn)
        return [r for r in event["Records"] if matches_any(self.filters, r)], len(records)


class Bench:
    """The handlers, the counter, the census and the receiver of one moto account."""

    def __init__(self, admin: Any, receiver: Receiver) -> None:
        from sandbox.functions import functions

        self.admin = admin
        self.receiver = receiver
        self.functions = functions()
        for name in (
            "CreatePaymentFunction",
            "CheckoutFunction",
            "WebhookSenderFunction",
            "ExpirerFunction",
            "ConfirmFunction",
        ):
            self.functions[name].load()
        self.counted = CountedSteps(admin)
        self.poller = LambdaStreamPoller(admin)
        self.lifecycle: Lifecycle = Lifecycle()

    def __enter__(self) -> Bench:
        return self

    def __exit__(self, *exc: object) -> None:
        self.counted.__exit__()

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        with captured_stdout() as logs:
            started = time.process_time()
            result = self.functions[function].invoke(event)
            elapsed = (time.process_time() - started) * 1000
        self.lifecycle.durations_ms.setdefault(function, []).append(elapsed)
        self.lifecycle.log_bytes[function] = self.lifecycle.log_bytes.get(function, 0) + logs.bytes_written
        return result

    @contextmanager
    def step(self, name: str, function: str, via_api: bool = True) -> Iterator[None]:
        with self.counted.step(name):
            yield
        self.lifecycle.steps.append(Step(name, function, self.counted.last, via_api=via_api))

    def run_lifecycle(self, reference: str) -> tuple[Lifecycle, str]:
        """One full lifecycle; returns it and the payment id."""
        self.lifecycle = Lifecycle()
        payment_id = self._create_invoice(reference)
        self._pay_on_checkout(payment_id)
        self._deliver_webhook()
        self.lifecycle.stream_calls = Counter(self.poller.calls)
        self.poller.calls.clear()
        return self.lifecycle, payment_id

    def _create_invoice(self, reference: str) -> str:
        """The merchant's ``POST /api/create-invoice``; the new payment's id."""
        from sandbox.apigw import proxy_event

        body = {
            "amount": 12_500,
            "reference": reference,
            "webhook_url": self.receiver.url("/hooks"),
            "redirect_url": "https://merchant.example.com/thanks",
        }
        with self.step("create invoice (POST /api/create-invoice)", "CreatePaymentFunction"):
            event = proxy_event(
                "POST", "/api/create-invoice", headers={"Content-Type": "application/json"}, body=json.dumps(body)
            )
            response = self.invoke("CreatePaymentFunction", event)
        if response["statusCode"] != 200:
            raise RuntimeError(f"create invoice answered {response['statusCode']}: {response['body']}")
        return str(json.loads(response["body"])["payment_id"])

    def _pay_on_checkout(self, payment_id: str) -> None:
        """The customer's browser: card page, card 4444, code page, code, result page."""
        browser = Browser(self.invoke)
        with self.step("card page (GET /checkout/{id})", "CheckoutFunction"):
            card_page = browser.get(payment_id)
        card_form = {
            "email": "",
            "card_number": CARD,
            "expiry": "12/30",
            "cvv": "123",
            "csrf_token": form_field(card_page, "csrf_token"),
        }
        with self.step("card 4444 (POST /checkout/{id})", "CheckoutFunction"):
            browser.post(payment_id, "", card_form)
        if "psb_otp" not in browser.cookies:
            raise RuntimeError("the card step set no psb_otp cookie (is SANDBOX_SHOW_OTP on?)")
        with self.step("code page (GET /checkout/{id}, psb_otp cookie)", "CheckoutFunction"):
            otp_page = browser.get(payment_id)
        shown = re.search(r'data-testid="sandbox-otp">(\d{6})<', otp_page)
        if not shown:
            raise RuntimeError("the code page does not show the one-time code")
        otp_form = {"otp": shown.group(1), "csrf_token": form_field(otp_page, "csrf_token")}
        with self.step("code (POST /checkout/{id}/otp)", "CheckoutFunction"):
            browser.post(payment_id, "/otp", otp_form)
        with self.step("result page (GET /checkout/{id}, the 303's target)", "CheckoutFunction"):
            result_page = browser.get(payment_id)
        if "Payment successful" not in result_page:
            raise RuntimeError("the result page does not say the payment succeeded")

    def _deliver_webhook(self) -> None:
        """Lambda's side: the stream read, filtered records handed to the sender in batches."""
        sender_invocations = 0
        with self.step("webhook (stream -> WebhookSenderFunction -> receiver)", "WebhookSenderFunction", False):
            for _ in range(2):  # the terminal transition, then the sender's own bookkeeping write
                passing, _read = self.poller.poll()
                for start in range(0, len(passing), 5):  # BatchSize 5, as in the template
                    result = self.invoke("WebhookSenderFunction", {"Records": passing[start : start + 5]})
                    sender_invocations += 1
                    if result != {"batchItemFailures": []}:
                        raise RuntimeError(f"the sender reported failures: {result}")
        self.lifecycle.steps[-1].invocations = sender_invocations

    def check_paid_and_delivered(self, payment_id: str, secret: str) -> dict[str, Any]:
        """The lifecycle really happened: paid, one signed webhook, delivered. Returns the item."""
        item = self.admin.get_item(TableName="Payments", Key={"payment_id": {"S": payment_id}}, ConsistentRead=True)
        payment = item["Item"]
        if payment["status"]["S"] != "paid":
            raise RuntimeError(f"payment ended {payment['status']['S']!r}, not paid")
        hooks = [
            (r.headers, r.body) for r in self.receiver.requests if json.loads(r.body).get("payment_id") == payment_id
        ]
        if len(hooks) != 1:
            raise RuntimeError(f"the receiver got {len(hooks)} webhooks for the payment, not exactly 1")
        headers, raw = hooks[0]
        if not x_signature_valid(secret, headers, raw) or json.loads(raw).get("status") != "paid":
            raise RuntimeError("the webhook's X-Signature does not verify (or it does not say paid)")
        if payment.get("webhook_status", {}).get("S") != "delivered":
            raise RuntimeError(f"webhook_status is {payment.get('webhook_status')}, not delivered")
        return dict(payment)

    def stored_bytes(self, payment: dict[str, Any]) -> float:
        """Bytes one lifecycle keeps until TTL: the payment in the table, its keys in the
        keys-only by-status index, its WebhookLogs items; DynamoDB adds 100 bytes per item and
        index entry."""
        payment_id = payment["payment_id"]["S"]
        logs = self.admin.query(
            TableName="WebhookLogs",
            KeyConditionExpression="payment_id = :p",
            ExpressionAttributeValues={":p": {"S": payment_id}},
        )["Items"]
        index_keys: dict[str, Any] = {
            k: payment[k] for k in ("payment_id", "status_group", "created_at") if k in payment
        }
        table_and_index = item_size(payment) + 100 + item_size(index_keys) + 100
        return table_and_index + sum(item_size(i) + 100 for i in logs)

    def run_expirer(self) -> Step:
        """One scheduled run over a table holding one due payment (seeded with the admin client)."""
        from bench.expirer_scaling import EXPIRER_RULE, _payment
        from sandbox.lambda_events import scheduled_event

        now = time.time()
        payment_id = f"inv_benchdue{secrets.token_hex(6)}"
        self.admin.put_item(TableName="Payments", Item=_payment(payment_id, "pending", "pending", now - 1000, True))
        self.lifecycle = Lifecycle()
        with self.step("expirer run (schedule, 1 due payment)", "ExpirerFunction", False):
            run = self.invoke("ExpirerFunction", scheduled_event(EXPIRER_RULE))
        if run.get("expired") != 1:
            raise RuntimeError(f"the expirer expired {run.get('expired')} payments, not the 1 due")
        status = self.admin.get_item(TableName="Payments", Key={"payment_id": {"S": payment_id}})["Item"]["status"]
        if status["S"] != "expired":
            raise RuntimeError("the due payment is not expired")
        return self.lifecycle.steps[0]
