"""The readable webhook and request lines of `make run`."""

from __future__ import annotations

from sandbox.terminal import readable_request, webhook_line

ATTEMPT = {"event": "payment.completed", "payment_id": "pay_tx-1", "target": "https://shop.example/hooks"}


def test_a_delivered_attempt_says_so_with_the_answer() -> None:
    line = webhook_line({**ATTEMPT, "attempt": 2, "outcome": "delivered", "response_status": 200, "next": "none"})
    assert line == "[webhook] payment.completed pay_tx-1 -> https://shop.example/hooks: attempt 2 delivered (200)"


def test_a_connection_error_is_shortened_to_its_reason() -> None:
    error = (
        "connection failed: NewConnectionError: HTTPConnection(host='127.0.0.1', port=9): "
        "Failed to establish a new connection: [Errno 111] Connection refused"
    )
    line = webhook_line(
        {**ATTEMPT, "attempt": 1, "outcome": "failed", "error": error, "next": "retry", "retry_in_s": 60}
    )
    assert line.endswith("attempt 1 failed ([Errno 111] Connection refused), retry in 60 s")


def test_request_lines_leave_out_query_strings() -> None:
    line = readable_request('"GET /api/v2/pending-payments?cursor=abc HTTP/1.1" 200 -')
    assert line == "[api] GET /api/v2/pending-payments 200"
    assert readable_request('"GET /nowhere HTTP/1.1" 404 -') == "[api] GET /nowhere 404 route_not_found"
