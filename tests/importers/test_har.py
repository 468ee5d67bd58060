"""HAR import: the real-world corpus, and the quirks real HAR writers have."""

from __future__ import annotations

import base64
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shadowtape.exchange import ErrorKind, Exchange
from shadowtape.importers import CaptureError, Skipped, read_har
from shadowtape.importers.base import Exported
from shadowtape.importers.bodies import charset_of
from shadowtape.importers.har import http_version
from shadowtape.tape import to_batch
from tests.bombs import bombs
from tests.importers.conftest import HAR_COUNTS


def _load(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    return orjson.loads(data[3:] if data.startswith(b"\xef\xbb\xbf") else data)  # type: ignore[no-any-return]


def _split(items: list[Exchange | Skipped]) -> tuple[list[Exchange], list[Skipped]]:
    return [i for i in items if isinstance(i, Exchange)], [
        i for i in items if isinstance(i, Skipped)
    ]


@pytest.mark.parametrize("name", sorted(HAR_COUNTS))
def test_corpus_file_imports_every_entry(corpus: Path, name: str) -> None:
    path = corpus / "har" / name
    assert len(_load(path)["log"]["entries"]) == HAR_COUNTS[name]
    exchanges, skipped = _split(list(read_har(path)))
    assert skipped == []
    assert len(exchanges) == HAR_COUNTS[name]
    assert all(e.source == "import-har" for e in exchanges)
    assert len({e.id for e in exchanges}) == len(exchanges)


def _entries(corpus: Path) -> list[tuple[str, dict[str, Any], Exchange]]:
    """Every corpus entry beside the exchange it became."""
    out = []
    for name in sorted(HAR_COUNTS):
        path = corpus / "har" / name
        entries = _load(path)["log"]["entries"]
        exchanges = [i for i in read_har(path) if isinstance(i, Exchange)]
        out.extend((name, entry, ex) for entry, ex in zip(entries, exchanges, strict=True))
    return out


def test_corpus_fields_map_to_the_exchange(corpus: Path) -> None:
    checked_base64 = checked_text = 0
    for name, entry, ex in _entries(corpus):
        request, response = entry["request"], entry["response"]
        assert ex.request.method == request["method"], name
        url = urlsplit(request["url"])
        assert (ex.request.host, ex.request.path, ex.request.query) == (
            url.hostname,
            url.path or "/",
            url.query,
        ), name
        started = datetime.fromisoformat(entry["startedDateTime"]).astimezone(UTC)
        assert abs((ex.recorded_at - started).total_seconds()) < 1e-6, name
        assert ex.duration_us == round(entry["time"] * 1000), name
        wire_headers = [
            (h["name"], h["value"]) for h in request["headers"] if not h["name"].startswith(":")
        ]
        assert list(ex.request.headers) == wire_headers, name
        if response["status"] == 0:
            assert ex.response is None and ex.error is not None, name
            continue
        assert ex.response is not None
        assert ex.response.status == response["status"]
        assert ex.response.reason == response["statusText"]
        assert list(ex.response.headers) == [(h["name"], h["value"]) for h in response["headers"]]
        content = response["content"]
        if "text" not in content:
            continue
        if content.get("encoding") == "base64":
            assert ex.response.body == base64.b64decode(content["text"]), name
            checked_base64 += 1
        else:
            codec = charset_of(ex.response.header("content-type")) or "utf-8"
            expected = content["text"].encode(codec, errors="ignore")
            assert ex.response.body in (expected, content["text"].encode()), name
            checked_text += 1
    assert checked_base64 >= 30 and checked_text >= 100


def test_missing_and_empty_fields_do_not_stop_an_import(corpus: Path) -> None:
    by_version = {}
    for name, entry, ex in _entries(corpus):
        by_version[entry["request"]["httpVersion"]] = ex.request.http_version
        timings = entry.get("timings") or {}
        if ex.response is not None and timings.get("receive", -1) >= 0:
            assert ex.ttfb_us == ex.duration_us - round(timings["receive"] * 1000), name  # type: ignore[operator]
    # Chrome writes "http/2.0" and "h3", Safari and Firefox "", Chrome 51 "unknown".
    assert by_version["http/2.0"] == "HTTP/2.0"
    assert by_version["h3"] == "HTTP/3"
    assert by_version[""] == ""
    assert by_version["unknown"] == ""


def test_status_zero_is_an_exchange_without_response(corpus: Path) -> None:
    exchanges = [i for i in read_har(corpus / "har" / "mitmproxy__har_files_chrome.har")]
    failed = [e for e in exchanges if isinstance(e, Exchange) and e.response is None]
    assert len(failed) == 1
    assert failed[0].error is not None
    assert failed[0].error.message == "net::ERR_INTERNET_DISCONNECTED"
    assert failed[0].ttfb_us is None


def test_utf8_bom_is_accepted(corpus: Path) -> None:
    path = corpus / "har" / "harviewer__hars_www-cnn-com.har"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert sum(isinstance(i, Exchange) for i in read_har(path)) == 22


def test_zlib_compressed_har(corpus: Path) -> None:
    path = corpus / "mitm" / "flows_compressed.zhar"
    entries = orjson.loads(zlib.decompress(path.read_bytes()))["log"]["entries"]
    exchanges = [i for i in read_har(path) if isinstance(i, Exchange)]
    assert [e.request.url for e in exchanges] == [e["request"]["url"] for e in entries]


def _har(entries: list[dict[str, Any]], *, bom: bool = False) -> bytes:
    data = orjson.dumps({"log": {"version": "1.2", "creator": {"name": "t"}, "entries": entries}})
    return (b"\xef\xbb\xbf" if bom else b"") + data


def _entry(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "startedDateTime": "2024-01-02T03:04:05.123456+01:00",
        "time": 12.5,
        "request": {
            "method": "post",
            "url": "https://api.example.com:8443/v1/items?q=1&q=2#frag",
            "httpVersion": "h2",
            "headers": [
                {"name": ":authority", "value": "api.example.com"},
                {"name": "Accept", "value": "a"},
                {"name": "accept", "value": "b"},
            ],
            "cookies": [{"name": "sid", "value": "abc"}],
            "queryString": [],
            "postData": {
                "mimeType": "application/x-www-form-urlencoded",
                "params": [{"name": "a b", "value": "c&d"}],
            },
        },
        "response": {
            "status": 201,
            "statusText": "Created",
            "httpVersion": "HTTP/2",
            "headers": [{"name": "content-type", "value": "image/png"}],
            "content": {
                "size": 4,
                "mimeType": "image/png",
                "text": "iVBORw==",
                "encoding": "base64",
            },
        },
        "timings": {"blocked": -1, "dns": -1, "connect": -1, "send": 0.5, "wait": 10, "receive": 2},
    }
    entry.update(changes)
    return entry


def test_quirks_of_real_writers(tmp_path: Path) -> None:
    path = tmp_path / "quirks.har"
    path.write_bytes(_har([_entry()], bom=True))
    [ex] = list(read_har(path))
    assert isinstance(ex, Exchange)
    req = ex.request
    assert (req.method, req.scheme, req.host, req.port) == (
        "POST",
        "https",
        "api.example.com",
        8443,
    )
    assert (req.path, req.query, req.http_version) == ("/v1/items", "q=1&q=2", "HTTP/2.0")
    # Pseudo-headers go; order and repeats stay; cookies only in the array become a header.
    assert req.headers == (("Accept", "a"), ("accept", "b"), ("Cookie", "sid=abc"))
    assert req.body == b"a+b=c%26d"
    assert ex.response is not None and ex.response.body == b"\x89PNG"
    assert ex.recorded_at == datetime(2024, 1, 2, 2, 4, 5, 123456, tzinfo=UTC)
    assert (ex.duration_us, ex.ttfb_us) == (12500, 10500)


def test_body_kept_out_of_the_har_is_marked_truncated(tmp_path: Path) -> None:
    entry = _entry()
    entry["response"]["content"] = {"size": 5000, "mimeType": "image/gif"}
    entry["time"] = -1
    path = tmp_path / "firebug.har"
    path.write_bytes(_har([entry]))
    [ex] = list(read_har(path))
    assert isinstance(ex, Exchange) and ex.response is not None
    assert (ex.response.body, ex.response.body_size, ex.response.body_truncated) == (
        b"",
        5000,
        True,
    )
    assert ex.duration_us is None


def test_bad_entries_are_skipped_with_where_and_why(tmp_path: Path) -> None:
    bad_base64 = _entry()
    bad_base64["response"]["content"]["text"] = "not base64 at all!"
    no_method = _entry()
    del no_method["request"]["method"]
    data_url = _entry()
    data_url["request"]["url"] = "data:image/png;base64,AAAA"
    path = tmp_path / "bad.har"
    path.write_bytes(_har([_entry(), bad_base64, no_method, data_url, "junk"]))  # type: ignore[list-item]
    items = list(read_har(path))
    skipped = {(s.where, s.reason.split(" (")[0]) for s in items if isinstance(s, Skipped)}
    assert skipped == {
        ("entry 1", "response body: invalid base64"),
        ("entry 2", "no request method"),
        ("entry 3", "not an HTTP URL"),
        ("entry 4", "not a HAR entry"),
    }
    assert sum(isinstance(i, Exchange) for i in items) == 1


def test_an_entry_without_a_usable_start_time_is_skipped_saying_why(tmp_path: Path) -> None:
    """Its time used to be invented (the file's mtime or the previous entry's), putting it
    in the wrong partition and replaying it at the wrong moment."""
    no_time = _entry()
    del no_time["startedDateTime"]
    path = tmp_path / "times.har"
    path.write_bytes(
        _har([_entry(startedDateTime="garbage"), _entry(), no_time, _entry(startedDateTime=7)])
    )
    items = list(read_har(path))
    assert [(s.where, s.reason) for s in items if isinstance(s, Skipped)] == [
        ("entry 0", 'startedDateTime "garbage" is not an ISO 8601 date and time'),
        ("entry 2", "no startedDateTime"),
        ("entry 3", "startedDateTime 7 is not an ISO 8601 date and time"),
    ]
    [kept] = [i for i in items if isinstance(i, Exchange)]
    assert kept.recorded_at == datetime(2024, 1, 2, 2, 4, 5, 123456, UTC)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("abc", 'no response (status "abc" in the HAR)'),
        (0, "no response (status 0 in the HAR)"),
        (None, "no response (no status in the HAR)"),
        (10**12, "no response (status 1000000000000 in the HAR)"),
        (True, "no response (status true in the HAR)"),
    ],
)
def test_a_status_that_is_not_one_is_quoted_as_the_har_has_it(
    tmp_path: Path, status: Any, message: str
) -> None:
    entry = _entry()
    entry["response"] = {"headers": []} if status is None else {"status": status, "headers": []}
    path = tmp_path / "status.har"
    path.write_bytes(_har([entry]))
    [ex] = list(read_har(path))
    assert isinstance(ex, Exchange) and ex.response is None and ex.error is not None
    assert ex.error.message == message


def test_numbers_too_large_for_a_tape_column_are_not_taken(tmp_path: Path) -> None:
    """One such entry used to make the writer abandon its whole part, every exchange of
    that hour lost, with an error that blamed the disk."""
    entry = _entry(time=1e300)
    entry["request"]["bodySize"] = 1e30
    del entry["request"]["postData"]
    entry["response"]["content"] = {"size": 1e30, "mimeType": "text/plain"}
    path = tmp_path / "huge.har"
    path.write_bytes(_har([entry]))
    [ex] = list(read_har(path))
    assert isinstance(ex, Exchange) and ex.response is not None
    assert (ex.duration_us, ex.request.body_size, ex.response.body_size) == (None, 0, 0)
    to_batch([ex])


def test_a_status_written_as_text_is_a_status(tmp_path: Path) -> None:
    entry = _entry()
    entry["response"]["status"] = "404"
    path = tmp_path / "text.har"
    path.write_bytes(_har([entry]))
    [ex] = list(read_har(path))
    assert isinstance(ex, Exchange) and ex.response is not None and ex.response.status == 404


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html>not json", "not a HAR file, the JSON does not parse"),
        (b'{"log": {"pages": []}}', "not a HAR file (no log.entries"),
        (zlib.compress(b"{")[:-3], "zlib-compressed HAR but damaged"),
        (b"1234:5:state,", "it looks like a mitmproxy dump: use 'shadowtape import mitm'"),
        (b"1 ab12 1568139746437296000\nGET / HTTP/1.1", "use 'shadowtape import gor'"),
    ],
)
def test_unreadable_file_is_one_error_naming_it(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "broken.har"
    path.write_bytes(content)
    with pytest.raises(CaptureError) as caught:
        list(read_har(path))
    text = str(caught.value)
    assert text.startswith(str(path)) and message in text and "\n" not in text


def test_websocket_url_and_messages(tmp_path: Path) -> None:
    entry = _entry(_webSocketMessages=[{"type": "send"}, {"type": "receive"}])
    entry["request"]["url"] = "wss://ws.example.com/socket"
    entry["response"]["status"] = 101
    path = tmp_path / "ws.har"
    path.write_bytes(_har([entry]))
    [ex] = list(read_har(path))
    assert isinstance(ex, Exchange)
    assert (ex.request.scheme, ex.request.port) == ("https", 443)
    assert ex.tags["websocket.messages"] == "2"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("HTTP/1.1", "HTTP/1.1"), ("http/2.0", "HTTP/2.0"), ("h3", "HTTP/3"), ("", ""), (None, "")],
)
def test_http_version_spellings(given: str | None, expected: str) -> None:
    assert http_version(given) == expected


def test_error_kinds_from_browser_errors(tmp_path: Path) -> None:
    entry = _entry()
    entry["response"] = {"status": 0, "_error": "net::ERR_CONNECTION_REFUSED", "headers": []}
    path = tmp_path / "refused.har"
    path.write_bytes(_har([entry]))
    [ex] = list(read_har(path))
    assert isinstance(ex, Exchange) and ex.error is not None
    assert ex.error.kind is ErrorKind.REFUSED


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
_PLACES = st.sampled_from(
    [
        p.split(".")
        for p in [
            "request",
            "request.method",
            "request.url",
            "request.httpVersion",
            "request.headers",
            "request.cookies",
            "request.postData",
            "request.postData.text",
            "request.postData.encoding",
            "request.postData.params",
            "request.postData.mimeType",
            "request.bodySize",
            "response",
            "response.status",
            "response.statusText",
            "response.headers",
            "response.content",
            "response.content.text",
            "response.content.encoding",
            "response.content.size",
            "response.content.mimeType",
            "response._error",
            "time",
            "timings",
            "timings.receive",
            "startedDateTime",
            "serverIPAddress",
            "_webSocketMessages",
            "_shadowtape",
            "_shadowtape_id",
            "_shadowtape.source",
            "_shadowtape.request_body",
            "_shadowtape.request_body.size",
            "_shadowtape.response_body.size",
            "_shadowtape.response_body.truncated",
            "_shadowtape.error",
            "_shadowtape.error.kind",
            "_shadowtape.error.message",
            "_shadowtape.tags",
            "_shadowtape.redactions",
            "_shadowtape.timed",
            "_shadowtape.seal",
        ]
    ]
)


def _put(entry: dict[str, Any], place: list[str], value: Any) -> None:
    for key in place[:-1]:
        if not isinstance(entry.get(key), dict):
            entry[key] = {}
        entry = entry[key]
    entry[place[-1]] = value


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=st.lists(st.lists(st.tuples(_PLACES, _JSON), max_size=4), min_size=1, max_size=3))
@example(changes=[[(["_shadowtape", "seal"], "\x80")]])  # a forged seal, not ASCII
def test_any_entry_becomes_an_exchange_or_a_reasoned_skip(
    tmp_path: Path, changes: list[list[tuple[list[str], Any]]]
) -> None:
    """Whatever a HAR writer put in an entry, the import neither crashes nor stops, and
    nothing it yields fails to be written."""
    entries = []
    for edits in changes:
        entry = _entry()
        for place, value in edits:
            _put(entry, place, value)
        entries.append(entry)
    path = tmp_path / "messy.har"
    path.write_bytes(_har(entries))
    items = list(read_har(path))
    assert len(items) == len(entries)
    for index, item in enumerate(items):
        assert isinstance(item, Exchange) or (
            isinstance(item, Skipped | Exported) and item.where == f"entry {index}"
        )
    # And every exchange fits a tape's columns: one that did not (a status or a duration
    # too large for its column) made the writer abandon a whole part.
    to_batch(
        [i.exchange if isinstance(i, Exported) else i for i in items if not isinstance(i, Skipped)]
    )


def test_a_compressed_body_that_is_a_decompression_bomb_is_dropped(tmp_path: Path) -> None:
    header, bomb = bombs()["gzip-gzip-1GiB"]
    entry = _entry()
    entry["response"]["headers"] = [{"name": "Content-Encoding", "value": header}]
    entry["response"]["content"] = {
        "size": 1 << 30,
        "mimeType": "text/plain",
        "text": base64.b64encode(bomb).decode(),
        "encoding": "base64",
    }
    path = tmp_path / "bomb.har"
    path.write_bytes(_har([entry]))
    [ex] = list(read_har(path))
    assert isinstance(ex, Exchange) and ex.response is not None
    assert (ex.response.body, ex.response.body_truncated) == (b"", True)
    assert ex.response.body_size == 1 << 30
    assert ex.redactions == ("response.body: dropped (decompressed size over limit)",)
    assert ex.request.body == b"a+b=c%26d"  # the rest of the entry is intact
