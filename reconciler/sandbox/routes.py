"""The sandbox's HTTP routes: one function per documented call, and the error answers.

Each route authenticates, reads its request as the server would, and hands the work to the
control object (``control.Sandbox``); refusals are ``rules.ApiFailure``, answered with the
documented error body.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconciler.sandbox import rules
from reconciler.sandbox.control import Sandbox
from reconciler.sandbox.rules import ApiFailure, error_body


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


async def _json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise ApiFailure.one(415, 415, "Content-Type must be application/json")
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiFailure.one(400, 400, f"Malformed JSON body: {error}") from None


def read_ids(request: Request, *, max_batch: int | None, commas: bool) -> list[int]:
    """The ids of ``?ids=1&ids=2`` (the documented form); ``?ids=1,2`` only with ``commas``."""
    ids: list[int] = []
    for raw in request.query_params.getlist("ids"):
        parts = raw.split(",") if commas else [raw]
        for part in parts:
            text = part.strip()
            if not text and commas:
                continue
            try:
                ids.append(int(text))
            except ValueError:
                raise ApiFailure.one(
                    400, rules.CODE_BAD_SERIES_ID, f"Invalid series id: {text}"
                ) from None
    if not ids:
        raise ApiFailure.one(400, rules.CODE_BAD_SERIES_ID, "ids is required")
    unique = list(dict.fromkeys(ids))
    if max_batch is not None and len(unique) > max_batch:
        raise ApiFailure.one(
            400, 400, f"At most {max_batch} ids per call; {len(unique)} were asked for"
        )
    return unique


async def read_series(request: Request) -> Response:
    sandbox = _sandbox(request)
    sandbox.authenticate(request)
    faults = sandbox.faults
    ids = read_ids(request, max_batch=faults.max_batch_size, commas=faults.comma_ids == "accept")
    found, warnings = sandbox.read(ids)
    return JSONResponse({"entity": found, "warnings": warnings})


async def create_series(request: Request) -> Response:
    sandbox = _sandbox(request)
    sandbox.authenticate(request)
    sent = rules.unwrap(await _json_body(request))
    rules.check_date_forms(sent, strict=sandbox.faults.strict_dates)
    delay = sandbox.faults.post_act_delay_seconds
    if delay <= 0:
        return JSONResponse(sandbox.create(sent))
    # Received now, acted on later, in a thread the connection cannot cancel; the answer
    # goes out after the act, to whoever is still listening.
    acted = sandbox.act_later(lambda: sandbox.create(sent), delay=delay)
    return JSONResponse(await asyncio.wrap_future(acted))


async def update_series(request: Request) -> Response:
    sandbox = _sandbox(request)
    sandbox.authenticate(request)
    raw_id = request.path_params["series_id"]
    series_id = int(raw_id) if raw_id.isdigit() else 0
    if series_id <= 0:
        raise ApiFailure.one(400, rules.CODE_BAD_SERIES_ID, f"Invalid series id: {raw_id}")
    sent = rules.unwrap(await _json_body(request))
    if sandbox.faults.put_requires_org_id:
        rules.check_org_id(sent)
    rules.check_date_forms(sent, strict=sandbox.faults.strict_dates)
    return JSONResponse(sandbox.update(series_id, sent))


async def list_series_v1(request: Request) -> Response:
    sandbox = _sandbox(request)
    sandbox.authenticate(request)
    expired = request.query_params.get("expired", "").strip().lower()
    return JSONResponse(sandbox.list_v1(expired=expired if expired in ("true", "false") else ""))


async def generate_token(request: Request) -> Response:
    sandbox = _sandbox(request)
    try:
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise ApiFailure.one(400, 400, 'The body must be {"key": ..., "secret": ...}')
        token, ttl = sandbox.issue_token(key=body.get("key"), secret=body.get("secret"))
    except ApiFailure as failure:
        errors = [{"status": False, "code": c, "message": m} for c, m in failure.errors]
        return JSONResponse({"data": None, "errors": errors}, status_code=failure.status)
    return JSONResponse({"data": {"accessToken": token, "ttlSeconds": ttl}, "errors": None})


async def on_failure(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiFailure)
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse(
        error_body(((exc.status_code, str(exc.detail)),)),
        status_code=exc.status_code,
        headers=exc.headers,
    )


ROUTES = [
    Route("/v2/coupon/series", read_series, methods=["GET"]),
    Route("/v2/coupon/series", create_series, methods=["POST"]),
    Route("/v2/coupon/series/{series_id}", update_series, methods=["PUT"]),
    Route("/v1.1/coupon/series", list_series_v1, methods=["GET"]),
    Route("/v3/oauth/token/generate", generate_token, methods=["POST"]),
]
EXCEPTION_HANDLERS = {ApiFailure: on_failure, HTTPException: on_http_exception}

__all__ = ["EXCEPTION_HANDLERS", "ROUTES", "read_ids"]
