"""Teams through the local sandbox over HTTP: two teams and the default team side
by side, each with its own key, secret and payments."""

from __future__ import annotations

import json
from typing import Any

from harness.receiver import Received, Receiver
from harness.sandbox_process import SECRET, TOKEN, Sandbox
from harness.webhook_checks import schemes_verified
from paysandbox import signatures
from tests.support import v2_body, wait_for

ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def verifies(request: Received, secret: str) -> bool:
    """All three signatures of the delivery verify with ``secret``."""
    return all(schemes_verified(request, secret).values())


def any_verifies(request: Received, secret: str) -> bool:
    return any(schemes_verified(request, secret).values())


def create_team(sandbox: Sandbox, team_id: str) -> dict[str, Any]:
    status, body = sandbox.request("POST", "/api/teams", {"team_id": team_id, "name": team_id.title()}, ADMIN)
    assert status == 201, body
    assert body["api_key"].startswith(f"psk_{team_id}_") and len(body["api_key"]) >= len(f"psk_{team_id}_") + 32
    assert body["whsec"] == signatures.whsec(body["webhook_secret"])
    return body


def create_v2(sandbox: Sandbox, headers: dict[str, str], amount: int, url: str) -> dict[str, Any]:
    status, body = sandbox.request(
        "POST",
        "/api/v2/payments",
        {"version": "v2", "tx_id": "tx_1001", "order_id": 1, "user_id": 2, "amount": amount, "callback_url": url},
        headers,
    )
    assert status == 200, body
    return body


def test_two_teams_and_the_default_team_each_see_only_their_own(sandbox_factory: Any, receiver: Receiver) -> None:
    sandbox = sandbox_factory()
    shop, billing = create_team(sandbox, "shop"), create_team(sandbox, "billing")
    assert sandbox.request("POST", "/api/teams", {"team_id": "shop"}, ADMIN)[0] == 409
    status, listed = sandbox.request("GET", "/api/teams", headers=ADMIN)
    assert status == 200 and [t["team_id"] for t in listed["teams"]] == ["shop", "billing"]
    assert shop["api_key"] not in json.dumps(listed) and shop["api_key"].startswith(listed["teams"][0]["key_prefix"])

    callers = {"default": {}, "shop": bearer(shop["api_key"]), "billing": bearer(billing["api_key"])}
    amounts = {"default": 1000, "shop": 2000, "billing": 3000}
    secrets = {"default": SECRET, "shop": shop["webhook_secret"], "billing": billing["webhook_secret"]}
    created = {t: create_v2(sandbox, h, amounts[t], receiver.url(f"/{t}")) for t, h in callers.items()}
    # Each team has its own tx_1001, under the same id; the checkout links differ.
    assert {c["payment_id"] for c in created.values()} == {"pay_tx_1001"}
    assert len({c["checkout_url"] for c in created.values()}) == 3
    # No team's checkout link (the default team's included) can be derived from its tx_id:
    # only the link it was given works.
    for team in ("default", "shop", "billing"):
        link = created[team]["checkout_url"]
        assert "tx_1001" not in link and _page_status(link) == 200
        assert _page_status(link[:-2] + ("AA" if not link.endswith("AA") else "BB")) == 404
        assert _page_status(f"{sandbox.url}/checkout/{team}%23pay_tx_1001") == 404
    assert _page_status(f"{sandbox.url}/checkout/pay_tx_1001") == 404

    for team, headers in callers.items():
        status, view = sandbox.request("GET", "/api/payments/pay_tx_1001", headers=headers)
        assert status == 200 and view["amount"] == amounts[team]
    operator = {**callers, "default": ADMIN}
    for team, headers in operator.items():
        status, page = sandbox.request("GET", "/api/v2/pending-payments", headers=headers)
        assert status == 200 and page["pending_count"] == 1
        assert [p["amount"] for p in page["payments"].values()] == [amounts[team]]
        status, found = sandbox.request("GET", "/api/v2/pending-payments?tx_id=tx_1001", headers=headers)
        assert [p["amount"] for p in found["payments"].values()] == [amounts[team]]
    # The admin token acts on a team's operator routes with ?team=.
    status, page = sandbox.request("GET", "/api/v2/pending-payments?team=billing", headers=ADMIN)
    assert [p["amount"] for p in page["payments"].values()] == [amounts["billing"]]

    # An invoice of shop's is a 404 to every other caller, as if it did not exist.
    status, invoice = sandbox.request(
        "POST",
        "/api/create-invoice",
        {
            "amount": 500,
            "reference": "order-7",
            "webhook_url": receiver.url("/shop"),
            "redirect_url": "https://a.example",
        },
        callers["shop"],
    )
    assert status == 200
    invoice_id = invoice["payment_id"]
    for headers in (callers["billing"], ADMIN, {}):
        assert sandbox.request("GET", f"/api/payments/{invoice_id}", headers=headers)[0] == 404
    for headers in (callers["billing"], ADMIN):
        for path, body in (
            ("/api/v2/confirm-payment", {"payment_id": invoice_id}),
            ("/api/v2/fail-payment", {"payment_id": invoice_id}),
        ):
            status, answer = sandbox.request("POST", path, body, headers)
            assert status == 404 and answer["error"]["code"] == "payment_not_found"
        assert sandbox.request("GET", f"/api/payments/{invoice_id}/webhooks", headers=headers)[0] == 404
        status, page = sandbox.request("GET", "/api/v2/pending-payments?reference=order-7", headers=headers)
        assert page["payments"] == {}
    # Nor can the default team reach it under its table key.
    assert sandbox.request("GET", f"/api/payments/shop%23{invoice_id}", headers={})[0] == 404

    for headers in operator.values():
        status, confirmed = sandbox.request("POST", "/api/v2/confirm-payment", {"payment_id": "pay_tx_1001"}, headers)
        assert status == 200 and confirmed["payment_id"] == "pay_tx_1001"
    deliveries = {t: wait_for(lambda t=t: receiver.to(f"/{t}"))[0] for t in callers}
    for team, delivery in deliveries.items():
        assert json.loads(delivery.body)["amount"] == amounts[team]
        assert json.loads(delivery.body)["payment_id"] == "pay_tx_1001"
        assert verifies(delivery, secrets[team])
        for other in set(secrets) - {team}:
            assert not any_verifies(delivery, secrets[other]), (team, other)
        # Each team's delivery log holds only its own attempt.
        status, log = sandbox.request("GET", "/api/payments/pay_tx_1001/webhooks", headers=operator[team])
        assert status == 200 and [json.loads(json.dumps(d["payload"]))["amount"] for d in log["deliveries"]] == [
            amounts[team]
        ]
        assert log["deliveries"][0]["payment_id"] == "pay_tx_1001"
    # Idempotency-Key is unique per team too: one key, two teams, two different invoices.
    for team, amount in (("shop", 111), ("billing", 222)):
        invoice = {
            "amount": amount,
            "reference": "r",
            "webhook_url": receiver.url("/x"),
            "redirect_url": "https://a.example",
        }
        status, answer = sandbox.request(
            "POST", "/api/create-invoice", invoice, {**callers[team], "Idempotency-Key": "same-key"}
        )
        assert status == 200 and answer["payment_id"].startswith("inv_"), answer


def test_a_forged_confirmation_does_not_verify_for_the_victim(sandbox_factory: Any, receiver: Receiver) -> None:
    """The issue's forgery: the attacker makes an invoice with the victim's reference and amount,
    pays it, and replays the signed delivery to the victim. Signed with the attacker's secret,
    it verifies for nobody else, and /webhooks/verify says so for the victim's key."""
    sandbox = sandbox_factory()
    victim, attacker = create_team(sandbox, "victim"), create_team(sandbox, "attacker")
    status, invoice = sandbox.request(
        "POST",
        "/api/create-invoice",
        {
            "amount": 99900,
            "reference": "victim-order-1",
            "webhook_url": receiver.url("/evil"),
            "redirect_url": "https://a.example",
        },
        bearer(attacker["api_key"]),
    )
    assert status == 200
    status, _ = sandbox.request(
        "POST", "/api/v2/confirm-payment", {"payment_id": invoice["payment_id"]}, bearer(attacker["api_key"])
    )
    assert status == 200
    forged = wait_for(lambda: receiver.to("/evil"))[0]
    assert verifies(forged, attacker["webhook_secret"])
    assert not any_verifies(forged, victim["webhook_secret"])
    assert not any_verifies(forged, SECRET)
    replay = {k: v for k, v in forged.headers.items() if k.lower() != "content-length"}
    for caller, valid in ((bearer(victim["api_key"]), False), ({}, False), (bearer(attacker["api_key"]), True)):
        status, answer = _verify(sandbox, forged.body, {**replay, **caller})
        assert answer["valid"] is valid, answer


def _page_status(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def _verify(sandbox: Sandbox, raw: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(sandbox.url + "/webhooks/verify", data=raw, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_wrong_rolled_or_revoked_keys_are_401_never_the_default_team(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory()
    shop = create_team(sandbox, "shop")
    for bad in ("default", "Shop", "-x", "a" * 33, "sh_op", 7):
        status, answer = sandbox.request("POST", "/api/teams", {"team_id": bad}, ADMIN)
        assert (status, answer["error"]["code"]) == (422, "validation_error"), bad
    assert sandbox.request("POST", "/api/teams", {"team_id": "other"}, bearer(shop["api_key"]))[0] == 401
    body = v2_body(tx_id="tx_1", order_id=1, user_id=1, amount=100, callback_url="https://m.example/h")
    for key in (shop["api_key"][:-1] + "x", "psk_nobody_" + "a" * 40, "psk_", "not-a-key"):
        status, answer = sandbox.request("POST", "/api/v2/payments", body, bearer(key))
        assert (status, answer["error"]["code"]) == (401, "invalid_api_key"), key
        status, answer = sandbox.request("GET", "/api/v2/pending-payments", headers=bearer(key))
        assert status == 401, key
    # No payment was created for anyone by those requests.
    assert sandbox.request("GET", "/api/payments/pay_tx_1", headers={})[0] == 404
    # A roll without overlap stops the old key at once; the new one works.
    status, rolled = sandbox.request("POST", "/api/teams/shop/keys/roll", {}, bearer(shop["api_key"]))
    assert status == 200
    assert sandbox.request("GET", "/api/v2/pending-payments", headers=bearer(shop["api_key"]))[0] == 401
    assert sandbox.request("GET", "/api/v2/pending-payments", headers=bearer(rolled["api_key"]))[0] == 200
    # A team key manages only its own team, never creates or lists teams.
    assert sandbox.request("GET", "/api/teams", headers=bearer(rolled["api_key"]))[0] == 401
    assert sandbox.request("GET", "/api/teams/shop", headers=bearer(rolled["api_key"]))[0] == 200
    # Deleted: its key stops working.
    assert sandbox.request("DELETE", "/api/teams/shop", headers=ADMIN)[0] == 204
    status, answer = sandbox.request("POST", "/api/v2/payments", body, bearer(rolled["api_key"]))
    assert (status, answer["error"]["code"]) == (401, "invalid_api_key")


def test_require_api_keys_refuses_keyless_creation(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(REQUIRE_API_KEYS="true", SANDBOX_TEAMS="shop")
    key = next(line.split(" key ")[1].split()[0] for line in sandbox.output().splitlines() if "Team shop" in line)
    body = v2_body(tx_id="tx_1", order_id=1, user_id=1, amount=100, callback_url="https://m.example/h")
    status, answer = sandbox.request("POST", "/api/v2/payments", body)
    assert (status, answer["error"]["code"]) == (401, "api_key_required")
    assert sandbox.request("POST", "/api/v2/payments", body, bearer(key))[0] == 200
