"""End to end on real loopback services: what a state change, a retry or a target's own
address explains is not noise, and one change on every endpoint is one finding."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from tests.e2e.diff_support import Req, endpoint, kinds, live_run, recorded_run
from tests.servers import LoopbackServer, Received, Reply, serve

pytestmark = pytest.mark.e2e
JSON = [("Content-Type", "application/json")]


@contextmanager
def servers(*apps: Callable[[Received], Reply]) -> Iterator[list[LoopbackServer]]:
    with ExitStack() as stack:
        yield [stack.enter_context(serve(app)) for app in apps]


# --- a collection that writes change ------------------------------------------------


def items_app(*, filter_bug: bool) -> Callable[[Received], Reply]:
    """GET /api/items?status=open lists the open items; POST /api/items adds one. The
    buggy build's filter lets closed items through."""
    items: list[dict[str, object]] = [{"id": 1, "status": "open"}]
    lock = threading.Lock()

    def app(req: Received) -> Reply:
        url = urlsplit(req.path)
        with lock:
            if req.method == "POST":
                doc = orjson.loads(req.body)
                item = {"id": len(items) + 1, "status": doc["status"]}
                items.append(item)
                return Reply(201, JSON, orjson.dumps(item))
            wanted = parse_qs(url.query).get("status", ["open"])[0]
            shown = [i for i in items if filter_bug or i["status"] == wanted]
            return Reply(200, JSON, orjson.dumps({"items": shown, "total": len(shown)}))

    return app


def collection_traffic() -> list[Req]:
    out: list[Req] = []
    for k in range(12):
        out += [Req("GET", "/api/items?status=open")] * 3
        status = "closed" if k % 2 else "open"
        out.append(Req("POST", "/api/items", JSON_REQ, orjson.dumps({"status": status})))
    return out


JSON_REQ = (("Content-Type", "application/json"),)


def test_a_write_between_identical_reads_is_not_noise(tmp_path: Path) -> None:
    with servers(items_app(filter_bug=False), items_app(filter_bug=True)) as (prod, cand):
        report = recorded_run(tmp_path / "run", prod.url, cand.url, collection_traffic())
    listing = endpoint(report, "GET /api/items")
    assert listing["verdict"] == "regression", listing
    assert ("array_length", "$.items") in kinds(report, "GET /api/items")
    assert not any(u["reason"] == "noise" for u in listing["unverified"]), listing["unverified"]


def test_a_collection_that_changes_with_its_writes_passes(tmp_path: Path) -> None:
    with servers(items_app(filter_bug=False), items_app(filter_bug=False)) as (prod, cand):
        report = recorded_run(tmp_path / "run", prod.url, cand.url, collection_traffic())
    assert endpoint(report, "GET /api/items")["findings"] == []


# --- retries with an Idempotency-Key --------------------------------------------------


def payments_app(*, honour_keys: bool) -> Callable[[Received], Reply]:
    """POST /api/payments charges; with a known Idempotency-Key the stored payment is
    answered again, marked Idempotent-Replayed (unless the build ignores keys)."""
    stored: dict[str, bytes] = {}
    ids = itertools.count(1000)
    lock = threading.Lock()

    def app(req: Received) -> Reply:
        key = dict((n.lower(), v) for n, v in req.headers).get("idempotency-key", "")
        with lock:
            if honour_keys and key in stored:
                return Reply(201, [*JSON, ("Idempotent-Replayed", "true")], stored[key])
            body = orjson.dumps({"id": next(ids), "amount": orjson.loads(req.body)["amount"]})
            stored[key] = body
            return Reply(201, JSON, body)

    return app


def payment_traffic() -> list[Req]:
    out: list[Req] = []
    for k in range(15):
        req = Req(
            "POST",
            "/api/payments",
            (*JSON_REQ, ("Idempotency-Key", f"key-{k}")),
            orjson.dumps({"amount": 100 + k}),
        )
        out += [req, req] if k % 2 == 0 else [req]  # the client retried every other one
    return out


def test_a_candidate_that_charges_twice_is_a_duplicate_delivery(tmp_path: Path) -> None:
    with servers(payments_app(honour_keys=True), payments_app(honour_keys=False)) as (p, c):
        report = recorded_run(tmp_path / "run", p.url, c.url, payment_traffic())
    payments = endpoint(report, "POST /api/payments")
    found = {f["kind"]: f for f in payments["findings"]}
    assert "duplicate_delivery" in found, payments
    assert found["duplicate_delivery"]["count"] == 8
    assert found["duplicate_delivery"]["candidate"]["same_resource"] is False
    assert any("duplicate_delivery" in r or "retries" in r for r in report["gate"]["reasons"])


def test_a_candidate_that_honours_the_key_passes_the_retry_check(tmp_path: Path) -> None:
    with servers(payments_app(honour_keys=True), payments_app(honour_keys=True)) as (p, c):
        report = recorded_run(tmp_path / "run", p.url, c.url, payment_traffic())
    payments = endpoint(report, "POST /api/payments")
    assert "duplicate_delivery" not in {f["kind"] for f in payments["findings"]}


# --- each target's own address --------------------------------------------------------


def things_app(*, drop_location: bool) -> Callable[[Received], Reply]:
    """GET /api/things/{id} echoes the server's own address in Location and in the body."""

    def app(req: Received) -> Reply:
        host = dict((n.lower(), v) for n, v in req.headers)["host"]
        link = f"http://{host}{req.path}"
        headers = list(JSON) if drop_location else [*JSON, ("Location", link)]
        return Reply(200, headers, orjson.dumps({"self": link, "name": "thing"}))

    return app


def things_traffic() -> list[Req]:
    return [Req("GET", f"/api/things/{i}") for i in range(30)]


@pytest.mark.parametrize("drop", [False, True], ids=["echo", "dropped"])
def test_an_echo_of_the_own_address_is_equal_and_a_dropped_location_is_flagged(
    tmp_path: Path, drop: bool
) -> None:
    apps = (things_app(drop_location=False), things_app(drop_location=False))
    with servers(*apps, things_app(drop_location=drop)) as (base, sec, cand):
        report = live_run(tmp_path / "run", base.url, cand.url, things_traffic(), secondary=sec.url)
    things = endpoint(report, "GET /api/things/{id}")
    if not drop:
        assert things["verdict"] == "ok", things
        assert not any(u["reason"] == "noise" for u in things["unverified"]), things
    else:
        assert ("header_missing", "header:location") in kinds(report, "GET /api/things/{id}")


@pytest.mark.parametrize("drop", [False, True], ids=["echo", "dropped"])
def test_against_the_recording_an_echo_is_equal_and_a_dropped_location_is_flagged(
    tmp_path: Path, drop: bool
) -> None:
    traffic = things_traffic() * 2  # identical requests: A/A pairs from the tape
    with servers(things_app(drop_location=False), things_app(drop_location=drop)) as (p, c):
        report = recorded_run(tmp_path / "run", p.url, c.url, traffic)
    found = kinds(report, "GET /api/things/{id}")
    if not drop:
        assert found == set(), found
    else:
        assert found == {("header_missing", "header:location")}, found


# --- one change on every endpoint -----------------------------------------------------


def framework_app(*, switched: bool) -> Callable[[Received], Reply]:
    def app(req: Received) -> Reply:
        ctype = "application/json" if switched else "application/json; charset=utf-8"
        headers = [("Content-Type", ctype), ("X-Powered-By", "Fastify" if switched else "Express")]
        return Reply(200, headers, orjson.dumps({"path": urlsplit(req.path).path}))

    return app


def test_a_service_wide_header_change_is_one_finding(tmp_path: Path) -> None:
    traffic = [
        Req("GET", f"/api/{name}/{i}")
        for i in range(8)
        for name in ("users", "orders", "books", "shelves", "tags")
    ]
    with servers(
        framework_app(switched=False), framework_app(switched=False), framework_app(switched=True)
    ) as (base, sec, cand):
        report = live_run(tmp_path / "run", base.url, cand.url, traffic, secondary=sec.url)
    shared = {(f["kind"], f["location"]): f for f in report["service_findings"]}
    assert set(shared) == {("header", "header:x-powered-by"), ("header", "header:content-type")}
    for f in shared.values():
        assert len(f["endpoints"]) == 5
    for ep in report["endpoints"]:
        assert ep["verdict"] == "regression" and ep["findings"] == []
        assert sorted(ep["service_findings"]) == sorted(f["id"] for f in shared.values())
    reasons = report["gate"]["reasons"]
    assert len(reasons) == 2 and all(r.startswith("service-wide") for r in reasons), reasons
    assert report["totals"]["findings"] == 2
