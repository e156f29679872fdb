"""Assemble the OpenAPI 3.1 document from the route table and the pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from paysandbox.apidoc import responses as out
from paysandbox.apidoc.route_types import DOCS, ERRORS, MERCHANT, OPERATOR, Route
from paysandbox.apidoc.routes import ROUTES

VERSION = "0.1.0"
TAGS = {
    MERCHANT: "Shops and billing services: create payments, read them, check webhook signatures.",
    OPERATOR: "Operators and tests: `Authorization: Bearer <SERVICE_AUTH_TOKEN>`.",
    DOCS: "This description.",
}
DESCRIPTION = (
    "paysandbox, a mock payment gateway: the invoice API (AcquireMock v2 style) and the Payments v2 "
    "API, hosted checkout, operator routes and signed webhooks. Amounts are integers in minor units. "
    'Every error has one shape: `{"error": {"code", "message", "details"?}}`.'
)


def document() -> dict[str, Any]:
    models: list[type[BaseModel]] = [out.ErrorBody]
    for route in ROUTES:
        models += [m for m in (route.body, route.answer) if m is not None]
        models += [m for _, choices in route.other.values() for m in choices]
    unique = list(dict.fromkeys(models))
    refs, definitions = models_json_schema(
        [(m, "validation") for m in unique], ref_template="#/components/schemas/{model}"
    )
    ref = {model: refs[(model, "validation")] for model in unique}
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, ref)
    return {
        "openapi": "3.1.0",
        "info": {"title": "paysandbox", "version": VERSION, "description": DESCRIPTION},
        "tags": [{"name": name, "description": text} for name, text in TAGS.items()],
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "operatorToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "SERVICE_AUTH_TOKEN (printed by `make run`; a secret in the cloud).",
                }
            },
        },
    }


def _json(schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"application/json": media}


def _operation(route: Route, ref: dict[type[BaseModel], dict[str, Any]]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "tags": [route.tag],
        "summary": route.summary,
        "description": route.description,
    }
    if route.params:
        operation["parameters"] = [
            {
                "name": p.name,
                "in": p.where,
                "required": p.required or p.where == "path",
                "description": p.description,
                "schema": p.schema,
            }
            for p in route.params
        ]
    if route.body is not None:
        operation["requestBody"] = {"required": True, "content": _json(ref[route.body], route.example)}
    elif route.path == "/webhooks/verify":
        operation["requestBody"] = {
            "required": True,
            "description": "The webhook body exactly as received, with its signature headers.",
            "content": _json({"type": "object"}),
        }
    answers: dict[str, Any] = {str(route.ok): {"description": "OK", "content": _json(ref[route.answer])}}
    if route.ok == 204:
        answers = {"204": {"description": "No content."}}
    for status, (text, choices) in route.other.items():
        schema = ref[choices[0]] if len(choices) == 1 else {"anyOf": [ref[m] for m in choices]}
        answers[str(status)] = {"description": text, "content": _json(schema)}
    for status in route.errors:
        answers[str(status)] = {"description": ERRORS[status], "content": _json(ref[out.ErrorBody])}
    operation["responses"] = dict(sorted(answers.items()))
    if route.operator:
        operation["security"] = [{"operatorToken": []}]
    return operation
