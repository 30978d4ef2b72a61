"""API documentation: our own /docs page over Swagger UI's files from an installed package.

The files come from fastapi-offline (Swagger UI 5, which renders OpenAPI 3.1 as FastAPI writes
it); we use none of its code.

Only the three files the page needs are served, under the same strict Content-Security-Policy
as every other answer: the page starts Swagger UI from /static/docs.js, not an inline script.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse

from taskdash.domain.errors import BadRequest
from taskdash.web.routes.pages import STATIC_DIR

ASSETS = "/docs-assets"
ASSET_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png")


class NoSuchAsset(BadRequest):
    http_status = 404


def install_docs(app: FastAPI) -> None:
    """The /docs page and the Swagger UI files it loads."""
    import fastapi_offline

    bundle = Path(fastapi_offline.__file__).parent / "static"
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def docs() -> FileResponse:
        return FileResponse(STATIC_DIR / "docs.html", headers={"Cache-Control": "no-cache"})

    @router.get(ASSETS + "/{name}")
    async def asset(name: str) -> FileResponse:
        if name not in ASSET_FILES:
            raise NoSuchAsset(f"{ASSETS}/{name} is not served")
        return FileResponse(bundle / name, headers={"Cache-Control": "no-cache"})

    app.include_router(router)
