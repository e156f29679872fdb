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

Prices and arithmetic: ``bench/cost_pricing.py``; measured inputs: ``bench/cost_inputs.py``.
"""

from __future__ import annotations

from dataclasses import asdict

from bench.cost_inputs import full_lifecycle_profile, measure_empty_expirer_run, measure_partial_lifecycle
from bench.cost_pricing import (
    LIFECYCLES,
    PRICES,
    PRICES_AS_OF,
    at_lambda_cpu_share,
    fixed_monthly_cost,
    lifecycle_cost,
    secret_usage,
    sender_wait_cost,
)
from bench.report import Figure

NUMBER = 7
NAME = "cost of 1M payment lifecycles (on-demand, us-east-1)"
TARGET = "(no target; reported)"


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
