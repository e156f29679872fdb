from tests.support import OPERATOR, invoice_body, v2_body


def test_create_and_read(merchant, operator):
    status, body, _ = merchant.call("POST", "/api/create-invoice", invoice_body())
    assert status == 200, body
    pid = body["payment_id"]
    status, view, _ = merchant.call(
        "GET", f"/api/payments/{pid}", resource="/api/payments/{payment_id}", path_parameters={"payment_id": pid}
    )
    assert status == 200, view
    status, body, _ = merchant.call("POST", "/api/v2/payments", v2_body())
    assert status == 200, body
    status, body, _ = operator.call("POST", "/api/v2/confirm-payment", {"payment_id": "pay_tx-1001"}, headers=OPERATOR)
    assert status == 200, body
    status, body, _ = operator.call("GET", "/api/v2/pending-payments", headers=OPERATOR, query="status=completed")
    assert status == 200, body
    print(body)
