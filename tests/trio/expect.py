"""What a correct report of a trio run says: shared by the analysis and end-to-end tests."""

from __future__ import annotations

from typing import Any

from tests.trio.service import CLEAN, PLANTED

#: Locations that change on their own in every trio response.
NOISE = {
    "$.generated_at",
    "$.request_id",
    "$.token",
    "$.tags",
    "$.now_epoch",
    "header:set-cookie:session",
    "header:x-nonce",
}


def by_endpoint(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["endpoint"]: e for e in report["endpoints"]}


def check_report(report: dict[str, Any], *, live: bool) -> None:
    """Every planted difference on its endpoint with its kind; no noise flagged."""
    endpoints = by_endpoint(report)
    for endpoint, (kind, location) in PLANTED.items():
        entry = endpoints[endpoint]
        found = {(f["kind"], f["location"]) for f in entry["findings"]}
        if kind == "latency" and not live:
            assert entry["verdict"] == "ok", (endpoint, entry["findings"])
            assert any(u["reason"] == "latency_not_comparable" for u in entry["unverified"])
            continue
        assert entry["verdict"] == "regression", (endpoint, entry)
        assert found == {(kind, location)}, (endpoint, found)
        if kind != "latency":
            assert entry["examples"], endpoint
            finding = entry["findings"][0]
            assert finding["count"] == entry["compared"] and finding["rate"] == 1.0
            assert set(finding["exchange_ids"]) <= {e["exchange_id"] for e in _all_ids(report)}
    for endpoint in CLEAN:
        assert endpoints[endpoint]["verdict"] == "ok", endpoints[endpoint]["findings"]
    for entry in report["endpoints"]:
        for finding in entry["findings"]:
            assert finding["location"] not in NOISE, (entry["endpoint"], finding)
    noise = {
        u["location"] for u in endpoints["GET /api/clock"]["unverified"] if u["reason"] == "noise"
    }
    assert {"$.generated_at", "$.request_id", "$.token", "$.tags", "header:x-nonce"} <= noise
    assert endpoints["POST /api/orders"]["verdict"] == "unverified"
    assert [u["reason"] for u in endpoints["POST /api/orders"]["unverified"]] == [
        "skipped_mutating"
    ]


def _all_ids(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"exchange_id": i}
        for e in report["endpoints"]
        for f in e["findings"]
        for i in f["exchange_ids"]
    ]
