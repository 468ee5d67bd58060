"""Realistic report.json dicts (docs/report-format.md) for the renderer tests.

The renderers read the typed report: tests mutate these dicts and hand them over through
``shadowtape.report.load_report``, as a report.json read back from disk would be.

`sample_report()` has every kind of finding and every unverified reason somewhere,
bodies with non-ASCII text and planted HTML/JS, and latency histograms. `many_endpoints()`
scales it to hundreds of endpoints, to check the renderers stay usable and bounded.
"""

from __future__ import annotations

import bisect
import copy
import json
import random
from typing import Any

# Planted into bodies and values: must show up as text, never run.
XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
NON_ASCII = "Grüß dich, 渡辺さん — naïve café ☕"

RUN = {
    "results_version": "1.0",
    "run_id": "01JD8Z3K7Q4N6V2W9X0Y1Z2A3B",
    "started_at": "2026-11-21T20:00:00Z",
    "finished_at": "2026-11-21T20:04:30Z",
    "tapes": ["tapes/source=prod"],
    "candidate": "http://127.0.0.1:8081",
    "baseline": "http://127.0.0.1:8080",
    "secondary": "http://127.0.0.1:8082",
    "settings": {"pace": "recorded", "speed": 1.0, "concurrency": 32, "timeout": 10.0},
    "counts": {"selected": 1240, "replayed": 1236, "skipped": 4},
    "skipped": {"mutating": 4},
    "schedule": {"max_lag_ms": 3.1, "p99_lag_ms": 1.2, "fell_behind": False},
    "interrupted": False,
    "shard": None,
}


# As the analysis bins latency: quarter-octave edges from 0.1 ms, with an underflow and
# an overflow bin, so len(counts) == len(edges) + 1.
EDGES_MS = [round(0.1 * 2 ** (i / 4), 4) for i in range(81)]


def _histogram(rng: random.Random, base: float, slower: float, n: int) -> dict[str, Any]:
    def counts(scale: float) -> list[int]:
        out = [0] * (len(EDGES_MS) + 1)
        for _ in range(n):
            out[bisect.bisect_right(EDGES_MS, rng.lognormvariate(0, 0.35) * base * scale)] += 1
        return out

    return {"edges_ms": EDGES_MS, "baseline": counts(1.0), "candidate": counts(slower)}


def _latency(
    rng: random.Random, base: float, slower: float, n: int, *, comparable: bool = True
) -> dict[str, Any]:
    def pct(scale: float) -> dict[str, float]:
        return {"p50": base * scale, "p95": base * scale * 1.8, "p99": base * scale * 2.6}

    def ratio(v: float) -> dict[str, float]:
        return {"value": v, "low": v * 0.93, "high": v * 1.08}

    return {
        "comparable": comparable,
        "pairs": n,
        "baseline": pct(1.0),
        "candidate": pct(slower),
        "ratio": {"p50": ratio(slower), "p95": ratio(slower * 1.05), "p99": ratio(slower * 1.1)}
        if comparable
        else None,
        "histogram": _histogram(rng, base, slower, n),
    }


def _answer(
    status: int | None, headers: list[list[str]], body: str | None, error: str | None = None
) -> dict[str, Any]:
    """One side of an example: what a target answered, or the error instead."""
    return {"status": status, "headers": headers, "body": body, "error": error}


def _json_body(greeting: str, price: float, items: int) -> str:
    """A pretty-printed JSON body, as a service would send it."""
    doc = {
        "greeting": greeting,
        "request_id": "6f1c2b9e-0d4a-4c35-9a53-3c1f0e7b2d11",
        "note": XSS,
        "items": [
            {"sku": f"SKU-{i:04d}", "price": price + i, "qty": i % 3 + 1} for i in range(items)
        ],
        "total": 42,
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)


def sample_report() -> dict[str, Any]:
    rng = random.Random(7)
    ids = [f"01JD8Z{n:020d}" for n in range(40)]
    headers_b = [["content-type", "application/json"], ["date", "Sat, 21 Nov 2026 20:00:00 GMT"]]
    headers_c = [["content-type", "text/plain; charset=utf-8"], ["x-served-by", XSS]]
    greeting = {
        "endpoint": "GET /api/users/{id}/greeting",
        "method": "GET",
        "route": "/api/users/{id}/greeting",
        "requests": 120,
        "verdict": "regression",
        "checked": ["status", "headers", "body", "latency"],
        "findings": [
            {
                "kind": "body_value",
                "location": "$.greeting",
                "message": "The greeting text changed.",
                "baseline": NON_ASCII,
                "candidate": "Hello <b>friend</b> & co",
                "count": 30,
                "rate": 0.25,
                "exchange_ids": ids[0:3],
            },
            {
                "kind": "header",
                "location": "header:content-type",
                "message": "Content-Type changed from JSON to plain text.",
                "baseline": "application/json",
                "candidate": "text/plain; charset=utf-8",
                "count": 120,
                "rate": 1.0,
                "exchange_ids": ids[0:2],
            },
            {
                "kind": "body_type",
                "location": "$.items[3].price",
                "message": "A price became a string.",
                "baseline": 13.5,
                "candidate": "13.50",
                "count": 12,
                "rate": 0.1,
                "exchange_ids": [ids[0]],
            },
        ],
        "unverified": [
            {
                "reason": "noise",
                "location": "$.request_id",
                "count": 120,
                "rate": 1.0,
                "kind": "body_value",
                "pairs": 120,
                "detail": "varies on its own: 120 of 120 A/A pairs disagree here (secondary)",
            },
            {
                "reason": "redacted",
                "location": "request.header.authorization",
                "count": 120,
                "rate": 1.0,
                "detail": "The credential was replaced by a pseudonym when recorded.",
            },
        ],
        "latency": _latency(rng, 4.0, 1.02, 120),
        "examples": [
            {
                "exchange_id": ids[0],
                "request": {
                    "method": "GET",
                    "url": "/api/users/42/greeting?lang=de&x=<b>",
                    "headers": [["accept", "application/json"], ["authorization", "Bearer ~a1"]],
                    "body": None,
                },
                "baseline": _answer(200, headers_b, _json_body(NON_ASCII, 10.5, 5)),
                "candidate": _answer(
                    200,
                    headers_c,
                    _json_body("Hello <b>friend</b> & co", 10.5, 5).replace(
                        '"price": 13.5', '"price": "13.50"'
                    ),
                ),
            }
        ],
    }
    orders = {
        "endpoint": "GET /api/orders/{id}",
        "method": "GET",
        "route": "/api/orders/{id}",
        "requests": 400,
        "verdict": "regression",
        "checked": ["status", "headers", "body", "latency"],
        "findings": [
            {
                "kind": "new_error",
                "location": "status",
                "message": "The candidate answered 500 where the baseline succeeded.",
                "baseline": 200,
                "candidate": 500,
                "count": 3,
                "rate": 0.0075,
                "exchange_ids": ids[10:13],
            },
            {
                "kind": "array_length",
                "location": "$.items",
                "message": "The items array lost an element.",
                "baseline": 4,
                "candidate": 3,
                "count": 8,
                "rate": 0.02,
                "exchange_ids": ids[13:15],
            },
            {
                "kind": "latency",
                "location": "latency:p95",
                "message": "p95 latency rose from 9.2 ms to 15.1 ms (x1.64, 95% CI x1.52 to "
                "x1.77) over 400 paired requests",
                "baseline": 9.2,
                "candidate": 15.1,
                "count": 400,
                "rate": 1.64,
                "exchange_ids": [],
            },
        ],
        "unverified": [
            {
                "reason": "volatile_value",
                "location": "$.updated_at",
                "count": 400,
                "rate": 1.0,
                "detail": "Timestamps on both sides: the value changes on its own.",
            },
            {
                "reason": "truncated_body",
                "location": "body",
                "count": 2,
                "rate": 0.005,
                "detail": "Two bodies were longer than the 1 MiB cap; compared up to the cap.",
            },
        ],
        "latency": _latency(rng, 5.1, 1.6, 400),
        "examples": [
            {
                "exchange_id": ids[10],
                "request": {"method": "GET", "url": "/api/orders/9", "headers": [], "body": None},
                "baseline": _answer(
                    200, [["content-type", "application/json"]], _json_body("hi", 1.0, 4)
                ),
                "candidate": _answer(
                    500,
                    [["content-type", "text/html"]],
                    f"<html><body><h1>Internal Server Error</h1><p>{XSS}</p></body></html>",
                ),
            },
            {
                "exchange_id": ids[13],
                "request": {"method": "GET", "url": "/api/orders/12", "headers": [], "body": None},
                "baseline": _answer(
                    200, [["content-type", "application/json"]], _json_body("hi", 1.0, 4)
                ),
                "candidate": _answer(
                    200, [["content-type", "application/json"]], _json_body("hi", 1.0, 3)
                ),
            },
        ],
    }
    profile = {
        "endpoint": "GET /api/profile",
        "method": "GET",
        "route": "/api/profile",
        "requests": 25,
        "verdict": "regression",
        "checked": ["status", "headers", "body"],
        "findings": [
            {
                "kind": "swallowed_error",
                "location": "status",
                "message": "The baseline failed with 503; the candidate answered 200 "
                "with a default body.",
                "baseline": 503,
                "candidate": 200,
                "count": 2,
                "rate": 0.08,
                "exchange_ids": [ids[20]],
            },
            {
                "kind": "new_error",
                "location": "error",
                "message": "The candidate timed out where the baseline answered.",
                "baseline": 200,
                "candidate": "timeout",
                "count": 1,
                "rate": 0.04,
                "exchange_ids": [ids[21]],
            },
        ],
        "unverified": [
            {
                "reason": "latency_not_comparable",
                "location": "latency",
                "count": 25,
                "rate": None,
                "detail": "Baseline is the recorded production answer.",
            }
        ],
        "latency": _latency(rng, 30.0, 0.8, 25, comparable=False),
        "examples": [
            {
                "exchange_id": ids[20],
                "request": {"method": "GET", "url": "/api/profile", "headers": [], "body": None},
                "baseline": _answer(503, [], "upstream unavailable"),
                "candidate": _answer(200, [], "{}"),
            },
            {
                "exchange_id": ids[21],
                "request": {"method": "GET", "url": "/api/profile", "headers": [], "body": None},
                "baseline": _answer(200, [], '{"name": "Ada"}'),
                "candidate": _answer(None, [], None, error="timeout: no response within 10 s"),
            },
        ],
    }
    create = {
        "endpoint": "POST /api/orders",
        "method": "POST",
        "route": "/api/orders",
        "requests": 4,
        "replayed": 0,
        "compared": 0,
        "verdict": "unverified",
        "checked": [],
        "findings": [],
        "unverified": [
            {
                "reason": "skipped_mutating",
                "location": "",
                "count": 4,
                "rate": 1.0,
                "detail": "POST is not replayed without --allow-mutating.",
            }
        ],
        "latency": None,
        "examples": [],
    }
    pdf = {
        "endpoint": "GET /api/reports/{id}.pdf",
        "method": "GET",
        "route": "/api/reports/{id}.pdf",
        "requests": 3,
        "replayed": 3,
        "compared": 0,
        "verdict": "unverified",
        "checked": [],
        "findings": [],
        "unverified": [
            {
                "reason": "binary_body",
                "location": "body",
                "count": 3,
                "rate": 1.0,
                "detail": "application/pdf: compared by size and digest only.",
            },
            {
                "reason": "too_few_samples",
                "location": "latency",
                "count": 3,
                "rate": 1.0,
                "detail": "3 requests; at least 20 are needed to compare latency.",
            },
        ],
        "latency": {"comparable": False},
        "examples": [],
    }
    delete = {
        "endpoint": "DELETE /api/users/{id}",
        "method": "DELETE",
        "route": "/api/users/{id}",
        "requests": 0,
        "verdict": "unverified",
        "checked": [],
        "findings": [],
        "unverified": [
            {
                "reason": "not_exercised",
                "location": "",
                "count": 0,
                "rate": 0.0,
                "detail": "In openapi.yaml but never in the tape.",
            }
        ],
        "latency": None,
        "examples": [],
    }
    search = {
        "endpoint": "GET /api/search",
        "method": "GET",
        "route": "/api/search",
        "requests": 600,
        "verdict": "ok",
        "checked": ["status", "headers", "body", "latency"],
        "findings": [],
        "unverified": [
            {
                "reason": "noise",
                "location": "$.results",
                "count": 90,
                "rate": 0.15,
                "kind": "array_order",
                "pairs": 600,
                "detail": "Order varies between baselines: compared as a multiset.",
            }
        ],
        "latency": _latency(rng, 12.0, 0.97, 600),
        "examples": [],
    }
    health = {
        "endpoint": "GET /healthz",
        "method": "GET",
        "route": "/healthz",
        "requests": 84,
        "verdict": "ok",
        "checked": ["status", "headers", "body", "latency"],
        "findings": [],
        "unverified": [],
        "latency": _latency(rng, 0.8, 1.0, 84),
        "examples": [],
    }
    eps = [greeting, orders, profile, create, pdf, delete, search, health]
    for ep in eps:
        ep["ledger"] = _ledger(ep)
    return {
        "report_version": "1.2",
        "generated_at": "2026-11-21T20:05:00Z",
        "runs": [copy.deepcopy(RUN)],
        "totals": {
            "exchanges": 1240,
            "replayed": 1236,
            "skipped": 4,
            "endpoints": len(eps),
            "regression": 3,
            "ok": 2,
            "unverified": 3,
            "findings": sum(len(e["findings"]) for e in eps),
        },
        "ledger": _total_ledger(eps),
        "gate": {
            "passed": False,
            "fail_on": ["new_error", "status", "headers", "body", "latency"],
            "reasons": [
                "GET /api/users/{id}/greeting: 3 body and header regressions",
                "GET /api/orders/{id}: 3 new errors, p95 latency +64%",
                "GET /api/profile: 1 new error",
            ],
        },
        "skipped": {"mutating": 4},
        "settings": {
            "ignored_headers": ["date", "server", "x-request-id"],
            "compared_headers": [],
            "tolerance": {"absolute": 0.0, "relative": 0.0},
            "noise": {"relative": 1.5, "absolute": 0.01, "alpha": 0.01, "min_pairs": 20},
            "latency": {"ratio": 1.2, "min_ms": 5.0, "confidence": 0.95, "min_pairs": 20},
        },
        "endpoints": eps,
    }


def _ledger(ep: dict[str, Any]) -> dict[str, Any]:
    """A ledger that adds up to the endpoint's requests, from its findings and entries."""
    requests = ep["requests"]
    compared = ep.get("compared", requests)
    skipped = sum(u["count"] for u in ep["unverified"] if u["reason"] == "skipped_mutating")
    unverified = max(requests - compared - skipped, 0)
    counts = [f["count"] for f in ep["findings"] if f["kind"] != "latency"]
    regressed = min(compared, max(counts, default=0))
    noise = [u["count"] for u in ep["unverified"] if u["reason"] == "noise"]
    explained = min(compared - regressed, max(noise, default=0))
    return {
        "selected": requests,
        "regressed": regressed,
        "equal": compared - regressed - explained,
        "noise": explained,
        "unverified": {"baseline_failed": unverified} if unverified else {},
        "skipped": {"mutating": skipped} if skipped else {},
    }


def _total_ledger(eps: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {"selected": 0, "regressed": 0, "equal": 0, "noise": 0}
    unverified: dict[str, int] = {}
    skipped: dict[str, int] = {}
    for ep in eps:
        for key in total:
            total[key] += ep["ledger"][key]
        for reason, n in ep["ledger"]["unverified"].items():
            unverified[reason] = unverified.get(reason, 0) + n
        for reason, n in ep["ledger"]["skipped"].items():
            skipped[reason] = skipped.get(reason, 0) + n
    return {**total, "unverified": unverified, "skipped": skipped}


def passing_report() -> dict[str, Any]:
    """Only the ok and unverified endpoints: the gate passes."""
    report = sample_report()
    report["endpoints"] = [e for e in report["endpoints"] if e["verdict"] != "regression"]
    report["gate"] = {"passed": True, "fail_on": report["gate"]["fail_on"], "reasons": []}
    totals = report["totals"]
    totals.update(endpoints=len(report["endpoints"]), regression=0, findings=0)
    report["ledger"] = _total_ledger(report["endpoints"])
    return report


def many_endpoints(n: int = 500) -> dict[str, Any]:
    """n endpoints cycling through the sample's, each under its own route."""
    report = sample_report()
    base = report["endpoints"]
    eps = []
    for i in range(n):
        ep = copy.deepcopy(base[i % len(base)])
        ep["route"] = f"/svc{i:03d}{ep['route']}"
        ep["endpoint"] = f"{ep['method']} {ep['route']}"
        eps.append(ep)
    order = {"regression": 0, "unverified": 1, "ok": 2}
    eps.sort(key=lambda e: order[e["verdict"]])
    report["endpoints"] = eps
    report["totals"].update(
        endpoints=n,
        regression=sum(e["verdict"] == "regression" for e in eps),
        ok=sum(e["verdict"] == "ok" for e in eps),
        unverified=sum(e["verdict"] == "unverified" for e in eps),
        findings=sum(len(e["findings"]) for e in eps),
    )
    report["ledger"] = _total_ledger(eps)
    report["gate"]["reasons"] = [
        f"{e['endpoint']}: {len(e['findings'])} regressions"
        for e in eps
        if e["verdict"] == "regression"
    ]
    return report
