"""The benchmarks' DynamoDB counter, against moto: requests by kind, items read, units."""

from __future__ import annotations

import boto3
import pytest

from bench.ddb_counter import attach_counter


def _pending(payment_id: str) -> dict:
    return {
        "payment_id": {"S": payment_id},
        "status": {"S": "pending"},
        "status_group": {"S": "pending"},
        "due_pk": {"S": "open"},
        "created_at": {"N": "100"},
        "expires_at": {"N": "200"},
    }


def test_counter_counts_requests_items_and_units(aws):
    client = boto3.client("dynamodb")
    with attach_counter(client) as counter:
        client.put_item(TableName="Payments", Item=_pending("p1"))
        client.put_item(TableName="Payments", Item=_pending("p2"))
        client.update_item(
            TableName="Payments",
            Key={"payment_id": {"S": "p1"}},
            UpdateExpression="SET #s = :paid, status_group = :done REMOVE due_pk",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":paid": {"S": "paid"}, ":done": {"S": "completed"}},
            ReturnValues="ALL_NEW",
        )
        client.get_item(TableName="Payments", Key={"payment_id": {"S": "p1"}}, ConsistentRead=True)
        client.query(
            TableName="Payments",
            IndexName="by-expiry",
            KeyConditionExpression="due_pk = :o AND expires_at <= :n",
            ExpressionAttributeValues={":o": {"S": "open"}, ":n": {"N": "300"}},
        )
        client.scan(TableName="Payments")
        snapshot = counter.snapshot()
    assert snapshot["requests"] == {"PutItem": 2, "UpdateItem": 1, "GetItem": 1, "Query": 1, "Scan": 1}
    assert (snapshot["writes"], snapshot["reads"], snapshot["queries"], snapshot["scans"]) == (3, 1, 1, 1)
    assert snapshot["total"] == 6
    # get 1 + query 1 (only p2 is still due) + scan 2
    assert snapshot["items_read"] == 4
    # puts: 1 table + 1 per index each; update: 1 table + 2 (status key changed) + 1 (left by-expiry)
    assert snapshot["write_units"] == 2 * 3 + 4


def test_detached_counter_stops_counting(aws):
    client = boto3.client("dynamodb")
    counter = attach_counter(client)
    client.put_item(TableName="Payments", Item=_pending("p1"))
    counter.detach()
    client.put_item(TableName="Payments", Item=_pending("p2"))
    assert counter.total_requests == 1


def test_a_failed_conditional_write_still_counts(aws):
    client = boto3.client("dynamodb")
    client.put_item(TableName="Payments", Item=_pending("p1"))
    with attach_counter(client) as counter:
        with pytest.raises(client.exceptions.ConditionalCheckFailedException):
            client.put_item(
                TableName="Payments", Item=_pending("p1"), ConditionExpression="attribute_not_exists(payment_id)"
            )
        assert counter.snapshot()["writes"] == 1
        assert counter.snapshot()["write_units"] == 1


def test_reading_items_around_writes_prices_an_update_without_all_new_exactly(aws):
    client, admin = boto3.client("dynamodb"), boto3.client("dynamodb")
    paid = {**_pending("p1"), "status": {"S": "paid"}, "status_group": {"S": "completed"}}
    del paid["due_pk"]
    client.put_item(TableName="Payments", Item=paid)
    update = {
        "TableName": "Payments",
        "Key": {"payment_id": {"S": "p1"}},
        "UpdateExpression": "SET webhook_status = :d",
        "ExpressionAttributeValues": {":d": {"S": "delivered"}},
    }
    with attach_counter(client) as guessed:
        client.update_item(**update)
        # no image known: assumes both indexes' keys changed
        assert guessed.snapshot()["write_units"] > 2
    with attach_counter(client, images_from=admin) as exact:
        client.update_item(**{**update, "ExpressionAttributeValues": {":d": {"S": "failed"}}})
        # 1 table; by-status projects keys only and its keys did not change; never in by-expiry
        assert exact.snapshot()["write_units"] == 1
        assert exact.snapshot()["writes"] == 1
