"""Webhook sender: delivers every signed webhook. One handler, two event sources.

- The ``Payments`` stream (filtered in the template to transitions into a terminal status):
  each record becomes an event and its first delivery attempt.
- The SQS retry queue: each message is a retry job (next attempt, or a hop towards a
  ``not_before`` beyond SQS's 900 s delay limit).

Records are told apart by their ``eventSource``. Both use Powertools partial batch
responses, so one bad record is retried alone (``ReportBatchItemFailures``).
"""

from __future__ import annotations

from paysandbox import init_phase

init_phase.begin()  # no garbage collection while the handler loads (init_phase.py)

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from paysandbox import deliveries

logger = Logger()
metrics = Metrics()
stream_processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
retry_processor = BatchProcessor(event_type=EventType.SQS)


def stream_record(record: DynamoDBRecord) -> str:
    return deliveries.handle_stream_record(record.raw_event)


def retry_job(record: SQSRecord) -> str:
    return deliveries.handle_job(json.loads(record.body))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = event.get("Records") or []
    if not records:
        return {"batchItemFailures": []}
    if records[0].get("eventSource") == "aws:sqs":
        return process_partial_response(event, retry_job, retry_processor, context)
    return process_partial_response(event, stream_record, stream_processor, context)


init_phase.end()  # the handler is ready
