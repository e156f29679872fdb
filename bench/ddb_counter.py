"""Counting DynamoDB work with a botocore event hook (figures 3, 4 and 7).

``DynamoDBCounter().attach(client)`` registers on ``after-call.dynamodb.*`` of one client
(normally ``paysandbox.repository.dynamodb``, the only client that talks to DynamoDB) and
records, per request: the operation, the items it read, and an estimate of the read/write
request units it would be billed on-demand, including the writes into global secondary
indexes (which on-demand bills like table writes). Images of items seen in responses are
remembered so an update's index writes can be told apart (key changed: 2, key removed or
projected attribute changed: 1, index untouched: 0).

``attach_counter(client, images_from=admin)`` makes the unit estimate exact instead: around
every single-item write the counter reads the item before and after with ``admin`` (a
separate, uncounted client), so an UpdateItem without ``ReturnValues=ALL_NEW`` is priced on
its real new image rather than on the "every index changed" upper bound.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

READS = {"GetItem", "BatchGetItem", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
QUERIES = {"Query"}
SCANS = {"Scan"}


def kind_of(operation: str) -> str:
    if operation in READS:
        return "reads"
    if operation in WRITES:
        return "writes"
    if operation in QUERIES:
        return "queries"
    if operation in SCANS:
        return "scans"
    return "other"


def attribute_size(value: dict[str, Any]) -> int:
    """Approximate stored size of one DynamoDB attribute value (AWS 'item size' rules)."""
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        digits = str(inner).lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: v}) for v in inner)
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + attribute_size(v) for k, v in inner.items())
    return 0


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


@dataclass
class Index:
    name: str
    keys: tuple[str, ...]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    included: tuple[str, ...] = ()

    def contains(self, item: dict[str, Any] | None) -> bool:
        return bool(item) and all(k in item for k in self.keys)  # type: ignore[operator]

    def entry_size(self, item: dict[str, Any], table_keys: tuple[str, ...]) -> int:
        if self.projection == "ALL":
            return item_size(item) + 100
        names = {*self.keys, *table_keys, *self.included}
        return item_size({k: v for k, v in item.items() if k in names}) + 100

    def writes_for(self, old: dict[str, Any] | None, new: dict[str, Any] | None, table_keys: tuple[str, ...]) -> int:
        """Write units this index consumes when ``old`` becomes ``new`` (AWS GSI write rules)."""
        before, after = self.contains(old), self.contains(new)
        if not before and not after:
            return 0
        if before and not after:
            return 1
        units = math.ceil(self.entry_size(new or {}, table_keys) / 1024)
        if after and not before:
            return units
        assert old is not None and new is not None
        if any(old[k] != new[k] for k in self.keys):
            return 1 + units  # delete the old entry, put the new one
        watched = set(new) | set(old) if self.projection == "ALL" else set(self.included)
        return units if any(old.get(k) != new.get(k) for k in watched) else 0


def table_indexes(template: dict[str, Any] | None = None) -> dict[str, tuple[tuple[str, ...], list[Index]]]:
    """Per table (named after its logical id): its key attributes and its GSIs, from template.yaml."""
    from sandbox.template import table_definitions

    found = {}
    for name, definition in table_definitions(template).items():
        keys = tuple(k["AttributeName"] for k in definition["KeySchema"])
        indexes = [
            Index(
                name=gsi["IndexName"],
                keys=tuple(k["AttributeName"] for k in gsi["KeySchema"]),
                projection=gsi["Projection"]["ProjectionType"],
                included=tuple(gsi["Projection"].get("NonKeyAttributes", ())),
            )
            for gsi in definition.get("GlobalSecondaryIndexes", [])
        ]
        found[name] = (keys, indexes)
    return found


@dataclass
class DynamoDBCounter:
    requests: Counter[str] = field(default_factory=Counter)  # by operation
    items_read: int = 0
    read_units: float = 0.0
    write_units: float = 0.0
    index_write_units: float = 0.0
    _indexes: dict[str, tuple[tuple[str, ...], list[Index]]] = field(default_factory=table_indexes)
    _images: dict[str, dict[str, Any]] = field(default_factory=dict)
    _clients: list[Any] = field(default_factory=list)
    images_from: Any = None  # an uncounted client that reads items around writes (exact units)

    # ------------------------------------------------------------ wiring
    def attach(self, client: Any) -> DynamoDBCounter:
        client.meta.events.register("after-call.dynamodb.*", self._after_call, unique_id=f"bench-counter-{id(self)}")
        client.meta.events.register("before-call.dynamodb.*", self._before_call, unique_id=f"bench-before-{id(self)}")
        self._clients.append(client)
        return self

    def detach(self) -> None:
        for client in self._clients:
            client.meta.events.unregister("after-call.dynamodb.*", unique_id=f"bench-counter-{id(self)}")
            client.meta.events.unregister("before-call.dynamodb.*", unique_id=f"bench-before-{id(self)}")
        self._clients.clear()

    def __enter__(self) -> DynamoDBCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.detach()

    def reset(self) -> None:
        self.requests.clear()
        self.items_read = 0
        self.read_units = self.write_units = self.index_write_units = 0.0

    # ------------------------------------------------------------ summaries
    @property
    def by_kind(self) -> dict[str, int]:
        kinds = {"reads": 0, "writes": 0, "queries": 0, "scans": 0, "other": 0}
        for operation, count in self.requests.items():
            kinds[kind_of(operation)] += count
        return kinds

    @property
    def total_requests(self) -> int:
        return sum(self.by_kind[k] for k in ("reads", "writes", "queries", "scans"))

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            **self.by_kind,
            "total": self.total_requests,
            "items_read": self.items_read,
            "read_units": self.read_units,
            "write_units": self.write_units + self.index_write_units,
            "table_write_units": self.write_units,
            "index_write_units": self.index_write_units,
        }

    # ------------------------------------------------------------ the hooks
    def _read_back(self, table: str, item_or_key: dict[str, Any]) -> dict[str, Any] | None:
        keys = self._indexes.get(table, ((), []))[0]
        key = {k: item_or_key[k] for k in keys if k in item_or_key}
        found: dict[str, Any] | None = self.images_from.get_item(TableName=table, Key=key, ConsistentRead=True).get(
            "Item"
        )
        return found

    def _before_call(self, model: Any, context: Any, **_: Any) -> None:
        params = (context or {}).get("bench_params") or {}
        if self.images_from is None or model.name not in ("PutItem", "UpdateItem", "DeleteItem"):
            return
        table = params.get("TableName", "")
        source = params.get("Item") or params.get("Key") or {}
        old = self._read_back(table, source)
        if old is None:
            self._images.pop(self._key(table, source), None)
        else:
            self._remember(table, old)

    def _after_call(self, http_response: Any, parsed: dict[str, Any], model: Any, context: Any, **_: Any) -> None:
        operation = model.name
        params = (context or {}).get("bench_params") or {}
        self.requests[operation] += 1
        if "Error" in parsed:
            # A failed conditional write still consumes write units (1 per KB of the item).
            if operation in WRITES:
                self.write_units += max(1, math.ceil(item_size(parsed.get("Item")) / 1024))
            return
        if operation == "GetItem":
            item = parsed.get("Item")
            self.items_read += 1 if item else 0
            self.read_units += self._read_units([item], params.get("ConsistentRead", False))
            if item:
                self._remember(params.get("TableName", ""), item)
        elif operation in ("Query", "Scan"):
            items = parsed.get("Items")
            scanned = int(parsed.get("ScannedCount", parsed.get("Count", 0)))
            self.items_read += scanned
            if items is None:  # Select=COUNT: no items returned, assume 1 KB each
                self.read_units += max(0.5, math.ceil(scanned * 1024 / 4096) / 2)
            else:
                consistent = params.get("ConsistentRead", False) and "IndexName" not in params
                self.read_units += self._read_units(items, consistent, aggregate=True)
        elif operation == "BatchGetItem":
            for table, items in parsed.get("Responses", {}).items():
                consistent = params.get("RequestItems", {}).get(table, {}).get("ConsistentRead", False)
                self.items_read += len(items)
                self.read_units += self._read_units(items, consistent)
                for item in items:
                    self._remember(table, item)
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            self._count_write(operation, params, parsed)
        elif operation == "BatchWriteItem":
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    if "PutRequest" in request:
                        self._count_write("PutItem", {"TableName": table, **request["PutRequest"]}, {})
                    else:
                        self._count_write("DeleteItem", {"TableName": table, **request["DeleteRequest"]}, {})

    @staticmethod
    def _read_units(items: list[dict[str, Any] | None], consistent: bool, aggregate: bool = False) -> float:
        """On-demand read units: 4 KB per unit, half for eventually consistent reads."""
        factor = 1.0 if consistent else 0.5
        if aggregate:
            return max(1, math.ceil(sum(item_size(i) for i in items) / 4096)) * factor
        return sum(max(1, math.ceil(item_size(i) / 4096)) * factor for i in items)

    def _key(self, table: str, item: dict[str, Any]) -> str:
        keys = self._indexes.get(table, ((), []))[0]
        return table + json.dumps({k: item.get(k) for k in keys}, sort_keys=True, default=str)

    def _remember(self, table: str, item: dict[str, Any]) -> None:
        self._images[self._key(table, item)] = item

    def _count_write(self, operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        table = params.get("TableName", "")
        table_keys, indexes = self._indexes.get(table, ((), []))
        key_source = params.get("Item") or params.get("Key") or {}
        key = self._key(table, key_source)
        old = self._images.get(key)
        if operation == "PutItem":
            new: dict[str, Any] | None = params["Item"]
        elif operation == "UpdateItem" and self.images_from is not None:
            new = self._read_back(table, key_source)
        elif operation == "UpdateItem":
            new = parsed.get("Attributes") if params.get("ReturnValues") == "ALL_NEW" else None
        else:
            new = None
        if operation == "UpdateItem" and new is None:
            # Without ALL_NEW the new image is unknown: assume every index changed (upper bound).
            new = {**(old or {}), **{k: {"S": "?"} for index in indexes for k in index.keys}}
        self.write_units += max(1, math.ceil(max(item_size(old), item_size(new)) / 1024))
        self.index_write_units += sum(index.writes_for(old, new, table_keys) for index in indexes)
        if new is None:
            self._images.pop(key, None)
        else:
            self._images[key] = new


def _remember_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context["bench_params"] = params


def attach_counter(client: Any, counter: DynamoDBCounter | None = None, *, images_from: Any = None) -> DynamoDBCounter:
    """Attach a counter (and the hook that hands it the request parameters) to one client.

    ``images_from``: an uncounted client to read items before and after each write with
    (exact write units); without it, units of an UpdateItem lacking ALL_NEW are an upper bound.
    """
    client.meta.events.register("before-parameter-build.dynamodb.*", _remember_params, unique_id="bench-params")
    counter = counter or DynamoDBCounter()
    if images_from is not None:
        counter.images_from = images_from
    return counter.attach(client)
