"""End to end: ``python -m sandbox`` as a subprocess on free ports, driven over HTTP and in Chromium.

Nothing is mocked: the emulator is the sandbox's own moto server, the handlers are the real
ones, the browser is Debian's Chromium. Paying on the checkout page and receiving webhooks:
``test_sandbox_checkout_e2e.py``.
"""

from __future__ import annotations

import signal
import socket
from typing import Any

from playwright.sync_api import Browser, Page, expect

from harness.sandbox_process import (
    SECRET,
    TOKEN,
    Sandbox,
    children_of,
    free_port,
    port_is_free,
)
from paysandbox import signatures
from tests.support import wait_for

OPERATOR = {"Authorization": f"Bearer {TOKEN}"}
TTL_SECONDS = 12


def v2(tx_id: str) -> dict[str, Any]:
    return {
        "version": "v2",
        "tx_id": tx_id,
        "order_id": f"order-{tx_id}",
        "user_id": "user-1",
        "amount": 4990,
        "callback_url": "https://merchant.example.com/callback",
    }


def open_console(browser: Browser, sandbox: Sandbox, csp_violations: list[str]) -> Page:
    page = browser.new_page()
    page.on("console", lambda m: csp_violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{sandbox.url}/console")
    page.get_by_label("Operator token").fill(TOKEN)
    page.get_by_label("Operator token").press("Enter")
    return page


def test_the_whole_system_runs_locally_and_stops_cleanly(sandbox_factory, browser: Browser) -> None:
    sandbox: Sandbox = sandbox_factory(
        PAYMENT_TTL_SECONDS=str(TTL_SECONDS), EXPIRER_INTERVAL_SECONDS="1", WEBHOOK_RETRY_DELAYS="1,1"
    )
    banner = sandbox.output()
    whsec = signatures.whsec(SECRET)
    for shown in (f"{sandbox.url}/console", TOKEN, whsec, f"http://127.0.0.1:{sandbox.emulator_port}"):
        assert shown in banner

    # Invoice flavour: create, read back; left alone, the scheduled expirer expires it.
    invoice = {
        "amount": 12500,
        "reference": "e2e-invoice",
        "webhook_url": "https://merchant.example.com/hooks",
        "redirect_url": "https://merchant.example.com/thanks",
    }
    status, created = sandbox.request("POST", "/api/create-invoice", invoice)
    assert status == 200 and created["pageUrl"] == f"{sandbox.url}/checkout/{created['payment_id']}"
    expiring = created["payment_id"]
    assert sandbox.request("GET", f"/api/payments/{expiring}")[1]["status"] == "pending"

    # v2 flavour: idempotent on tx_id, operator API behind the token.
    status, first = sandbox.request("POST", "/api/v2/payments", v2("e2e-api"))
    assert status == 200 and first["status"] == "PENDING"
    assert sandbox.request("POST", "/api/v2/payments", v2("e2e-api"))[1]["payment_id"] == first["payment_id"]
    assert sandbox.request("POST", "/api/v2/payments", {**v2("e2e-api"), "amount": 1})[0] == 409
    assert sandbox.request("GET", "/api/v2/pending-payments")[0] == 401
    assert sandbox.request("GET", "/no/such/route")[0] == 404

    # The console: create a v2 payment with the form, confirm it with one click.
    csp_violations: list[str] = []
    page = open_console(browser, sandbox, csp_violations)
    page.get_by_label("Payments v2").check()
    page.get_by_label("Transaction id (tx_id)").fill("e2e-console")
    page.get_by_label("Order id").fill("order-console")
    page.get_by_label("User id").fill("user-console")
    page.get_by_label("Amount (UAH)").fill("25.00")
    page.get_by_label("Webhook URL").fill("https://merchant.example.com/callback")
    page.get_by_role("button", name="Create payment").click()
    expect(page.locator("#new-status")).to_contain_text("pay_e2e-console")
    row = page.locator('#payments tbody tr[data-payment-id="pay_e2e-console"]')
    row.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status").first).to_contain_text("PAYMENT_COMPLETED")
    expect(row).to_have_count(0)
    status, view = sandbox.request("GET", "/api/payments/pay_e2e-console")
    assert view["status"] == "PAYMENT_COMPLETED" and view["tx_id"] == "e2e-console" and view["amount"] == 2500

    page.get_by_role("button", name="Completed").click()
    expect(row).to_have_count(1)
    expect(page.locator('[data-count="completed"]')).to_have_text("1")
    expect(page.get_by_label("Signing secret (whsec_ form, for Standard Webhooks receivers)")).to_have_value(whsec)

    # Fail from the console, and the per-payment delivery log opens (webhook sender pending merge).
    page.get_by_role("button", name="Pending").click()
    pending_row = page.locator(f'#payments tbody tr[data-payment-id="{first["payment_id"]}"]')
    pending_row.get_by_role("button", name="Fail").click()
    expect(pending_row).to_have_count(0)
    assert sandbox.request("GET", f"/api/payments/{first['payment_id']}")[1]["status"] == "PAYMENT_FAILED"

    # Auto-refresh: a payment created elsewhere appears without a reload ...
    sandbox.request("POST", "/api/v2/payments", v2("e2e-refresh"))
    expect(page.locator('#payments tbody tr[data-payment-id="pay_e2e-refresh"]')).to_be_visible(timeout=6000)
    # ... and with the switch off, nothing changes under the operator's eyes.
    page.get_by_label("Auto-refresh (every 2 s)").uncheck()
    sandbox.request("POST", "/api/v2/payments", v2("e2e-quiet"))
    page.wait_for_timeout(4500)
    expect(page.locator('#payments tbody tr[data-payment-id="pay_e2e-quiet"]')).to_have_count(0)
    page.close()
    assert csp_violations == []  # the inline script and style run under the nonce CSP

    # The expirer runs on its (shortened) schedule in the sandbox.
    wait_for(lambda: sandbox.request("GET", f"/api/payments/{expiring}")[1]["status"] == "expired", TTL_SECONDS + 20)

    assert children_of(sandbox.process.pid) == []  # one process: nothing to orphan
    assert sandbox.stop() == 0
    assert "sandbox: stopped" in sandbox.output()
    assert port_is_free(sandbox.api_port) and port_is_free(sandbox.emulator_port)


def test_a_taken_port_fails_fast_with_a_clear_message(tmp_path) -> None:
    import subprocess
    import sys

    from harness.sandbox_process import ROOT

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "sandbox"],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", "PORT": str(taken), "AWS_EMULATOR_PORT": str(free_port())},
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode != 0
    assert f"port {taken}" in result.stderr and "PORT=" in result.stderr


def test_ctrl_c_stops_everything_with_exit_0(sandbox_factory) -> None:
    sandbox: Sandbox = sandbox_factory()
    status, _ = sandbox.request("GET", "/api/v2/pending-payments", headers=OPERATOR)
    assert status == 200  # up and serving
    sandbox.process.send_signal(signal.SIGINT)
    assert sandbox.process.wait(20) == 0
    assert port_is_free(sandbox.api_port) and port_is_free(sandbox.emulator_port)
