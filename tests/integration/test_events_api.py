"""The events API on moto: one record per event however often the stream repeats
it, its delivery followed across retries, and each team reading only its own events."""

from __future__ import annotations

from harness.receiver import Receiver, Reply
from tests.integration.conftest import Pipeline
from tests.support import OPERATOR, Api, dynamodb_pages_of, v2_body


def _paid_payment_of_team(merchant: Api, team: str, tx_id: str, url: str) -> str:
    """Another team's paid payment, made as that team makes one: with its own key."""
    from paysandbox import teams

    key = {"Authorization": f"Bearer {teams.create({'team_id': team})['api_key']}"}
    status, created, _ = merchant.call("POST", "/api/v2/payments", v2_body(tx_id=tx_id, callback_url=url), headers=key)
    assert status == 200, created
    status, confirmed, _ = Api("confirm").call(
        "POST", "/api/v2/confirm-payment", {"payment_id": created["payment_id"]}, headers=key
    )
    assert status == 200, confirmed
    return str(created["payment_id"])


def _events(operator: Api, query: str = "") -> list[dict]:
    status, page, _ = operator.call("GET", "/api/events", headers=OPERATOR, query=query)
    assert status == 200, page
    return list(page["events"])


def test_one_event_per_transition_with_its_delivery_across_retries(
    pipeline: Pipeline, receiver: Receiver, merchant: Api, operator: Api
) -> None:
    receiver.plan = lambda request, n: Reply(503) if n == 1 else Reply(200)
    status, created, _ = merchant.call("POST", "/api/v2/payments", v2_body(callback_url=receiver.url()))
    assert status == 200, created
    pid = created["payment_id"]
    assert operator.call("POST", "/api/v2/confirm-payment", {"payment_id": pid}, headers=OPERATOR)[0] == 200

    pipeline.pump_stream(duplicate=True)  # the stream hands the record over twice
    (event,) = _events(operator)
    assert event["delivery"] == {"status": "pending", "attempts": 1, "last_response_status": 503}
    assert event["type"] == "payment.completed" and event["payment_id"] == pid
    assert event["body"]["event_id"] == event["event_id"] == receiver.requests[0].headers["webhook-id"]

    pipeline.clock.advance_to(pipeline.clock.now() + 3600)
    pipeline.run()
    (event,) = _events(operator)
    assert event["delivery"] == {"status": "delivered", "attempts": 2, "last_response_status": 200}
    assert _events(operator, "delivery=pending") == []
    assert [e["event_id"] for e in _events(operator, f"payment_id={pid}&type=payment.completed")] == [event["event_id"]]


def test_a_team_reads_only_its_own_events(pipeline: Pipeline, receiver: Receiver, merchant: Api, operator: Api) -> None:
    from paysandbox import events

    status, created, _ = merchant.call("POST", "/api/v2/payments", v2_body(tx_id="ours", callback_url=receiver.url()))
    assert (
        operator.call("POST", "/api/v2/confirm-payment", {"payment_id": created["payment_id"]}, headers=OPERATOR)[0]
        == 200
    )
    theirs = _paid_payment_of_team(merchant, "shop", "theirs", receiver.url())
    pipeline.run()
    assert len(receiver.requests) == 2  # both were delivered

    # The default team's operator sees its event only, in every mode of the list
    (ours,) = _events(operator)
    assert ours["payment_id"] == created["payment_id"]
    (shop_event,) = events.list_events("shop", limit=10)["events"]
    assert shop_event["payment_id"] == theirs
    assert _events(operator, f"payment_id={theirs}") == []
    # Another team's event answers exactly as one that does not exist
    for method, path, query in (
        ("GET", f"/api/events/{shop_event['event_id']}", ""),
        ("GET", "/api/events", f"after={shop_event['event_id']}"),
        ("POST", f"/api/events/{shop_event['event_id']}/redeliver", ""),
    ):
        status, body, _ = operator.call(method, path, headers=OPERATOR, query=query)
        assert (status, body["error"]["code"]) == (404, "event_not_found"), path
    # And after its own event, the default team's tail is empty, though shop's event is newer
    assert _events(operator, f"after={ours['event_id']}") == []


def test_the_delivery_filter_pages_through_every_event_with_its_body(
    pipeline: Pipeline, receiver: Receiver, merchant: Api, operator: Api
) -> None:
    """The delivery status changes after the event is listed in by-team, so it is filtered on
    the records read from the table: with pages of one event, every match is still found,
    newest first, with its body, and following the cursors repeats none."""
    receiver.plan = lambda request, n: Reply(410) if request.path == "/gone" else Reply(200)
    gone = []
    for i, path in enumerate(["/gone", "/ok", "/gone", "/ok", "/gone"]):
        body = v2_body(tx_id=f"tx-{i}", callback_url=receiver.url(path))
        status, created, _ = merchant.call("POST", "/api/v2/payments", body)
        assert status == 200, created
        assert (
            operator.call("POST", "/api/v2/confirm-payment", {"payment_id": created["payment_id"]}, headers=OPERATOR)[0]
            == 200
        )
        pipeline.run()
        if path == "/gone":
            gone.append(created["payment_id"])

    with dynamodb_pages_of(1):
        listed, query = [], "delivery=gone&limit=2"
        while True:
            status, page, _ = operator.call("GET", "/api/events", headers=OPERATOR, query=query)
            assert status == 200, page
            listed += page["events"]
            if not page["next_cursor"]:
                break
            query = f"delivery=gone&limit=2&cursor={page['next_cursor']}"
    assert [e["payment_id"] for e in listed] == gone[::-1]
    assert all(e["delivery"]["status"] == "gone" and e["body"]["payment_id"] == e["payment_id"] for e in listed)


def test_a_cursor_from_another_teams_event_list_is_refused(
    pipeline: Pipeline, receiver: Receiver, merchant: Api, operator: Api
) -> None:
    from paysandbox import events, teams

    key = {"Authorization": f"Bearer {teams.create({'team_id': 'kiosk'})['api_key']}"}
    for tx_id in ("one", "two"):
        status, created, _ = merchant.call(
            "POST", "/api/v2/payments", v2_body(tx_id=tx_id, callback_url=receiver.url()), headers=key
        )
        assert status == 200, created
        confirm = {"payment_id": created["payment_id"]}
        assert Api("confirm").call("POST", "/api/v2/confirm-payment", confirm, headers=key)[0] == 200
    pipeline.run()
    kiosk_cursor = events.list_events("kiosk", limit=1)["next_cursor"]
    assert kiosk_cursor

    status, body, _ = operator.call("GET", "/api/events", headers=OPERATOR, query=f"cursor={kiosk_cursor}")
    assert (status, body["error"]["code"]) == (422, "invalid_cursor")
