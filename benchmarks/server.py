"""The benchmarks' server: the sandbox, its v1.1 list answered in the vendor's documented shape.

Run by ``bench_scale.py`` as its own process::

    python benchmarks/server.py --port 8080 --db sandbox.db --latency-ms 50 [--rate-limit 100]

It is ``reconciler sandbox serve`` (the same app, latency and rate limit) with one change: the
answer of ``GET /v1.1/coupon/series`` is rewritten into the shape of the vendor's own example
(``tests/data/evidence/v1_1_list_example.json``): 58 keys a series, every value a string, the
keys the vendor renamed (``created``, ``transferrable``...), the counts under ``coupons``. A
10,000-series answer is then about 20 MB, as a real org's is; the sandbox's own list (its
stored fields, snake_cased, JSON-typed) is smaller and would flatter the tool's memory and CPU.
When the sandbox already answers in that shape (``id`` a string), the answer passes unchanged.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

EXAMPLE = ROOT / "tests" / "data" / "evidence" / "v1_1_list_example.json"
LIST_PATH = "/v1.1/coupon/series"


def _example_item() -> dict[str, Any]:
    body = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    item: dict[str, Any] = body["response"]["series"]["items"]["item"]
    return item


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _stamp(value: Any) -> str:
    """``2030-09-30T00:00:00Z`` → ``2030-09-30 00:00:00`` (the list's created: no offset)."""
    text = _text(value)
    return text[:19].replace("T", " ") if "T" in text else text


def vendor_item(item: dict[str, Any], example: dict[str, Any]) -> dict[str, Any]:
    """One series of the sandbox's list in the vendor's shape: the example's keys, in its
    order, each filled from the series where the series has it, else the example's value."""
    out: dict[str, Any] = {}
    renamed = {
        "created": "created_on",
        "transferrable": "is_transferrable",
        "multiple_use": "is_multiple_use_allowed",
        "disable_sms": "is_smsdisabled",
        "valid_days_from_create": "valid_days_from_creation",
        "allow_multiple_vouchers_per_user": "is_multiple_vouchers_per_user_allowed",
        "allow_referral_existing_users": "is_referral_existing_users_allowed",
        "valid_with_discounted_item": "is_valid_with_discounted_item",
        "dvs_enabled": "is_dvs_enabled",
        "old_flow_enabled": "is_old_flow_enabled",
        "pre_redeem_event_required": "is_pre_redeem_event_required",
        "short_sms_template": "short_smstemplate",
    }
    for key, default in example.items():
        source = renamed.get(key, key)
        if key == "coupons":
            out[key] = {
                "issued": _text(item.get("num_issued", 0)),
                "redeemed": _text(item.get("num_redeemed", 0)),
            }
        elif key in ("created", "last_used"):
            out[key] = _stamp(item.get(source, item.get("last_used", "")))
        elif key in ("valid_till_date", "redemption_valid_from", "dvs_expiry_date"):
            out[key] = _text(item.get(key, default))[:10]
        elif source in item:
            out[key] = _text(item[source])
        else:
            out[key] = default
    out["id"] = _text(item.get("id"))
    return out


def vendor_body(body: Any, example: dict[str, Any]) -> Any:
    try:
        items = body["response"]["series"]["items"]["item"]
    except (KeyError, TypeError):
        return body
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items or isinstance(items[0].get("id"), str):
        return body  # empty, or already in the vendor's shape
    body["response"]["series"]["items"]["item"] = [vendor_item(i, example) for i in items]
    body["response"]["status"] = {"success": "true", "code": "200", "message": "Success"}
    return body


class VendorList:
    """ASGI middleware: the list answer of the wrapped sandbox, rewritten."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state
        self.example = _example_item()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") != LIST_PATH:
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keep(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        body = b"".join(chunks)
        if start.get("status") == 200:
            body = json.dumps(vendor_body(json.loads(body), self.example)).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body})


def main() -> None:
    from reconciler.sandbox import Faults, create_app, serve
    from reconciler.sandbox.accounts import Accounts

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--rate-limit", type=int, default=None)
    args = parser.parse_args()
    faults = Faults(latency_seconds=args.latency_ms / 1000, rate_limit_per_minute=args.rate_limit)
    app = create_app(
        db_path=args.db, credentials=Accounts.from_environment(), faults=faults, seed=False
    )
    serve(VendorList(app), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
