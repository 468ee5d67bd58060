"""HAR export: tape -> HAR -> tape keeps everything, on the corpus and on generated
exchanges; other tools (mitmproxy) read what we write."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mitmproxy import http
from mitmproxy.io import FlowReader

from shadowtape.exchange import ErrorKind, Exchange, ExchangeError, Request, Response
from shadowtape.ids import new_id
from shadowtape.importers import export_har, import_file
from shadowtape.importers.export_har import exchange_to_entry
from shadowtape.importers.har import entry_to_exchange
from shadowtape.sanitize import Sanitizer
from shadowtape.tape import TapeReader, TapeWriter
from tests.importers.conftest import HAR_COUNTS

_TOKEN = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
    min_size=1,
    max_size=12,
)
_PATH = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~%;=,+@:!$&'()*", max_size=10),
    max_size=4,
).map(lambda parts: "/" + "/".join(parts))
_HOST = st.one_of(
    st.from_regex(r"\A[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9-]{0,8}){0,2}\Z"),
    st.just("127.0.0.1"),
    st.just("::1"),
)
_CONTENT_TYPES = st.sampled_from(
    [
        None,
        "application/json",
        "text/html; charset=iso-8859-1",
        "text/plain; charset=shift_jis",
        "text/plain; charset=bogus",
        "application/octet-stream",
        "application/x-www-form-urlencoded",
    ]
)
_VALUE = st.text(max_size=30)


@st.composite
def _body(draw: st.DrawFn) -> tuple[bytes, int, bool]:
    body = draw(st.one_of(st.binary(max_size=64), _VALUE.map(str.encode)))
    if draw(st.booleans()) and draw(st.booleans()):
        return body, len(body) + draw(st.integers(1, 10_000)), True
    return body, len(body), False


def _headers(draw: st.DrawFn, content_type: str | None) -> tuple[tuple[str, str], ...]:
    pairs = draw(st.lists(st.tuples(_TOKEN, _VALUE), max_size=5))
    if content_type is not None:
        pairs.insert(draw(st.integers(0, len(pairs))), ("Content-Type", content_type))
    return tuple(pairs)


@st.composite
def exchanges(draw: st.DrawFn) -> Exchange:
    body, size, truncated = draw(_body())
    scheme = draw(st.sampled_from(["http", "https"]))
    request = Request(
        method=draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])),
        scheme=scheme,
        host=draw(_HOST),
        port=draw(st.sampled_from([80, 443, 8080, 3000])),
        path=draw(_PATH),
        query=draw(st.text(alphabet="abc=&%20+;/?:@xyz", max_size=20)),
        http_version=draw(st.sampled_from(["HTTP/1.1", "HTTP/2.0", "HTTP/1.0", "HTTP/3", ""])),
        headers=_headers(draw, draw(_CONTENT_TYPES)),
        body=body,
        body_size=size,
        body_truncated=truncated,
    )
    response = None
    error = None
    if draw(st.booleans()):
        rbody, rsize, rtrunc = draw(_body())
        response = Response(
            status=draw(st.integers(100, 599)),
            reason=draw(_VALUE),
            http_version=draw(st.sampled_from(["HTTP/1.1", "HTTP/2.0", ""])),
            headers=_headers(draw, draw(_CONTENT_TYPES)),
            body=rbody,
            body_size=rsize,
            body_truncated=rtrunc,
        )
    if (response is None or draw(st.booleans())) and draw(st.booleans()):
        error = ExchangeError(kind=draw(st.sampled_from(list(ErrorKind))), message=draw(_VALUE))
    duration = draw(st.one_of(st.none(), st.integers(0, 10**10)))
    ttfb = None
    if duration is not None and response is not None:
        ttfb = draw(st.one_of(st.none(), st.integers(0, duration)))
    moment = draw(
        st.datetimes(
            min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
        )
    )
    return Exchange(
        id=new_id(),
        recorded_at=moment,
        source=draw(_TOKEN),
        request=request,
        response=response,
        error=error,
        duration_us=duration,
        ttfb_us=ttfb,
        redactions=tuple(
            draw(
                st.lists(
                    st.sampled_from(["request.header.cookie", "request.query.key"]), max_size=2
                )
            )
        ),
        tags=draw(st.dictionaries(_TOKEN, _VALUE, max_size=3)),
    )


@settings(max_examples=300, deadline=None)
@given(exchanges())
def test_exchange_to_har_entry_and_back_is_the_same_exchange(exchange: Exchange) -> None:
    entry = orjson.loads(orjson.dumps(exchange_to_entry(exchange)))
    again = entry_to_exchange(entry, source=None)
    assert again == exchange


def _compare(one: Exchange, two: Exchange) -> list[str]:
    """Names of the fields that differ, for a readable failure."""
    out = []
    for field in dataclasses.fields(one):
        a, b = getattr(one, field.name), getattr(two, field.name)
        if dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b):
            out += [
                f"{field.name}.{f.name}"
                for f in dataclasses.fields(a)
                if getattr(a, f.name) != getattr(b, f.name)
            ]
        elif a != b:
            out.append(field.name)
    return out


def _import(path: Path, tapes: Path, fmt: str = "har") -> None:
    with TapeWriter(tapes, source="import-har") as writer:
        import_file(fmt, path, writer, Sanitizer())


def test_corpus_round_trip_har_tape_har_tape(corpus: Path, tmp_path: Path) -> None:
    tape1, tape2 = tmp_path / "tape1", tmp_path / "tape2"
    for name in sorted(HAR_COUNTS):
        _import(corpus / "har" / name, tape1)
    first = {e.id: e for e in TapeReader(tape1)}
    assert len(first) == sum(HAR_COUNTS.values())
    exported = tmp_path / "export.har"
    assert export_har(TapeReader(tape1).exchanges(), exported) == len(first)
    _import(exported, tape2)
    second = {e.id: e for e in TapeReader(tape2)}
    assert second.keys() == first.keys()
    differences = {i: d for i in first if (d := _compare(first[i], second[i]))}
    assert differences == {}


def test_mitmproxy_reads_the_exported_har(corpus: Path, tmp_path: Path) -> None:
    tapes = tmp_path / "tapes"
    _import(corpus / "har" / "mitmproxy__har_files_safari.har", tapes)
    _import(corpus / "har" / "mitmproxy__flows_successful_log.har", tapes)
    exchanges = sorted(TapeReader(tapes), key=lambda e: e.id)
    out = tmp_path / "out.har"
    export_har(exchanges, out)
    with out.open("rb") as handle:
        flows = [f for f in FlowReader(handle).stream() if isinstance(f, http.HTTPFlow)]
    assert len(flows) == len(exchanges) == 21
    for flow, ex in zip(flows, exchanges, strict=True):
        assert flow.request.method == ex.request.method
        assert flow.request.url == ex.request.url
        assert flow.response is not None and ex.response is not None
        assert flow.response.status_code == ex.response.status
        assert flow.response.get_content() == ex.response.body


def test_export_is_valid_har_12(tmp_path: Path) -> None:
    exchange = Exchange(
        request=Request(method="GET", host="example.test", headers=(("Cookie", "a=1; b=2"),)),
        response=Response(
            status=302, headers=(("Location", "/next"), ("Set-Cookie", "s=9; Path=/"))
        ),
        duration_us=1500,
        ttfb_us=1000,
    )
    out = tmp_path / "one.har"
    export_har([exchange], out)
    document: dict[str, Any] = orjson.loads(out.read_bytes())
    log = document["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "shadowtape"
    [entry] = log["entries"]
    for key in ("startedDateTime", "time", "request", "response", "cache", "timings"):
        assert key in entry
    assert entry["time"] == 1.5
    assert entry["timings"] == {"send": 0, "wait": 1.0, "receive": 0.5}
    assert entry["request"]["cookies"] == [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]
    assert entry["response"]["cookies"] == [{"name": "s", "value": "9"}]
    assert entry["response"]["redirectURL"] == "/next"
    assert entry["_shadowtape_id"] == exchange.id
    assert not list(tmp_path.glob(".*.tmp"))


def test_export_to_a_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        export_har([], tmp_path / "nope" / "x.har")


def _tape_with_secret(tmp_path: Path) -> tuple[Path, Exchange]:
    raw = Exchange(
        request=Request(
            method="GET",
            host="api.test",
            path="/me",
            headers=(("Authorization", "Bearer sk_live_abcdefghijklmnop1234"),),
        ),
        response=Response(status=200, body=b"{}"),
        duration_us=10,
    )
    tapes = tmp_path / "tapes"
    with TapeWriter(tapes) as writer:
        writer.write(Sanitizer().sanitize(raw))
    [stored] = list(TapeReader(tapes))
    assert stored.request.header("authorization") != raw.request.header("authorization")
    return tapes, stored


def test_an_unchanged_export_is_not_sanitized_twice(tmp_path: Path) -> None:
    tapes, stored = _tape_with_secret(tmp_path)
    har = tmp_path / "x.har"
    export_har(TapeReader(tapes).exchanges(), har)
    _import(har, tmp_path / "again")
    [again] = list(TapeReader(tmp_path / "again"))
    assert again == stored  # the pseudonym is the same one, the redaction listed once


def test_an_edited_export_is_sanitized(tmp_path: Path) -> None:
    tapes, _ = _tape_with_secret(tmp_path)
    har = tmp_path / "x.har"
    export_har(TapeReader(tapes).exchanges(), har)
    document = orjson.loads(har.read_bytes())
    headers = document["log"]["entries"][0]["request"]["headers"]
    headers.append({"name": "X-Api-Key", "value": "pasted-in-secret-1234567890"})
    har.write_bytes(orjson.dumps(document))
    _import(har, tmp_path / "again")
    [again] = list(TapeReader(tmp_path / "again"))
    assert again.request.header("x-api-key") not in (None, "pasted-in-secret-1234567890")
    assert "request.header.x-api-key" in again.redactions


def test_without_a_key_nothing_is_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tapes, stored = _tape_with_secret(tmp_path)
    monkeypatch.delenv("SHADOWTAPE_SANITIZE_KEY")
    har = tmp_path / "x.har"
    export_har(TapeReader(tapes).exchanges(), har)
    assert "seal" not in orjson.loads(har.read_bytes())["log"]["entries"][0]["_shadowtape"]
    monkeypatch.setenv("SHADOWTAPE_SANITIZE_KEY", "importer-tests-key")
    _import(har, tmp_path / "again")
    [again] = list(TapeReader(tmp_path / "again"))
    # Sanitized again: the pseudonym of the pseudonym, not the pseudonym kept as it was.
    assert again.request.header("authorization") != stored.request.header("authorization")


def _failing_after(count: int) -> Iterator[Exchange]:
    for _ in range(count):
        yield Exchange(request=Request(method="GET", host="example.test"))
    raise OSError("the tape went away")


def test_a_failed_export_leaves_no_file_and_the_old_one_intact(tmp_path: Path) -> None:
    out = tmp_path / "x.har"
    with pytest.raises(OSError, match="went away"):
        export_har(_failing_after(3), out)
    assert list(tmp_path.iterdir()) == []
    out.write_text("kept")
    with pytest.raises(OSError, match="went away"):
        export_har(_failing_after(3), out, overwrite=True)
    assert out.read_text() == "kept"
    assert [p.name for p in tmp_path.iterdir()] == ["x.har"]


def test_an_existing_file_is_replaced_only_when_asked(tmp_path: Path) -> None:
    out = tmp_path / "x.har"
    out.write_text("kept")
    exchange = Exchange(request=Request(method="GET", host="example.test"))
    with pytest.raises(FileExistsError):
        export_har([exchange], out)  # even one that appeared while the export ran
    assert out.read_text() == "kept"
    assert export_har([exchange], out, overwrite=True) == 1
    assert len(orjson.loads(out.read_bytes())["log"]["entries"]) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["x.har"]
