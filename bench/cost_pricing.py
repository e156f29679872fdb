"""Figure 7's price list and arithmetic: public on-demand prices (each with its date), what
one lifecycle is made of (``LifecycleProfile``), and what 1M of them and a month of fixed
costs come to. No measuring here: ``bench/cost_inputs.py`` measures, ``bench/cost_model.py``
is the figure.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

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


def sender_wait_cost(profile: LifecycleProfile, wait_ms: float = 100, lifecycles: int = LIFECYCLES) -> float:
    """USD that ``wait_ms`` of merchant response time per webhook adds to the sender's bill."""
    return sum(
        lifecycles * i.per_lifecycle * wait_ms / 1000 * i.memory_mb / 1024 * PRICES["lambda_arm64_gb_second"]
        for i in profile.invocations
        if i.function == "WebhookSenderFunction"
    )
