"""The OpenAPI document as the API really answers: errors are 400 {errid, errmsg}, never 422."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def without_validation_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Drop FastAPI's stock 422 answers: our validation handler answers 400 with an errid."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    schemas = document.get("components", {}).get("schemas", {})
    for name in _VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the corrected document at /openapi.json."""
    stock = app.openapi

    def openapi() -> dict[str, Any]:
        return without_validation_errors(stock())  # FastAPI caches the document it returns

    app.openapi = openapi  # type: ignore[method-assign]
