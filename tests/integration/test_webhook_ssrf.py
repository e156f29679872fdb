"""SSRF guard wired into creation (422) and delivery (the address actually connected to).

There is no DNS here: DNS names go through a monkeypatched ``paysandbox.targets.resolve``
(the guard's only resolver seam); everything after it - the check, the connection to the
checked address, the Host header - is real."""

from __future__ import annotations

import ipaddress

import pytest

from harness.receiver import Receiver
from paysandbox import targets
from tests.integration.conftest import Pipeline, assert_signed
from tests.support import OPERATOR, invoice_body, on_payment, v2_body


@pytest.fixture
def dns(monkeypatch):
    table: dict[str, list[str]] = {}

    def fake_resolve(host, port):
        if host not in table:
            raise OSError("Name or service not known")
        return [ipaddress.ip_address(a) for a in table[host]]

    monkeypatch.setattr(targets, "resolve", fake_resolve)
    return table


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://0x7f.1:8080/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "https://internal.merchant.test/hook",
        "http://merchant.example@127.0.0.1/hook",  # userinfo: the host is 127.0.0.1
        "http://127.0.0.1#@merchant.example/hook",  # fragment: the host is still 127.0.0.1
        "http://127.0.0.1:80@merchant.example/hook",  # userinfo with a port-like password
        "http://[::ffff:7f00:1]/hook",  # IPv4-mapped, hex
        "http://[2001::a9fe:a9fe]/hook",  # Teredo prefix
        "http://[64:ff9b::7f00:1]/hook",  # NAT64
    ],
)
def test_create_refuses_private_targets_with_422(merchant, operator, settings_env, dns, url):
    settings_env.setenv("ALLOW_PRIVATE_WEBHOOK_TARGETS", "false")
    dns["internal.merchant.test"] = ["100.64.1.2"]
    status, body, _ = merchant.call("POST", "/api/create-invoice", invoice_body(webhook_url=url))
    assert status == 422 and body["error"]["code"] == "validation_error"
    assert any(d["field"] == "webhook_url" for d in body["error"]["details"])
    status, body, _ = merchant.call("POST", "/api/v2/payments", v2_body(callback_url=url))
    assert status == 422 and any(d["field"] == "callback_url" for d in body["error"]["details"])
    listed = operator.call("GET", "/api/v2/pending-payments", headers=OPERATOR)[1]
    assert listed["payments"] == {}  # nothing was created


def test_redirect_url_is_not_a_webhook_target(merchant, settings_env):
    settings_env.setenv("ALLOW_PRIVATE_WEBHOOK_TARGETS", "false")
    body = invoice_body(redirect_url="http://127.0.0.1:3000/thanks", webhook_url="https://93.184.216.34/h")
    assert merchant.call("POST", "/api/create-invoice", body)[0] == 200


def test_dns_rebinding_is_refused_at_delivery(
    pipeline: Pipeline, receiver: Receiver, merchant, operator, settings_env, dns
):
    """Public at creation, loopback (our receiver) at delivery: nothing may be sent."""
    settings_env.setenv("ALLOW_PRIVATE_WEBHOOK_TARGETS", "false")
    settings_env.setenv("WEBHOOK_MAX_ATTEMPTS", "2")
    port = receiver.server.server_address[1]
    dns["rebind.merchant.test"] = ["93.184.216.34"]
    url = f"http://rebind.merchant.test:{port}/hook"
    assert merchant.call("POST", "/api/v2/payments", v2_body(callback_url=url))[0] == 200
    operator.call("POST", "/api/v2/confirm-payment", {"payment_id": "pay_tx-1001"}, headers=OPERATOR)
    dns["rebind.merchant.test"] = ["127.0.0.1"]

    pipeline.run()

    assert receiver.requests == []
    log = on_payment(operator, "GET", "pay_tx-1001", "/webhooks", headers=OPERATOR)[1]["deliveries"]
    assert [e["error"].startswith("target refused") for e in log] == [True, True]
    assert len(pipeline.dead_letters()) == 1


def test_delivery_connects_to_the_resolved_address_with_the_named_host(
    pipeline: Pipeline, receiver: Receiver, merchant, operator, dns
):
    """With private targets allowed, a DNS name still goes to the address the guard resolved,
    and the receiver sees the URL's own host in the Host header."""
    port = receiver.server.server_address[1]
    dns["hooks.merchant.test"] = ["127.0.0.1"]
    url = f"http://hooks.merchant.test:{port}/hook?src=psp"
    merchant.call("POST", "/api/v2/payments", v2_body(callback_url=url))
    operator.call("POST", "/api/v2/confirm-payment", {"payment_id": "pay_tx-1001"}, headers=OPERATOR)
    pipeline.run()
    (request,) = receiver.requests
    assert request.headers["Host"] == f"hooks.merchant.test:{port}"
    assert request.path == "/hook?src=psp"
    assert_signed(request)


def test_delivery_falls_back_to_the_next_resolved_address(
    pipeline: Pipeline, receiver: Receiver, merchant, operator, dns
):
    """A name resolving to an address that refuses the connection, then to the receiver's:
    the webhook still arrives, as a browser would fall back to the next address."""
    port = receiver.server.server_address[1]
    dns["two.merchant.test"] = ["127.0.0.2", "127.0.0.1"]  # nothing listens on 127.0.0.2
    merchant.call("POST", "/api/v2/payments", v2_body(callback_url=f"http://two.merchant.test:{port}/hook"))
    operator.call("POST", "/api/v2/confirm-payment", {"payment_id": "pay_tx-1001"}, headers=OPERATOR)

    pipeline.run()

    (request,) = receiver.requests
    assert_signed(request)
    (entry,) = on_payment(operator, "GET", "pay_tx-1001", "/webhooks", headers=OPERATOR)[1]["deliveries"]
    assert entry["outcome"] == "delivered"
