"""Domain errors. Each carries its HTTP status and the machine-readable code of the one JSON
error shape (docs/api.md, Errors); ``to_body`` is the single place that shape is built."""

from __future__ import annotations

from typing import Any


class PaySandboxError(Exception):
    status = 400
    code = "bad_request"
    retry_after: str | None = None  # sent as the Retry-After header when set

    def __init__(self, message: str, *, code: str | None = None, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details

    def to_body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"error": error}


class BadRequest(PaySandboxError):
    status = 400
    code = "bad_request"


class Unauthorized(PaySandboxError):
    status = 401
    code = "unauthorized"


class Forbidden(PaySandboxError):
    status = 403
    code = "forbidden"


class NotFound(PaySandboxError):
    status = 404
    code = "not_found"


class Conflict(PaySandboxError):
    status = 409
    code = "conflict"


class ValidationFailed(PaySandboxError):
    status = 422
    code = "validation_error"


def validation_failed(exc: Any) -> ValidationFailed:
    """Turn a pydantic ``ValidationError`` into a 422 listing every field problem.

    Input values are deliberately left out of the details: they may be card data or secrets.
    """
    details = [
        {"field": ".".join(str(p) for p in err.get("loc", ())) or "body", "problem": err.get("msg", "invalid")}
        for err in exc.errors(include_url=False, include_input=False)
    ]
    return ValidationFailed("The request has invalid fields.", details=details)
