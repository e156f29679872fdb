"""The benchmark report and cost arithmetic (no timing: benchmarks never run in CI)."""

from __future__ import annotations

import json
import os

import pytest

from bench import __main__ as bench_main
from bench import cost_pricing
from bench.cold_start_probe import resolve
from bench.common import shown_ratio
from bench.cost_pricing import Invocation, LifecycleProfile
from bench.ddb_counter import Index, item_size
from bench.import_costs import import_costs, median_costs
from bench.report import Figure, not_run, table, write_json


def test_importing_bench_keeps_the_values_the_test_suite_set():
    assert os.environ["SERVICE_AUTH_TOKEN"] == "test-operator-token"
    assert os.environ["AWS_DEFAULT_REGION"] == "eu-west-1"


# ---------------------------------------------------------------- the table


def test_table_says_met_missed_not_run_and_partial():
    figures = [
        Figure(1, "cold start", "<= 1.5x", measured="1.2x", met=True),
        Figure(2, "overhead", "<= 1.5x", measured="1.7x", met=False),
        not_run(3, "requests", "<= 8", "needs checkout"),
        Figure(7, "cost", "(no target)", measured="$12", partial=True),
    ]
    lines = table(figures).splitlines()
    assert [cell.strip() for cell in lines[0].split(" | ")] == ["figure", "measured", "target", "met?"]
    rows = {line.split(" | ")[0].strip(): line.split(" | ")[-1].strip() for line in lines[2:]}
    assert rows == {
        "1. cold start": "met",
        "2. overhead": "missed",
        "3. requests": "not run (needs checkout)",
        "7. cost": "n/a (partial)",
    }


def test_a_figure_that_did_not_run_is_never_met(tmp_path):
    figure = not_run(5, "latency", "p50 <= 300 ms", "needs the sandbox")
    assert figure.met is None and figure.verdict == "not run (needs the sandbox)"
    write_json([figure], {"date_utc": "x"}, path=tmp_path / "results.json")
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["figures"][0]["verdict"] == "not run (needs the sandbox)"
    assert saved["figures"][0]["met"] is None


def test_results_json_round_trips_to_a_markdown_table(tmp_path):
    from bench.report import markdown_from_results

    figures = [Figure(2, "overhead", "<= 1.5x", measured="1.2x", met=True), not_run(5, "latency", "p50", "needs x")]
    write_json(figures, {"date_utc": "2026-01-01T00:00:00Z", "python": "3.11", "machine": "x"}, tmp_path / "r.json")
    markdown = markdown_from_results(tmp_path / "r.json").splitlines()
    assert markdown[2] == "| 2. overhead | 1.2x | <= 1.5x | met |"
    assert markdown[3] == "| 5. latency | - | p50 | not run (needs x) |"


def test_ratios_are_shown_rounded_up_so_a_miss_never_reads_as_on_target():
    assert shown_ratio(1.503) == 1.51
    assert shown_ratio(1.5) == 1.5
    assert shown_ratio(1.2049) == 1.21


def test_main_reports_unimplemented_figures_as_not_run(tmp_path, monkeypatch, capsys):
    def unavailable(earlier):
        raise NotImplementedError("needs the local sandbox")

    monkeypatch.setattr(bench_main, "RESULTS_PATH", tmp_path / "results.json")
    monkeypatch.setattr("bench.webhook_latency.run", unavailable)
    assert bench_main.main(["--only", "webhook_latency"]) == 0
    out = capsys.readouterr().out
    assert "5. local sandbox webhook latency" in out
    assert "not run (needs" in out
    saved = json.loads((tmp_path / "results.json").read_text())
    assert [f["number"] for f in saved["figures"]] == [5]
    assert saved["figures"][0]["not_run"]


def test_main_fails_when_a_benchmark_correctness_check_fails(tmp_path, monkeypatch, capsys):
    def broken(earlier):
        raise RuntimeError("expected 50 expired, got 49")

    monkeypatch.setattr(bench_main, "RESULTS_PATH", tmp_path / "results.json")
    monkeypatch.setattr("bench.throughput.run", broken)
    assert bench_main.main(["--only", "6"]) == 1
    out = capsys.readouterr().out
    assert "FAILED: expected 50 expired, got 49" in out
    assert "| missed" in out


def test_main_rejects_an_unknown_figure(capsys):
    with pytest.raises(SystemExit):
        bench_main.main(["--only", "nonsense"])


# ---------------------------------------------------------------- cost arithmetic


def _profile() -> LifecycleProfile:
    return LifecycleProfile(
        label="two API calls",
        partial=True,
        invocations=[
            Invocation("CreatePaymentFunction", 1, 2.1, 512, True, log_bytes=150),
            Invocation("ConfirmFunction", 1, 2.1, 512, True, log_bytes=150),
        ],
        dynamodb_read_units=1,
        dynamodb_write_units=7,
        stored_bytes=1000,
    )


def test_lambda_bills_whole_milliseconds_times_memory():
    assert Invocation("f", 1, 2.1, 512, True).gb_seconds == pytest.approx(0.003 * 0.5)
    assert Invocation("f", 1, 100.0, 1024, True).gb_seconds == pytest.approx(0.1)


def test_cost_of_a_million_lifecycles_by_service():
    cost = cost_pricing.lifecycle_cost(_profile(), lifecycles=1_000_000, retention_days=30)
    assert cost["API Gateway (REST)"] == pytest.approx(7.00)  # 2 x $3.50 per million
    assert cost["DynamoDB writes"] == pytest.approx(7 * 0.625)
    assert cost["DynamoDB reads"] == pytest.approx(0.125)
    # 2 invocations x (3 ms x 0.5 GB x $0.0000133334 + $0.20 per million) x 1M
    assert cost["Lambda (arm64)"] == pytest.approx(2 * (0.0015 * 0.0000133334 + 0.2e-6) * 1e6)
    # (150 handler + 350 platform bytes) x 2 invocations x 1M = 1 GB at $0.50
    assert cost["CloudWatch Logs"] == pytest.approx(0.50)
    # 1 KB kept for 30 days by 1M lifecycles = 1 GB-month at $0.25
    assert cost["DynamoDB storage"] == pytest.approx(0.25)
    assert cost["SQS"] == 0 and cost["DynamoDB Streams"] == 0


def test_cost_scales_linearly_with_volume():
    one = sum(cost_pricing.lifecycle_cost(_profile(), lifecycles=1_000_000).values())
    ten = sum(cost_pricing.lifecycle_cost(_profile(), lifecycles=10_000_000).values())
    assert ten == pytest.approx(10 * one)


def test_durations_stretch_to_the_vcpu_share_of_the_memory_size():
    stretched = cost_pricing.at_lambda_cpu_share(_profile())
    assert stretched.invocations[0].duration_ms == pytest.approx(2.1 * 1769 / 512)
    big = Invocation("f", 1, 10.0, 3008, True)
    unchanged = cost_pricing.at_lambda_cpu_share(LifecycleProfile("x", False, [big], 0, 0))
    assert unchanged.invocations[0].duration_ms == 10.0


def test_fixed_monthly_cost_of_the_schedule_and_secrets():
    expirer = Invocation("ExpirerFunction", 0, 9.2, 512, False, log_bytes=0)
    fixed = cost_pricing.fixed_monthly_cost(expirer, secret_readers=2, secrets=2)
    runs = 30 * 24 * 60
    assert fixed["Expirer schedule (EventBridge)"] == pytest.approx(runs * 1e-6)
    assert fixed["Expirer schedule (Lambda)"] == pytest.approx(runs * (0.01 * 0.5 * 0.0000133334 + 0.2e-6))
    assert fixed["Secrets Manager storage"] == pytest.approx(0.80)
    # each reader re-fetches every 5 minutes: 2 x 8,640 calls at $0.05 per 10,000
    assert fixed["Secrets Manager API (cached)"] == pytest.approx(2 * 8640 * 0.05 / 10_000)


def test_profile_round_trips_through_results_json():
    from dataclasses import asdict

    profile = _profile()
    assert LifecycleProfile.from_dict(json.loads(json.dumps(asdict(profile)))) == profile


def test_secret_readers_come_from_the_template_policies():
    template = {
        "Resources": {
            "A": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
            "F": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Policies": [{"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "A"}}}]},
            },
            "G": {"Type": "AWS::Serverless::Function", "Properties": {"Policies": ["AWSLambdaBasicExecutionRole"]}},
        }
    }
    assert cost_pricing.secret_usage(template) == (1, 1)


# ---------------------------------------------------------------- DynamoDB unit estimates


def test_item_size_follows_dynamodb_rules():
    assert item_size({"id": {"S": "abc"}}) == 2 + 3
    assert item_size({"n": {"N": "12500"}}) == 1 + 3  # 3 significant digits -> 2 bytes + 1
    assert item_size({"ok": {"BOOL": True}}) == 2 + 1
    assert item_size(None) == 0


def test_index_write_units_follow_the_gsi_rules():
    by_status = Index("by-status", ("status_group", "created_at"), "ALL")
    by_expiry = Index("by-expiry", ("due_pk", "expires_at"), "KEYS_ONLY")
    keys = ("payment_id",)
    base = {"payment_id": {"S": "p"}, "created_at": {"N": "1"}, "expires_at": {"N": "2"}}
    pending = {**base, "status_group": {"S": "pending"}, "due_pk": {"S": "open"}, "status": {"S": "pending"}}
    paid = {**base, "status_group": {"S": "completed"}, "status": {"S": "paid"}}
    paid_notified = {**paid, "webhook_status": {"S": "delivered"}}

    assert by_status.writes_for(None, pending, keys) == 1  # new entry
    assert by_expiry.writes_for(None, pending, keys) == 1
    assert by_status.writes_for(pending, paid, keys) == 2  # key changed: delete + put
    assert by_expiry.writes_for(pending, paid, keys) == 1  # left the sparse index
    assert by_status.writes_for(paid, paid_notified, keys) == 1  # projected attribute changed
    assert by_expiry.writes_for(paid, paid_notified, keys) == 0  # never in the index


# ---------------------------------------------------------------- cold start helpers


def test_template_environment_is_resolved_like_lambda_would():
    template = {
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
        "Resources": {
            "Payments": {"Type": "AWS::DynamoDB::Table"},
            "Secret": {"Type": "AWS::SecretsManager::Secret"},
        },
    }
    assert resolve({"Ref": "Stage"}, template) == "dev"
    assert resolve({"Ref": "Payments"}, template) == "Payments"
    assert resolve({"Ref": "Secret"}, template).startswith("arn:aws:secretsmanager:")
    assert resolve(512, template) == "512"


def test_import_costs_attribute_time_beyond_the_baseline():
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:      5000 |       5000 |   boto3",
            "import time:      3000 |       3000 |     pydantic.main",
            "import time:      1000 |       4000 |   pydantic",
            "import time:      2000 |       2000 |     paysandbox.models",
            "import time:       500 |       9500 | paysandbox.payments",
        ]
    )
    costs = import_costs(stderr, baseline_modules={"boto3"})
    assert costs["extra_packages_self_ms"] == {"pydantic": 4.0, "paysandbox.models": 2.0, "paysandbox.payments": 0.5}
    assert costs["top_direct_imports_cumulative_ms"] == {"paysandbox.payments": 9.5}


def test_import_cost_attribution_is_the_median_of_several_runs():
    runs = [
        {"extra_packages_self_ms": {"pydantic": 30.0, "asyncio": 9.0}},
        {"extra_packages_self_ms": {"pydantic": 90.0}},
        {"extra_packages_self_ms": {"pydantic": 31.0, "asyncio": 10.0}},
    ]
    assert median_costs(runs) == {"extra_packages_self_ms": {"pydantic": 31.0, "asyncio": 9.0}}
