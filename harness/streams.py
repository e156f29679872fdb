"""A DynamoDB stream read the way Lambda's event source mapping reads it: moto's real
GetRecords on every shard, from the oldest record on, each poll picking up where the last
one left off."""

from __future__ import annotations

from typing import Any


class StreamReader:
    def __init__(self, streams: Any, stream_arn: str) -> None:
        self.streams = streams  # a dynamodbstreams client
        self.stream_arn = stream_arn
        self._iterators: dict[str, str] = {}

    @classmethod
    def of_table(cls, table: str = "Payments", dynamodb: Any = None, streams: Any = None) -> StreamReader:
        """The reader of ``table``'s stream (default clients: boto3's, for the current account)."""
        import boto3

        dynamodb = dynamodb or boto3.client("dynamodb")
        arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        return cls(streams or boto3.client("dynamodbstreams"), arn)

    def poll(self, limit: int = 1000) -> list[dict[str, Any]]:
        """One GetRecords per shard: the records new since the previous poll (at most ``limit`` each)."""
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        records: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            iterator = (
                self._iterators.get(shard_id)
                or self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            )
            response = self.streams.get_records(ShardIterator=iterator, Limit=limit)
            records.extend(response["Records"])
            self._iterators[shard_id] = response["NextShardIterator"]
        return records

    def read_all(self) -> list[dict[str, Any]]:
        """Every record not read yet: poll until a poll finds nothing."""
        records: list[dict[str, Any]] = []
        while batch := self.poll():
            records.extend(batch)
        return records
