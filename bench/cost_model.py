"""Figure 7 - cost model: the AWS bill for 1 million payment lifecycles, split by service.

Inputs are measured, not assumed: DynamoDB request units per lifecycle (botocore hook, GSI
writes included), function memory (template.yaml), warm handler durations and log bytes per
invocation (measured here in CPU time, under moto - so a DynamoDB call costs moto's
in-process time instead of a network round trip; real durations may be a few ms longer per
call, and a 512 MB function has about 0.29 vCPU: see ``at_lambda_cpu_share``).

The lifecycle priced is figure 3's (``bench.lifecycle_requests``): its ``data["profile"]`` (a
``LifecycleProfile`` as a dict) holds the measured invocations of every function (create
invoice 1, checkout pages and posts, webhook sender), their warm durations and log bytes, and
the DynamoDB request units incl. index writes. With ``--only 7`` figure 3 is run first. Only if
figure 3 failed does this module fall back to the part it can measure alone - create invoice +
operator confirm - and label the result PARTIAL.

The webhook sender's billed duration also includes waiting for the merchant's answer (here a
local receiver, ~0 ms): ``sender_wait_per_100ms_usd`` says what each 100 ms of it adds.

Per-lifecycle costs scale with volume; the schedule (expirer every minute) and secret
storage do not and are reported as a fixed monthly amount next to it.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.common import captured_stdout, median, moto_account
from bench.ddb_counter import attach_counter, item_size
from bench.report import Figure

NUMBER = 7
NAME = "cost of 1M payment lifecycles (on-demand, us-east-1)"
TARGET = "(no target; reported)"
LIFECYCLES = 1_000_000
SAMPLE_LIFECYCLES = 200

# Public on-demand list prices, us-east-1, USD, free tiers ignored. Copied from the AWS
# pricing pages as of PRICES_AS_OF (not re-checked from this machine, which has no internet).
PRICES_AS_OF = "2025-06-01"
PRICES = {
    # https://aws.amazon.com/lambda/pricing/ - Arm, first 7.5 billion GB-s per month
    "lambda_arm64_gb_second": 0.0000133334,
    "lambda_request": 0.20 / 1_000_000,
    # https://aws.amazon.com/api-gateway/pricing/ - REST APIs, first 333 million per month
    "apigw_rest_request": 3.50 / 1_000_000,
    # https://aws.amazon.com/dynamodb/pricing/on-demand/ - after the 2024-11-01 price cut
    "dynamodb_write_request_unit": 0.625 / 1_000_000,
    "dynamodb_read_request_unit": 0.125 / 1_000_000,
    "dynamodb_storage_gb_month": 0.25,
    # Streams GetRecords: $0.02 per 100,000 read request units, but GetRecords made by a Lambda
    # event source mapping are free, which is how webhook_sender reads the stream.
    "dynamodb_streams_read_request_unit": 0.02 / 100_000,
    # https://aws.amazon.com/sqs/pricing/ - standard queue, per 64 KB request
    "sqs_request": 0.40 / 1_000_000,
    # https://aws.amazon.com/secrets-manager/pricing/
    "secrets_manager_api_call": 0.05 / 10_000,
    "secrets_manager_secret_month": 0.40,
    # https://aws.amazon.com/cloudwatch/pricing/ - logs ingestion (Lambda logs, first tier)
    "cloudwatch_logs_ingested_gb": 0.50,
    # https://aws.amazon.com/eventbridge/pricing/ - scheduled rules on the default bus are not
    # charged; priced here at EventBridge Scheduler's rate to stay on the safe side.
    "eventbridge_schedule_invocation": 1.00 / 1_000_000,
}
# START / END / REPORT lines Lambda writes for every invocation (about 350 bytes together).
LAMBDA_PLATFORM_LOG_BYTES = 350
SECONDS_PER_MONTH = 30 * 86400
SECRET_CACHE_SECONDS = 300  # paysandbox.secret_store.SECRET_CACHE_SECONDS
# Lambda gives a function one full vCPU at 1,769 MB and proportionally less below: durations
# measured on a full core here stretch by up to this factor at smaller sizes (CPU-bound code).
FULL_VCPU_MB = 1769


@dataclass
class Invocation:
    function: str
    per_lifecycle: float  # how many times one lifecycle invokes it
    duration_ms: float  # measured warm duration; Lambda bills whole ms
    memory_mb: int
    via_api: bool  # an API Gateway REST request
    log_bytes: float = 0.0  # what the handler prints per invocation

    @property
    def gb_seconds(self) -> float:
        return math.ceil(self.duration_ms) / 1000 * self.memory_mb / 1024


@dataclass
class LifecycleProfile:
    """What one payment lifecycle consumes. Figure 3 fills this in for the full lifecycle."""

    label: str
    partial: bool
    invocations: list[Invocation]
    dynamodb_read_units: float
    dynamodb_write_units: float  # table + index writes
    dynamodb_requests: dict[str, float] = field(default_factory=dict)
    stored_bytes: float = 0.0  # bytes kept for the retention period (items + index entries)
    streams_read_units: float = 0.0  # billed GetRecords only (Lambda ESM reads are free)
    sqs_requests: float = 0.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LifecycleProfile:
        invocations = [Invocation(**i) for i in data["invocations"]]
        return cls(**{**data, "invocations": invocations})


def lifecycle_cost(
    profile: LifecycleProfile, lifecycles: int = LIFECYCLES, retention_days: int = 30
) -> dict[str, float]:
    """USD for ``lifecycles`` lifecycles, by service."""
    n = lifecycles
    lambda_cost = sum(
        n * i.per_lifecycle * (i.gb_seconds * PRICES["lambda_arm64_gb_second"] + PRICES["lambda_request"])
        for i in profile.invocations
    )
    api_requests = sum(i.per_lifecycle for i in profile.invocations if i.via_api)
    log_bytes = sum(i.per_lifecycle * (i.log_bytes + LAMBDA_PLATFORM_LOG_BYTES) for i in profile.invocations)
    # Every lifecycle's items stay for the retention period: GB-months = GB x days / 30.
    storage_gb_months = n * profile.stored_bytes / 1e9 * retention_days / 30
    return {
        "Lambda (arm64)": lambda_cost,
        "API Gateway (REST)": n * api_requests * PRICES["apigw_rest_request"],
        "DynamoDB writes": n * profile.dynamodb_write_units * PRICES["dynamodb_write_request_unit"],
        "DynamoDB reads": n * profile.dynamodb_read_units * PRICES["dynamodb_read_request_unit"],
        "DynamoDB storage": storage_gb_months * PRICES["dynamodb_storage_gb_month"],
        "DynamoDB Streams": n * profile.streams_read_units * PRICES["dynamodb_streams_read_request_unit"],
        "SQS": n * profile.sqs_requests * PRICES["sqs_request"],
        "CloudWatch Logs": n * log_bytes / 1e9 * PRICES["cloudwatch_logs_ingested_gb"],
    }


def at_lambda_cpu_share(profile: LifecycleProfile) -> LifecycleProfile:
    """The same profile with every duration stretched by the function's vCPU share (upper bound)."""
    stretched = [
        Invocation(**{**asdict(i), "duration_ms": i.duration_ms * max(1.0, FULL_VCPU_MB / i.memory_mb)})
        for i in profile.invocations
    ]
    return LifecycleProfile(**{**asdict(profile), "invocations": stretched})


def fixed_monthly_cost(
    expirer: Invocation, secret_readers: int, secrets: int, warm_containers_per_function: int = 1
) -> dict[str, float]:
    """USD per month that does not depend on volume: the every-minute schedule and secrets.

    ``secret_readers``: (function, secret) pairs; each warm container re-reads its secret
    once per cache period.
    """
    runs = SECONDS_PER_MONTH / 60
    secret_calls = secret_readers * warm_containers_per_function * SECONDS_PER_MONTH / SECRET_CACHE_SECONDS
    return {
        "Expirer schedule (Lambda)": runs
        * (expirer.gb_seconds * PRICES["lambda_arm64_gb_second"] + PRICES["lambda_request"]),
        "Expirer schedule (EventBridge)": runs * PRICES["eventbridge_schedule_invocation"],
        "Expirer logs": runs
        * (expirer.log_bytes + LAMBDA_PLATFORM_LOG_BYTES)
        / 1e9
        * PRICES["cloudwatch_logs_ingested_gb"],
        "Secrets Manager API (cached)": secret_calls * PRICES["secrets_manager_api_call"],
        "Secrets Manager storage": secrets * PRICES["secrets_manager_secret_month"],
    }


def secret_usage(template: dict[str, Any]) -> tuple[int, int]:
    """(function, secret) read grants and the number of secrets, from template.yaml."""
    resources = template["Resources"]
    secrets = sum(1 for r in resources.values() if r["Type"] == "AWS::SecretsManager::Secret")
    readers = 0
    for resource in resources.values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for policy in resource["Properties"].get("Policies", []):
            if isinstance(policy, dict) and "AWSSecretsManagerGetSecretValuePolicy" in policy:
                readers += 1
    return readers, secrets


# ---------------------------------------------------------------- measuring the partial lifecycle


def measure_partial_lifecycle(count: int = SAMPLE_LIFECYCLES) -> tuple[LifecycleProfile, Invocation]:
    """create invoice -> operator confirm, ``count`` times, then one expirer run (nothing due).

    Returns the per-lifecycle profile and the expirer's empty run (priced as a fixed cost).
    """
    from bench.expirer_scaling import EXPIRER_RULE
    from bench.handler_overhead import invoice_event
    from sandbox.apigw import proxy_event
    from sandbox.functions import functions
    from sandbox.lambda_events import scheduled_event

    found = functions()
    create, confirm, expirer = found["CreatePaymentFunction"], found["ConfirmFunction"], found["ExpirerFunction"]
    token = "Bearer " + os.environ["SERVICE_AUTH_TOKEN"]
    with moto_account() as admin:
        for function in (create, confirm, expirer):
            function.load()
        from paysandbox.repository import dynamodb

        timings: dict[str, list[float]] = {"create": [], "confirm": []}
        log_bytes: dict[str, int] = {}
        ids: list[str] = []
        with attach_counter(dynamodb) as counter:
            for phase, function in (("create", create), ("confirm", confirm)):
                with captured_stdout() as logs:
                    for i in range(count):
                        if phase == "create":
                            event = invoice_event(f"lifecycle-{i}")
                        else:
                            body = json.dumps({"payment_id": ids[i]})
                            headers = {"Content-Type": "application/json", "Authorization": token}
                            event = proxy_event("POST", "/api/v2/confirm-payment", headers=headers, body=body)
                        started = time.process_time()
                        response = function.invoke(event)
                        timings[phase].append((time.process_time() - started) * 1000)
                        answer = json.loads(response["body"])
                        if response["statusCode"] != 200:
                            raise RuntimeError(f"{phase} failed: {response}")
                        if phase == "create":
                            ids.append(answer["payment_id"])
                        elif answer["status"] != "PAYMENT_COMPLETED":
                            raise RuntimeError(f"confirm did not complete: {answer}")
                log_bytes[phase] = logs.bytes_written
            per_lifecycle = counter.snapshot()
            counter.reset()
            with captured_stdout() as logs:
                started = time.process_time()
                run = expirer.invoke(scheduled_event(EXPIRER_RULE))
                expirer_ms = (time.process_time() - started) * 1000
            if run.get("expired") != 0:
                raise RuntimeError(f"the expirer expired confirmed payments: {run}")
            expirer_logs = logs.bytes_written

        stored = [admin.get_item(TableName="Payments", Key={"payment_id": {"S": p}})["Item"] for p in ids[:20]]
        if any(item["status"]["S"] != "paid" for item in stored):
            raise RuntimeError("a confirmed payment is not stored as paid")
    # A paid payment lives in the table and, keys only, in the by-status index.
    index_bytes = median(
        [float(item_size({k: i[k] for k in ("payment_id", "status_group", "created_at")})) for i in stored]
    )
    stored_bytes = median([float(item_size(item)) for item in stored]) + index_bytes + 2 * 100

    profile = LifecycleProfile(
        label="PARTIAL: create invoice + operator confirm (+ expirer finds nothing); "
        "no checkout, no webhook delivery yet",
        partial=True,
        invocations=[
            Invocation(
                "CreatePaymentFunction", 1, median(timings["create"]), create.memory, True, log_bytes["create"] / count
            ),
            Invocation(
                "ConfirmFunction", 1, median(timings["confirm"]), confirm.memory, True, log_bytes["confirm"] / count
            ),
        ],
        dynamodb_read_units=per_lifecycle["read_units"] / count,
        dynamodb_write_units=per_lifecycle["write_units"] / count,
        dynamodb_requests={k: v / count for k, v in per_lifecycle["requests"].items()},
        stored_bytes=stored_bytes,
    )
    return profile, Invocation("ExpirerFunction", 0, expirer_ms, expirer.memory, False, float(expirer_logs))


def measure_empty_expirer_run(runs: int = 5) -> Invocation:
    """The every-minute expirer finding nothing due (the fixed monthly cost): warm median."""
    from bench.expirer_scaling import EXPIRER_RULE
    from sandbox.functions import functions
    from sandbox.lambda_events import scheduled_event

    expirer = functions()["ExpirerFunction"]
    durations, log_bytes = [], 0
    with moto_account():
        expirer.load()
        expirer.invoke(scheduled_event(EXPIRER_RULE))  # warm up
        for _ in range(runs):
            with captured_stdout() as logs:
                started = time.process_time()
                result = expirer.invoke(scheduled_event(EXPIRER_RULE))
                durations.append((time.process_time() - started) * 1000)
            log_bytes += logs.bytes_written
            if result.get("expired") != 0:
                raise RuntimeError(f"the expirer expired something in an empty table: {result}")
    return Invocation("ExpirerFunction", 0, median(durations), expirer.memory, False, log_bytes / runs)


def full_lifecycle_profile(earlier: dict[str, Figure] | None) -> LifecycleProfile | None:
    """Figure 3's profile (running figure 3 now when this run has not); None if it failed."""
    lifecycle = (earlier or {}).get("lifecycle_requests")
    if lifecycle is None:
        from bench import lifecycle_requests

        lifecycle = lifecycle_requests.run()
    if lifecycle.not_run is None and "profile" in lifecycle.data:
        return LifecycleProfile.from_dict(lifecycle.data["profile"])
    return None


def sender_wait_cost(profile: LifecycleProfile, wait_ms: float = 100, lifecycles: int = LIFECYCLES) -> float:
    """USD that ``wait_ms`` of merchant response time per webhook adds to the sender's bill."""
    return sum(
        lifecycles * i.per_lifecycle * wait_ms / 1000 * i.memory_mb / 1024 * PRICES["lambda_arm64_gb_second"]
        for i in profile.invocations
        if i.function == "WebhookSenderFunction"
    )


def run(earlier: dict[str, Figure] | None = None) -> Figure:
    from sandbox.template import load_template

    template = load_template()
    profile = full_lifecycle_profile(earlier)
    if profile is None:
        profile, _ = measure_partial_lifecycle()
    expirer = measure_empty_expirer_run()

    variable = lifecycle_cost(profile)
    readers, secrets = secret_usage(template)
    fixed = fixed_monthly_cost(expirer, readers, secrets)
    total, fixed_total = sum(variable.values()), sum(fixed.values())
    lambda_stretched = lifecycle_cost(at_lambda_cpu_share(profile))["Lambda (arm64)"]
    biggest = sorted(variable.items(), key=lambda kv: -kv[1])[:3]
    return Figure(
        number=NUMBER,
        name=NAME,
        target=TARGET,
        measured=f"${total:.2f} per 1M ("
        + ", ".join(f"{k} ${v:.2f}" for k, v in biggest)
        + f") + ${fixed_total:.2f}/month fixed",
        met=None,
        partial=profile.partial,
        data={
            "prices_as_of": PRICES_AS_OF,
            "prices_usd": PRICES,
            "lifecycles": LIFECYCLES,
            "profile": asdict(profile),
            "expirer_empty_run": asdict(expirer),
            "per_million_usd": {k: round(v, 4) for k, v in variable.items()},
            "per_million_total_usd": round(total, 4),
            "fixed_monthly_usd": {k: round(v, 4) for k, v in fixed.items()},
            "fixed_monthly_total_usd": round(fixed_total, 4),
            "lambda_at_cpu_share_usd": round(lambda_stretched, 4),
            "sender_wait_per_100ms_usd": round(sender_wait_cost(profile), 4),
        },
    )


def details(figure: Figure) -> list[str]:
    data = figure.data
    if not data:
        return []
    profile = data["profile"]
    lines = [f"Cost model ({profile['label']}); prices as of {data['prices_as_of']}:"]
    lines += [f"    {service:<32} ${usd:>10.4f} per 1M lifecycles" for service, usd in data["per_million_usd"].items()]
    lines += [f"    {service:<32} ${usd:>10.4f} per month" for service, usd in data["fixed_monthly_usd"].items()]
    lines.append(
        f"  durations are warm, on a full core, under moto; stretched to the vCPU share of the memory size "
        f"(1,769 MB = 1 vCPU) Lambda would be ${data['lambda_at_cpu_share_usd']:.2f} per 1M instead; "
        f"each 100 ms the merchant takes to answer a webhook adds ${data.get('sender_wait_per_100ms_usd', 0):.2f}."
    )
    requests = ", ".join(f"{k} {v:g}" for k, v in profile["dynamodb_requests"].items())
    lines.append(
        f"  per lifecycle: DynamoDB {requests}; {profile['dynamodb_write_units']:g} WRU (incl. index writes), "
        f"{profile['dynamodb_read_units']:g} RRU; "
        + ", ".join(
            f"{i['function']} {i['per_lifecycle']:g}x {i['duration_ms']:.1f} ms @ {i['memory_mb']} MB"
            for i in profile["invocations"]
        )
    )
    return lines
