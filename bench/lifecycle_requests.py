"""Figure 3 - DynamoDB requests per full checkout lifecycle.

Under moto, one payment goes through the real handlers exactly as a merchant, a browser and
Lambda would drive them:

1. ``POST /api/create-invoice`` (CreatePaymentFunction);
2. ``GET /checkout/{id}``: the card page; its form's ``csrf_token`` is read from the HTML;
3. ``POST /checkout/{id}`` with card 4444 4444 4444 4444, form-urlencoded: 303 and the
   ``psb_otp`` cookie (SANDBOX_SHOW_OTP);
4. ``GET /checkout/{id}`` with that cookie: the code page shows the code, read from it;
5. ``POST /checkout/{id}/otp`` with the code and the page's token: 303, the payment is paid;
6. ``GET /checkout/{id}``: the result page the browser's redirect lands on;
7. Lambda's side: the Payments stream read with moto's real ``get_records``, records kept only
   when they pass the template's FilterCriteria, the WebhookSenderFunction invoked with them;
   the webhook goes to a real HTTP receiver on 127.0.0.1 that answers 200. The stream is read
   once more afterwards: the sender's own bookkeeping write must be filtered out.

Counted: every DynamoDB request made by product code. The counter hooks every DynamoDB client
the product modules hold (``paysandbox.*`` and the loaded handler modules) and any client
created while a step runs. As a completeness check, every DynamoDB request moto serves during
a step is tallied too; it must equal the product's count plus the benchmark's own reads (the
counter reads items around writes with a separate client, to price index writes exactly).
Stream calls (DescribeStream, GetShardIterator, GetRecords) are Lambda's event source mapping:
reported, free, not in the total.

Also one ExpirerFunction run on a table holding one due payment ("expirer path"), a full
refund of the first payment with its webhook ("refund path", ``bench/refund_requests.py``), and the
duration and log bytes of every invocation: ``data["profile"]`` is the full-lifecycle
``LifecycleProfile`` the cost model (figure 7) prices.

Checks: the payment ends ``paid``, the receiver got exactly one webhook and its X-Signature
verifies (HMAC recomputed here, not with product code), ``webhook_status`` is ``delivered``,
the expirer expired the due payment, and moto saw no DynamoDB request the counter missed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode

from bench.common import captured_stdout, median, moto_account
from bench.ddb_counter import DynamoDBCounter, attach_counter, item_size
from bench.refund_requests import as_data as refund_data
from bench.refund_requests import run_refund
from bench.refund_requests import summary as refund_summary
from bench.report import Figure
from harness.receiver import Receiver
from harness.streams import StreamReader

NUMBER = 3
NAME = "DynamoDB requests per full checkout lifecycle"
TARGET_REQUESTS = 8
TARGET_WRITE_UNITS = 11
TARGET = f"<= {TARGET_REQUESTS} requests, <= {TARGET_WRITE_UNITS} WRU, 0 scans"
CARD = "4444 4444 4444 4444"
FORM = "application/x-www-form-urlencoded"
# Lifecycles after the first, run for stable median durations and log bytes (the cost model's
# inputs); each must make exactly the same requests as the first.
TIMED_LIFECYCLES = 15
KINDS = ("reads", "writes", "queries", "scans")


# ---------------------------------------------------------------- the merchant's receiver


def x_signature_valid(secret: str, headers: dict[str, str], raw: bytes) -> bool:
    """SPEC §5 X-Signature: hex HMAC-SHA256 of the sorted-keys JSON body (recomputed here)."""
    expected = hmac.new(secret.encode(), json.dumps(json.loads(raw), sort_keys=True).encode(), hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), headers.get("X-Signature", ""))


# ---------------------------------------------------------------- what gets counted


def product_dynamodb_clients() -> list[Any]:
    """Every DynamoDB client a product module holds at module level (layer + loaded handlers)."""
    from botocore.client import BaseClient

    found: dict[int, Any] = {}
    for name, module in list(sys.modules.items()):
        if not (name.startswith("paysandbox") or name.endswith("Function_app")):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, BaseClient) and value.meta.service_model.service_name == "dynamodb":
                found[id(value)] = value
    return list(found.values())


@contextmanager
def counting_new_clients(counter: DynamoDBCounter, images_from: Any) -> Iterator[None]:
    """Attach ``counter`` to any DynamoDB client created while this block runs (lazy clients)."""
    import botocore.session

    original = botocore.session.Session.create_client

    def create_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = original(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            attach_counter(client, counter, images_from=images_from)
        return client

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
    try:
        yield
    finally:
        botocore.session.Session.create_client = original  # type: ignore[method-assign]


@contextmanager
def moto_census() -> Iterator[Counter[str]]:
    """Every DynamoDB (and Streams) request moto serves in this block, by X-Amz-Target,
    whichever client made it: the check that the counter missed nothing."""
    from moto.core.botocore_stubber import BotocoreStubber

    seen: Counter[str] = Counter()
    original = BotocoreStubber.process_request

    def process_request(self: Any, request: Any) -> Any:
        target = request.headers.get("X-Amz-Target") or b""
        target = target.decode() if isinstance(target, bytes) else target
        if target.startswith(("DynamoDB_", "DynamoDBStreams_")):
            seen[target] += 1
        return original(self, request)

    BotocoreStubber.process_request = process_request  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        BotocoreStubber.process_request = original  # type: ignore[method-assign]


class CountedSteps:
    """Counts the product's DynamoDB requests step by step, and proves it missed none.

    The counter sits on every DynamoDB client the product modules hold now and on any created
    during a step. The benchmark's own client (``admin``) reads items around writes for exact
    write units; it has its own counter. After each step the requests moto served must equal
    the two counts added up, or the step fails.
    """

    def __init__(self, admin: Any) -> None:
        self.admin = admin
        self.counter = DynamoDBCounter()
        for client in product_dynamodb_clients():
            attach_counter(client, self.counter, images_from=admin)
        self.own = attach_counter(admin)
        self.last: dict[str, Any] = {}

    def __enter__(self) -> CountedSteps:
        return self

    def __exit__(self, *exc: object) -> None:
        # A counter left on the layer's client would keep reading items back (and be caught).
        self.counter.detach()
        self.own.detach()

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.counter.reset()
        self.own.reset()
        with moto_census() as census, counting_new_clients(self.counter, self.admin):
            yield
        served = sum(n for target, n in census.items() if target.startswith("DynamoDB_"))
        counted = sum(self.counter.requests.values()) + sum(self.own.requests.values())
        if served != counted:
            raise RuntimeError(f"step {name!r}: moto served {served} DynamoDB requests, the counters saw {counted}")
        self.last = self.counter.snapshot()


@dataclass
class Step:
    name: str
    function: str
    snapshot: dict[str, Any]
    invocations: int = 1
    via_api: bool = True


@dataclass
class Lifecycle:
    """One measured lifecycle: per-step DynamoDB work, stream calls, timings, log bytes."""

    steps: list[Step] = field(default_factory=list)
    stream_calls: Counter[str] = field(default_factory=Counter)
    durations_ms: dict[str, list[float]] = field(default_factory=dict)  # per function
    log_bytes: dict[str, int] = field(default_factory=dict)  # per function


def totals(steps: list[Step]) -> dict[str, Any]:
    """The steps' snapshots added up."""
    requests: Counter[str] = Counter()
    summed: dict[str, float] = {k: 0 for k in (*KINDS, "total", "items_read", "read_units", "write_units")}
    summed["index_write_units"] = 0
    for step in steps:
        requests.update(step.snapshot["requests"])
        for key in summed:
            summed[key] += step.snapshot[key]
    return {"requests": dict(requests), **summed}


# ---------------------------------------------------------------- driving the handlers


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
        from sandbox.apigw import proxy_event

        self.lifecycle = Lifecycle()
        browser = Browser(self.invoke)
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
        payment_id = json.loads(response["body"])["payment_id"]

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
        self.lifecycle.stream_calls = Counter(self.poller.calls)
        self.poller.calls.clear()
        return self.lifecycle, payment_id

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


# ---------------------------------------------------------------- the figure


def run(earlier: dict[str, Figure] | None = None) -> Figure:
    receiver = Receiver()
    try:
        with moto_account() as admin, Bench(admin, receiver) as bench:
            first, payment_id = bench.run_lifecycle("bench-lifecycle-0")
            payment = bench.check_paid_and_delivered(payment_id, os.environ["WEBHOOK_SECRET"])
            stored = bench.stored_bytes(payment)
            # The timed lifecycles run without the counter's read-backs around writes (those
            # would be billed to the handlers' durations); they are still counted and checked.
            bench.counted.counter.images_from = None
            durations: dict[str, list[float]] = {}
            log_bytes: dict[str, int] = {}
            for i in range(1, TIMED_LIFECYCLES + 1):
                again, again_id = bench.run_lifecycle(f"bench-lifecycle-{i}")
                bench.check_paid_and_delivered(again_id, os.environ["WEBHOOK_SECRET"])
                if [s.snapshot["requests"] for s in again.steps] != [s.snapshot["requests"] for s in first.steps]:
                    raise RuntimeError(f"lifecycle {i} made different DynamoDB requests than the first")
                for function, values in again.durations_ms.items():
                    durations.setdefault(function, []).extend(values)
                for function, count in again.log_bytes.items():
                    log_bytes[function] = log_bytes.get(function, 0) + count
            bench.counted.counter.images_from = admin  # exact units again for the expirer path
            refund = run_refund(bench, payment_id)
            expirer = bench.run_expirer()
            memory = {name: f.memory for name, f in bench.functions.items()}
    finally:
        receiver.close()

    total = totals(first.steps)
    scans = total["scans"] + expirer.snapshot["scans"]
    profile = lifecycle_profile(first, total, durations, log_bytes, memory, stored)
    refund_text, refund_met = refund_summary(refund)
    met = total["total"] <= TARGET_REQUESTS and total["write_units"] <= TARGET_WRITE_UNITS and scans == 0 and refund_met
    stream_reads = first.stream_calls.get("GetRecords", 0)
    measured = (
        f"{total['total']} requests ({total['reads']} reads, {total['writes']} writes, "
        f"{total['queries']} queries, {total['scans']} scans), {total['write_units']:g} WRU "
        f"({total['index_write_units']:g} index) + {stream_reads} stream GetRecords (free); "
        f"expirer path {expirer.snapshot['total']} ({expirer.snapshot['queries']} query, "
        f"{expirer.snapshot['writes']} write, {expirer.snapshot['scans']} scans); {refund_text}"
    )
    return Figure(
        number=NUMBER,
        name=NAME,
        target=TARGET,
        measured=measured,
        met=met,
        data={
            "steps": [asdict(s) for s in first.steps],
            "total": total,
            "stream_calls": dict(first.stream_calls),
            "expirer_path": asdict(expirer),
            "refund_path": refund_data(refund),
            "timed_lifecycles": TIMED_LIFECYCLES,
            "profile": asdict(profile),
        },
    )


def lifecycle_profile(
    lifecycle: Lifecycle,
    total: dict[str, Any],
    durations: dict[str, list[float]],
    log_bytes: dict[str, int],
    memory: dict[str, int],
    stored_bytes: float,
) -> Any:
    """The cost model's input: invocations per function (with their median durations and log
    bytes per invocation), request units, stored bytes. No SQS on the happy path."""
    from bench.cost_model import Invocation, LifecycleProfile

    per_function: dict[str, list[Step]] = {}
    for step in lifecycle.steps:
        per_function.setdefault(step.function, []).append(step)
    invocations = []
    for function, steps in per_function.items():
        count = sum(s.invocations for s in steps)
        invocations.append(
            Invocation(
                function=function,
                per_lifecycle=count,
                duration_ms=median(durations[function]),
                memory_mb=memory[function],
                via_api=steps[0].via_api,
                log_bytes=log_bytes[function] / len(durations[function]),
            )
        )
    return LifecycleProfile(
        label="full lifecycle (figure 3): create invoice, checkout with card 4444 + code, webhook delivered once",
        partial=False,
        invocations=invocations,
        dynamodb_read_units=total["read_units"],
        dynamodb_write_units=total["write_units"],
        dynamodb_requests=dict(total["requests"]),
        stored_bytes=stored_bytes,
        streams_read_units=0.0,  # GetRecords by Lambda's event source mapping are free
        sqs_requests=0.0,  # delivered on the first attempt: no retry job
    )


def details(figure: Figure) -> list[str]:
    data = figure.data
    if not data:
        return []
    lines = ["DynamoDB requests per step (figure 3):"]
    rows = [*data["steps"], {**data["expirer_path"], "name": "[expirer path] " + data["expirer_path"]["name"]}]
    rows += [{**s, "name": "[refund path] " + s["name"]} for s in data.get("refund_path", {}).get("steps", [])]
    for step in rows:
        s = step["snapshot"]
        ops = ", ".join(f"{k} {v}" for k, v in sorted(s["requests"].items())) or "-"
        lines.append(
            f"    {step['name']:<58} {s['total']:>2}  (r {s['reads']} w {s['writes']} q {s['queries']} "
            f"s {s['scans']}; {ops}; {s['write_units']:g} WRU, {s['read_units']:g} RRU)"
        )
    t = data["total"]
    lines.append(
        f"    {'lifecycle total':<58} {t['total']:>2}  (r {t['reads']} w {t['writes']} q {t['queries']} "
        f"s {t['scans']}; {t['write_units']:g} WRU incl. {t['index_write_units']:g} index, {t['read_units']:g} RRU)"
    )
    stream = ", ".join(f"{k} {v}" for k, v in sorted(data["stream_calls"].items()))
    lines.append(f"    stream (Lambda's event source mapping, free, not in the total): {stream}")
    return lines
