"""The baseline server: a bare FastAPI app answering every GET and POST with the same bytes.

It runs under the same uvicorn (uvloop, httptools, one process) as `taskdash serve`, so the
ratio against it is what TaskDash's own work costs on top of the framework and the socket.
`PUT /_body` sets the bytes (a benchmark copies them from a real TaskDash answer).
Run: .venv/bin/python -m uvicorn bench.bare_app:app --port PORT
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response

app = FastAPI()
_body = {"bytes": b"{}"}


@app.put("/_body", status_code=204)
async def set_body(request: Request) -> Response:
    _body["bytes"] = await request.body()
    return Response(status_code=204)


@app.api_route("/{path:path}", methods=["GET", "POST"])
async def same_bytes(path: str) -> Response:
    return Response(content=_body["bytes"], media_type="application/json")
