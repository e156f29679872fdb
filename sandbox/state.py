"""State across restarts (docs/local-sandbox.md): payments, delivery logs and pending retries in a directory.

``SANDBOX_STATE_DIR`` chooses the directory (default ``.sandbox-state``; ``none`` keeps
everything in memory). The state is one JSON file, replaced atomically: at a clean stop,
and every ``SNAPSHOT_SECONDS`` while running, so a ``kill -9`` loses at most that much.

At start, before any poller runs: the tables' items are put back; every queued message is
sent again with the delay it had left (retries that fell due while stopped are sent at once);
and a payment whose transition into a final status the webhook sender never saw (the stop
came between the write and the stream read) gets that transition replayed on the stream, so
its webhook goes out. Secrets the sandbox generated are kept too: a receiver configured with
the webhook secret, open checkout forms and one-time codes keep working after a restart.
"""

from __future__ import annotations

import base64
import json
import math
import os
import threading
import time
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import IO, Any

from sandbox.heap import release_free_memory
from sandbox.stack import ACCOUNT_ID, Stack
from sandbox.template import resources_of_type

DEFAULT_DIR = ".sandbox-state"
STATE_FILE = "state.json"
FORMAT = 1
SNAPSHOT_SECONDS = 10.0
SQS_MAX_DELAY = 900
FINAL_STATUSES = ("paid", "failed", "expired", "refunded")


def state_dir(environ: Mapping[str, str]) -> Path | None:
    raw = environ.get("SANDBOX_STATE_DIR", DEFAULT_DIR).strip()
    return None if raw.lower() in ("none", "") else Path(raw)


def _encode(value: Any) -> Any:
    """DynamoDB attribute values as JSON: bytes (B, BS) become {"__b64__": ...}."""
    if isinstance(value, bytes | bytearray):
        return {"__b64__": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__b64__"}:
            return base64.b64decode(value["__b64__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class SnapshotAbandoned(Exception):
    """A periodic snapshot stopped part-way because the sandbox is stopping."""


class StateStore:
    def __init__(self, directory: Path, stack: Stack, clients: Any) -> None:
        self.path = directory / STATE_FILE
        self.stack = stack
        self.clients = clients
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ secrets

    @staticmethod
    def saved_secrets(directory: Path) -> dict[str, str]:
        """The generated secrets of an earlier run (variable -> value)."""
        try:
            saved = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in (saved.get("secrets") or {}).items()}

    @staticmethod
    def reuse_secrets(directory: Path, environ: MutableMapping[str, str]) -> list[str]:
        """Put an earlier run's generated secrets into ``environ`` where none is set."""
        reused = []
        for variable, value in StateStore.saved_secrets(directory).items():
            if not environ.get(variable):
                environ[variable] = value
                reused.append(variable)
        return reused

    # ------------------------------------------------------------------ save

    def _tables(self) -> dict[str, str]:
        return {
            logical: self.stack.ref(logical)
            for logical in resources_of_type("AWS::DynamoDB::Table", self.stack.template)
        }

    def _queues(self) -> dict[str, str]:
        return {name: url for (name, attribute), url in self.stack.attributes.items() if attribute == "QueueUrl"}

    def _write(self, out: IO[str], secrets: Mapping[str, str], abandon: threading.Event | None = None) -> None:
        """The state as one JSON object, written one item at a time: a snapshot of a large
        table never holds a second copy of it in memory (one scan page at a time). Once
        ``abandon`` is set the write stops (``SnapshotAbandoned``), the saved file untouched."""
        head = {"format": FORMAT, "saved_at": time.time(), "secrets": dict(secrets)}
        out.write(json.dumps(head, separators=(",", ":"))[:-1] + ',"tables":{')
        for number, (logical, name) in enumerate(self._tables().items()):
            out.write(("," if number else "") + json.dumps(logical) + ":[")
            first = True
            for page in self.clients.dynamodb.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
                for item in page["Items"]:
                    out.write(("" if first else ",") + json.dumps(_encode(item), separators=(",", ":")))
                    first = False
                if abandon is not None and abandon.is_set():
                    raise SnapshotAbandoned
            out.write("]")
        queues = {logical: _queued_messages(self.stack.region, url) for logical, url in self._queues().items()}
        out.write('},"queues":' + json.dumps(queues, separators=(",", ":")) + "}")

    def save(self, secrets: Mapping[str, str], abandon: threading.Event | None = None) -> None:
        with self._lock:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            temporary = self.path.with_name(STATE_FILE + ".tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                self._write(out, secrets, abandon)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)

    def start_snapshots(self, secrets: Mapping[str, str], every: float = SNAPSHOT_SECONDS) -> None:
        def loop() -> None:
            while not self._stopping.wait(every):
                try:  # a stop abandons it: the final save after the stop writes everything anyway
                    self.save(secrets, abandon=self._stopping)
                    release_free_memory()  # the snapshot's short-lived copy of every item
                except Exception as error:  # the emulator going away at stop; try again next time
                    if not self._stopping.is_set():
                        print(f"[sandbox] state snapshot failed: {error}", flush=True)

        self._thread = threading.Thread(target=loop, name="state-snapshots", daemon=True)
        self._thread.start()

    def stop_snapshots(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(30)

    # ------------------------------------------------------------------ restore

    def restore(self) -> dict[str, int]:
        """Put a saved state back (before the pollers start); counts of what came back."""
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        if state.get("format") != FORMAT:
            raise SystemExit(f"sandbox: {self.path} has an unknown format; move it away to start empty")
        tables = self._tables()
        saved: dict[str, list[dict[str, Any]]] = {k: _decode(v) for k, v in state.get("tables", {}).items()}
        counts = {"payments": 0, "webhook attempts": 0, "queued jobs": 0, "replayed events": 0}
        for logical, items in saved.items():
            if logical in tables:
                self._put_all(tables[logical], items)
        counts["payments"] = len(saved.get("Payments", []))
        counts["webhook attempts"] = sum(1 for i in saved.get("WebhookLogs", []) if i["sk"]["S"].startswith("attempt#"))
        counts["replayed events"] = self._replay_unseen_transitions(saved)
        now = time.time()
        queues = self._queues()
        for logical, messages in state.get("queues", {}).items():
            for message in messages if logical in queues else []:
                delay = min(SQS_MAX_DELAY, max(0, math.ceil(message["ready_at"] - now)))
                self.clients.sqs.send_message(QueueUrl=queues[logical], MessageBody=message["body"], DelaySeconds=delay)
                counts["queued jobs"] += logical == "WebhookRetryQueue"
        return counts

    def _put_all(self, table: str, items: list[dict[str, Any]]) -> None:
        for start in range(0, len(items), 25):
            requests = {table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
            while requests:
                requests = self.clients.dynamodb.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}

    def _replay_unseen_transitions(self, saved: dict[str, list[dict[str, Any]]]) -> int:
        """Final payments without the first attempt of their event: write the transition again."""
        if "Payments" not in saved:
            return 0
        from paysandbox.repository.deliveries import attempt_sk
        from paysandbox.states import Status, sources_of
        from paysandbox.webhook_events import event_id_for  # the layer is importable once handlers are loaded

        claimed = {(i["payment_id"]["S"], i["sk"]["S"]) for i in saved.get("WebhookLogs", [])}
        table = self._tables()["Payments"]
        replayed = 0
        for item in saved["Payments"]:
            status = item.get("status", {}).get("S")
            payment_id = item["payment_id"]["S"]
            if status not in FINAL_STATUSES:
                continue
            # A refund's write carries refund_event until the sender saw it: its event is the refund's.
            refund_id = item.get("refund_event", {}).get("S")
            event_key = f"refund:{refund_id}" if refund_id else status
            if (payment_id, attempt_sk(event_id_for(payment_id, event_key), 0, 1)) in claimed:
                continue
            if refund_id:
                before_item = {k: v for k, v in item.items() if k != "refund_event"}
            else:
                sources = sorted(s.value for s in sources_of(Status(status)))
                before_item = {**item, "status": {"S": "pending" if "pending" in sources else sources[0]}}
            self.clients.dynamodb.put_item(TableName=table, Item=before_item)
            self.clients.dynamodb.put_item(TableName=table, Item=item)
            replayed += 1
        return replayed


def _queued_messages(region: str, url: str) -> list[dict[str, Any]]:
    """A queue's messages as the emulator holds them, with when each becomes receivable.

    Read from moto's memory (this process): delayed and in-flight messages cannot be read
    through the SQS API. A message in flight at a snapshot is due at once after a restore
    (its consumer may not have finished; the sender's attempt claims make a repeat harmless).
    """
    from moto.sqs.models import sqs_backends

    queue = sqs_backends[ACCOUNT_ID][region].queues.get(url.rstrip("/").rsplit("/", 1)[-1])
    if queue is None:
        return []
    messages = []
    for message in list(queue._messages):
        ready_ms = message.delayed_until if message.delayed else 0.0
        messages.append({"body": message.body, "ready_at": ready_ms / 1000})
    return messages


def describe_restore(directory: Path, counts: dict[str, int]) -> str:
    if not counts:
        return f"sandbox: state in {directory}/ (new; SANDBOX_STATE_DIR=none keeps it in memory only)"
    parts = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    return f"sandbox: state restored from {directory}/: {parts or 'nothing to restore'}"
