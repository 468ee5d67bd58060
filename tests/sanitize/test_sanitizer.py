"""The Sanitizer's contract: a new Exchange, redactions by location, the key, never raising."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import orjson
import pytest

from shadowtape import ErrorKind, Exchange, ExchangeError, Request, Response, SanitizeError
from shadowtape.sanitize import ENV_KEY, Sanitizer
from shadowtape.sanitize.sanitizer import Deadline, OverBudget, Step
from tests.sanitize.adversarial import CARRIERS


def login(password: str = "hunter2hunter2") -> Exchange:
    body = orjson.dumps({"user": "ann", "password": password})
    answer = b'{"ok": true}'
    return Exchange(
        request=Request(
            "POST",
            "api.test",
            path="/login",
            headers=(
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Cookie", "sid=abcdef123456"),
            ),
            body=body,
            body_size=len(body),
        ),
        response=Response(
            200,
            headers=(("Content-Type", "application/json"), ("Content-Length", str(len(answer)))),
            body=answer,
            body_size=len(answer),
        ),
        redactions=("request.header.x-earlier",),
    )


def test_returns_a_new_exchange_and_leaves_the_input_alone() -> None:
    exchange = login()
    out = Sanitizer(key=b"k").sanitize(exchange)
    assert out is not exchange
    assert exchange.request.body == orjson.dumps({"user": "ann", "password": "hunter2hunter2"})
    assert out.id == exchange.id and out.recorded_at == exchange.recorded_at
    assert out.redactions == (
        "request.header.x-earlier",
        "request.cookie.sid",
        "request.body$.password",
    )
    assert out.response == exchange.response


def test_content_length_follows_a_body_whose_length_changed() -> None:
    # An e-mail in a pretty-printed body: re-serialised compactly, so the length changes.
    body = b'{\n    "password":   "hunter2hunter2",\n    "n": 1\n}'
    exchange = Exchange(
        request=Request(
            "POST",
            "api.test",
            headers=(("Content-Type", "application/json"), ("Content-Length", str(len(body)))),
            body=body,
            body_size=len(body),
        )
    )
    out = Sanitizer(key=b"k").sanitize(exchange)
    assert len(out.request.body) != len(body)
    assert out.request.header("Content-Length") == str(len(out.request.body))
    assert out.request.body_size == len(out.request.body)


def test_content_encoding_and_its_length_are_kept() -> None:
    body = b'{\n    "password":   "hunter2hunter2"\n}'
    headers = (
        ("Content-Type", "application/json"),
        ("Content-Encoding", "gzip"),
        ("Content-Length", "31"),
    )
    exchange = Exchange(request=Request("POST", "h", headers=headers, body=body, body_size=99))
    out = Sanitizer(key=b"k").sanitize(exchange)
    assert out.request.header("Content-Encoding") == "gzip"
    assert out.request.header("Content-Length") == "31"
    assert out.request.body_size == 99 + len(out.request.body) - len(body)


def test_error_messages_are_scanned() -> None:
    exchange = Exchange(
        request=Request("GET", "api.test"),
        error=ExchangeError(ErrorKind.TIMEOUT, "timed out for ann@example.com, token=abc123456"),
    )
    out = Sanitizer(key=b"k").sanitize(exchange)
    assert out.error is not None
    assert "ann@example.com" not in out.error.message and "abc123456" not in out.error.message
    assert out.error.kind is ErrorKind.TIMEOUT
    assert "error.message" in out.redactions


def test_nothing_to_replace_keeps_everything() -> None:
    exchange = Exchange(request=Request("GET", "api.test", path="/health"))
    assert Sanitizer(key=b"k").sanitize(exchange) == exchange


def test_the_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_KEY, "from-env")
    assert Sanitizer().pseudonym("abc123") == Sanitizer(key=b"from-env").pseudonym("abc123")
    assert Sanitizer().pseudonym("abc123") != Sanitizer(key=b"other").pseudonym("abc123")


def test_no_key_warns_loudly_and_uses_one_key_per_process(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(ENV_KEY, raising=False)
    with caplog.at_level(logging.WARNING, logger="shadowtape.sanitize"):
        first, second = Sanitizer(), Sanitizer()
    assert first.pseudonym("abc123") == second.pseudonym("abc123")
    warnings = [r for r in caplog.records if r.name == "shadowtape.sanitize"]
    assert warnings and all(r.levelno == logging.WARNING for r in warnings)
    assert ENV_KEY in warnings[0].getMessage()


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(SanitizeError, match="empty"):
        Sanitizer(key=b"")


def test_a_failing_step_fails_closed(caplog: pytest.LogCaptureFixture) -> None:
    sanitizer = Sanitizer(key=b"k")

    def broken(draft: object, ctx: object) -> None:
        raise RuntimeError("hunter2hunter2 leaked into an error message")

    sanitizer.steps = (*sanitizer.steps, Step("broken", broken, lambda d: []))
    exchange = login()
    with caplog.at_level(logging.ERROR, logger="shadowtape.sanitize"):
        out = sanitizer.sanitize(exchange)
    assert out.request.body == b"" and out.request.body_truncated
    assert out.request.header("Content-Type") == "application/json"
    assert out.request.header("Cookie") != "sid=abcdef123456"
    assert "request.body" in out.redactions
    assert "hunter2" not in caplog.text and "RuntimeError" in caplog.text


def test_concurrent_use_gives_the_same_results() -> None:
    sanitizer = Sanitizer(key=b"k")
    exchanges = [login(f"password-{i:04d}") for i in range(200)]
    expected = [sanitizer.sanitize(e) for e in exchanges]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(sanitizer.sanitize, exchanges)) == expected


def test_the_key_is_not_in_the_repr() -> None:
    assert "s3cr3t" not in repr(Sanitizer(key=b"s3cr3t"))


def test_many_locations_are_folded_by_array_index() -> None:
    users = [{"email": f"user{i}@example.com", "password": f"pw{i:08d}"} for i in range(120)]
    body = orjson.dumps({"users": users})
    exchange = Exchange(
        request=Request("GET", "api.test"),
        response=Response(
            200, headers=(("Content-Type", "application/json"),), body=body, body_size=len(body)
        ),
    )
    out = Sanitizer(key=b"k").sanitize(exchange)
    assert out.redactions == ("response.body$.users[*].email", "response.body$.users[*].password")
    assert out.response is not None
    assert b"user7@example.com" not in out.response.body and b"pw00000007" not in out.response.body


@pytest.mark.parametrize(
    "cut",
    [
        b'{"token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm5AZXhhbXBsZS5j',  # a JWT cut short
        b"<p>pay with 4111 1111 1111 11",  # part of a card number
        b"mail ann.lee@exampl",  # half an e-mail address
    ],
)
def test_a_truncated_body_does_not_end_with_part_of_a_secret(cut: bytes) -> None:
    exchange = Exchange(
        request=Request("GET", "api.test"),
        response=Response(200, body=cut, body_size=10_000, body_truncated=True),
    )
    out = Sanitizer(key=b"k").sanitize(exchange)
    assert out.response is not None
    tail = cut.split(b"with ")[-1].split(b'"')[-1].split(b" ")[-1]
    assert tail not in out.response.body
    if b"4111" in cut:
        assert b"4111 1111 1111" not in out.response.body
    assert len(out.response.body) == len(cut)
    assert out.redactions


def test_the_reason_phrase_and_quoted_header_lines_in_errors() -> None:
    key = "sk_live_" + "a1B2c3D4e5F6g7H8i9J0"
    exchange = Exchange(
        request=Request("GET", "api.test", path="/x"),
        response=Response(403, reason=f"Key {key} revoked"),
        error=ExchangeError(
            kind=ErrorKind.PROTOCOL,
            message="invalid header line b'X-Api-Key: k-1234567890\\r\\n'",
        ),
    )
    out = Sanitizer(key=b"k").sanitize(exchange)
    assert out.response is not None and key not in out.response.reason
    assert out.response.reason.startswith("Key sk_live_") and out.response.reason.endswith(
        " revoked"
    )
    assert out.error is not None and "k-1234567890" not in out.error.message
    assert {"response.reason", "error.message"} <= set(out.redactions)


def test_redaction_locations_never_hold_a_value() -> None:
    body = orjson.dumps({"ann.lee@corp.test": {"role": "admin"}, "x": 1})
    exchange = Exchange(
        request=Request(
            "POST",
            "api.test",
            path="/x",
            query="bob%40corp.test=1",
            headers=(("Content-Type", "application/json"),),
            body=body,
            body_size=len(body),
        ),
    )
    out = Sanitizer(key=b"k").sanitize(exchange)
    assert out.redactions
    for where in out.redactions:
        assert "ann.lee" not in where and "bob" not in where, where


def test_an_expired_deadline_drops_the_bodies_and_still_sanitizes_the_rest() -> None:
    exchange = login()
    out = Sanitizer(key=b"k").sanitize(exchange, deadline=Deadline(0.0))
    for side, before, after in (
        ("request", exchange.request, out.request),
        ("response", exchange.response, out.response),
    ):
        assert before is not None and after is not None
        assert after.body == b"" and after.body_truncated
        assert after.body_size == before.body_size
        assert after.header("Content-Length") == before.header("Content-Length")
        assert f"{side}.body: dropped (sanitize budget)" in out.redactions
    assert "request.cookie.sid" in out.redactions
    assert "abcdef123456" not in repr(out) and b"hunter2" not in out.request.body


def test_a_live_deadline_changes_nothing() -> None:
    exchange = login()
    sanitizer = Sanitizer(key=b"k")
    assert sanitizer.sanitize(exchange, deadline=Deadline.after(60)) == sanitizer.sanitize(exchange)


class _StopsTheFirstBody(Deadline):
    """Interrupts the first body step as a timer would, once the step has done its work."""

    def __init__(self) -> None:
        super().__init__(float("inf"))
        self.guarded = 0

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        self.guarded += 1
        yield
        if self.guarded == 1:
            raise OverBudget()


def test_a_body_step_interrupted_by_its_deadline_drops_that_body_only() -> None:
    exchange = login()
    deadline = _StopsTheFirstBody()
    out = Sanitizer(key=b"k").sanitize(exchange, deadline=deadline)
    assert out.request.body == b"" and out.request.body_truncated
    # What the interrupted step found inside the dropped body is not listed.
    assert out.redactions == (
        "request.header.x-earlier",
        "request.cookie.sid",
        "request.body: dropped (sanitize budget)",
    )
    assert out.response == exchange.response


def test_an_empty_body_is_not_dropped() -> None:
    exchange = login().replace(response=None)
    out = Sanitizer(key=b"k").sanitize(exchange, deadline=Deadline(0.0))
    assert not any(where.startswith("response.") for where in out.redactions)


def _users(count: int) -> Exchange:
    users = [{"email": f"user{i}@example.com", "password": f"pw{i:08d}"} for i in range(count)]
    body = orjson.dumps({"users": users})
    return Exchange(
        request=Request("POST", "api.test", headers=(("Content-Type", "application/json"),)),
        response=Response(
            200, headers=(("Content-Type", "application/json"),), body=body, body_size=len(body)
        ),
    )


def test_a_body_needing_more_redactions_than_the_limit_is_dropped_whole() -> None:
    exchange = _users(501)  # 1,002 replacements
    out = Sanitizer(key=b"k").sanitize(exchange)
    assert out.response is not None
    assert (out.response.body, out.response.body_truncated) == (b"", True)
    assert out.response.body_size == len(exchange.response.body)  # type: ignore[union-attr]
    assert out.redactions == ("response.body: dropped (over 1000 redactions)",)
    assert out.response.headers == exchange.response.headers  # type: ignore[union-attr]


def test_a_body_within_the_limit_is_sanitized_as_usual() -> None:
    exchange = _users(500)  # 1,000 replacements
    out = Sanitizer(key=b"k").sanitize(exchange)
    assert out.response is not None and out.response.body
    assert b"user7@example.com" not in out.response.body and b"pw00000007" not in out.response.body
    assert "response.body$.users[*].password" in out.redactions


def test_the_limit_is_a_sanitizer_setting_and_holds_for_request_bodies_too() -> None:
    users = _users(20)
    body = users.response.body  # type: ignore[union-attr]
    exchange = users.replace(request=replace(users.request, body=body, body_size=len(body)))
    out = Sanitizer(key=b"k", max_redactions=10).sanitize(exchange)
    assert out.request.body == b"" and out.response is not None and out.response.body == b""
    assert out.redactions == (
        "request.body: dropped (over 10 redactions)",
        "response.body: dropped (over 10 redactions)",
    )


def test_a_header_needing_more_redactions_than_the_limit_fails_the_exchange_closed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    value = "; ".join(f"password=pw{i:08d}" for i in range(1001))
    users = _users(2)
    exchange = users.replace(
        request=replace(users.request, headers=(("X-Note", value), ("Content-Type", "x/y")))
    )
    with caplog.at_level(logging.WARNING, logger="shadowtape.sanitize"):
        out = Sanitizer(key=b"k").sanitize(exchange)
    assert "pw00000007" not in str(out.request.headers)
    assert out.request.headers[1] == ("Content-Type", "x/y")  # framing kept
    assert out.response is not None and out.response.body == b""
    assert "exchange: replaced wholesale (over 1000 redactions in one field)" in out.redactions
    assert "more than 1000 replacements" in caplog.text and "pw0000" not in caplog.text


def test_a_header_too_dense_to_scan_fails_closed_to_a_short_keyed_stand_in(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Card-shaped groups packed into one header: more candidates than its size pays for.
    value = "4111 1111 1111 1112 " * 60_000  # not one passes Luhn
    users = _users(2)
    exchange = users.replace(
        request=replace(users.request, headers=(("X-Note", value), ("Content-Type", "x/y")))
    )
    sanitizer = Sanitizer(key=b"k")
    with caplog.at_level(logging.WARNING, logger="shadowtape.sanitize"):
        out = sanitizer.sanitize(exchange)
    assert "exchange: replaced wholesale (a field too dense to scan)" in out.redactions
    name, replaced = out.request.headers[0]
    assert name == "X-Note" and "4111" not in replaced
    # A megabyte is not shaped: its long form stands in, 32 keyed letters (it was a
    # 32-hex digest of the fail-closed path's own until long values had one rule).
    assert replaced == sanitizer.pseudonym(value)
    assert len(replaced) == 32 and replaced.isalpha() and replaced.islower()
    assert sanitizer.sanitize(exchange).request.headers[0] == (name, replaced)
    assert out.request.headers[1] == ("Content-Type", "x/y")
    assert "too dense" in caplog.text and "4111" not in caplog.text


@pytest.mark.parametrize("key", [b"property-test-key", b"another-key"])
def test_a_detector_never_reads_across_a_pseudonym_made_in_the_same_call(key: bytes) -> None:
    # The e-mail's pseudonym under the first key is d6%40414017131926.com, whose digits
    # after "%" pass Luhn: the card detector once replaced them, turning "%40" into
    # "%45", so the redactions depended on the key.
    body = b"note a0%40000000000000.com end"
    exchange = Exchange(
        request=Request(
            "POST",
            "api.test",
            path="/notes",
            headers=(("Content-Type", "text/plain"), ("Content-Length", str(len(body)))),
            body=body,
            body_size=len(body),
        ),
        response=Response(200),
    )
    sanitizer = Sanitizer(key=key)
    out = sanitizer.sanitize(exchange).request
    assert out.body is not None
    assert out.body.startswith(b"note ") and out.body.endswith(b".com end")
    assert out.body[7:10] == b"%40"  # the e-mail's encoded "@" is left as it was
    assert out.body[5:-4].decode() == sanitizer.pseudonym("a0@000000000000.com").replace("@", "%40")
    assert sanitizer.sanitize(exchange).redactions == ("request.body.text:email",)


def _too_dense(exchange: Exchange) -> Exchange:
    """``exchange`` with a header packed with card-shaped groups: it fails closed."""
    dense = ("X-Note", "4111 1111 1111 1112 " * 20_000)
    return exchange.replace(
        request=replace(exchange.request, headers=(*exchange.request.headers, dense))
    )


def test_a_long_value_gets_one_replacement_whether_found_or_failed_closed() -> None:
    """One rule for long values: the API key a header rule replaces gets the same
    stand-in when another header fails the exchange closed, and past the limit
    a path keeps its leading slash, so the replayed request still has a target."""
    long_key, long_path = "k" * 70_000, "/files/" + "a1" * 40_000
    exchange = Exchange(
        request=Request("GET", "api.test", path=long_path, headers=(("X-Api-Key", long_key),)),
        response=Response(200),
    )
    sanitizer = Sanitizer(key=b"k")
    found = sanitizer.sanitize(exchange).request.headers[0][1]
    failed = sanitizer.sanitize(_too_dense(exchange))
    assert "exchange: replaced wholesale (a field too dense to scan)" in failed.redactions
    assert failed.request.headers[0] == ("X-Api-Key", found)
    assert len(found) == 32 and found.isalpha() and found != sanitizer.pseudonym(long_key[1:])
    path = failed.request.path
    assert path.startswith("/") and len(path) == 33 and path[1:].isalpha()
    assert path == Sanitizer(key=b"k").sanitize(_too_dense(exchange)).request.path
    assert path != Sanitizer(key=b"other").sanitize(_too_dense(exchange)).request.path


def test_a_value_failed_closed_keeps_its_shape_up_to_the_one_limit() -> None:
    # 8 KiB: a long JWT or SAML response is shaped (same length and characters classes)
    # whether a rule found it or its exchange failed closed.
    cookie = "sid=" + "Ab1-" * 2_048
    exchange = Exchange(
        request=Request("GET", "api.test", path="/", headers=(("Cookie", cookie),)),
        response=Response(200),
    )
    out = Sanitizer(key=b"k").sanitize(_too_dense(exchange)).request.headers[0][1]
    assert len(out) == len(cookie) and out != cookie and out.count("-") == cookie.count("-")


def _note(body: str, *headers: tuple[str, str]) -> Exchange:
    data = body.encode()
    return Exchange(
        request=Request(
            "POST",
            "api.test",
            path="/notes",
            headers=(("Content-Type", "text/plain"), *headers),
            body=data,
            body_size=len(data),
        ),
        response=Response(200),
    )


@pytest.mark.parametrize("key", [b"key-0", b"key-1"])
def test_a_detector_never_reads_across_an_echoed_pseudonym(key: bytes) -> None:
    # The cookie's value is echoed inside a run of digits; under key-0 its pseudonym
    # made the run pass Luhn, and the card detector replaced it: key-dependent redactions.
    exchange = _note("order 4111111111123456 x", ("Cookie", "sid=123456"))
    sanitizer = Sanitizer(key=key)
    out = sanitizer.sanitize(exchange)
    assert out.redactions == ("request.cookie.sid", "request.body.text:secret")
    assert out.request.body == f"order 4111111111{sanitizer.pseudonym('123456')} x".encode()


@pytest.mark.parametrize("key", [b"key-24", b"key-25"])
def test_a_detector_never_reads_across_a_field_value_s_pseudonym(key: bytes) -> None:
    # The field's value is the first group; under key-24 its pseudonym and the groups
    # after it passed Luhn, and the card detector replaced them all.
    exchange = _note("pin=5105 1051 0510 5100\n")
    sanitizer = Sanitizer(key=key)
    out = sanitizer.sanitize(exchange)
    assert out.redactions == ("request.body.text:field",)
    assert out.request.body == f"pin={sanitizer.pseudonym('5105')} 1051 0510 5100\n".encode()


def test_echoes_are_paid_for_so_a_text_of_nothing_else_is_dropped() -> None:
    """Each echo is found and replaced in Python: a body that is a cookie's value over
    and over is dropped as too dense, while one echo per row of a listing is not."""
    cookie = ("Cookie", "sid=s3cr3tv4lue")
    dense = _note("s3cr3tv4lue" * 100_000, cookie)
    out = Sanitizer(key=b"k").sanitize(dense)
    assert "request.body: dropped (too dense to scan)" in out.redactions
    assert out.request.body == b""
    rows = "".join(f"row {i:05d} owner=s3cr3tv4lue status=paid\n" for i in range(20_000))
    listing = Sanitizer(key=b"k").sanitize(_note(rows, cookie))
    assert not any("dropped" in where for where in listing.redactions)
    assert listing.request.body.count(b"s3cr3tv4lue") == 0
    assert listing.request.body.count(b"status=paid\n") == 20_000


def test_many_long_secrets_in_one_exchange_are_echoed_not_failed_closed() -> None:
    """Hundreds of distinct secrets of kilobytes each: their echo patterns used to grow
    past what RE2 compiles, and the whole exchange was failed closed."""
    values = [f"{i:06d}" + "é«a" * 2000 for i in range(170)]
    text = "".join(f"password={value}&" for value in values)
    exchange = CARRIERS["JSON string"](text)  # {"note": text}, as application/json
    out = Sanitizer(key=b"k").sanitize(exchange)
    assert out.redactions == ("request.body$.note",)
    kept = orjson.loads(out.request.body)["note"]
    assert kept.count("password=") == 170 and not any(value in kept for value in values)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", "db:\n  new_password: {v}\n"),
        ("application/json", '{{"new_password": "{v}", "n": 1}}'),
        ("text/plain", "export API_SECRET={v}\n"),
        ("application/xml", "<cfg><new_password>{v}</new_password></cfg>"),
        ("text/html", '<input name="new_password" value="{v}">'),
    ],
)
@pytest.mark.parametrize("name_as_value", ["password", "secret"])
def test_a_known_secret_that_is_a_name_never_hides_a_field(
    content_type: str, body: str, name_as_value: str
) -> None:
    """A client whose cookie is the word "password" must not turn off the field scan of
    the body: its echo once renamed ``new_password`` before the name was read."""
    value = "Xq7vR2mW9pLs"
    text = body.format(v=value).encode()
    exchange = Exchange(
        request=Request(
            "POST",
            "api.test",
            headers=(("Cookie", f"sid={name_as_value}"), ("Content-Type", content_type)),
            body=text,
            body_size=len(text),
        )
    )
    out = Sanitizer(key=b"k").sanitize(exchange)
    assert value.encode() not in out.request.body


@pytest.mark.parametrize("key", [b"k", b"property-test-key", b"third"])
def test_an_email_holding_an_echoed_secret_is_replaced_whole(key: bytes) -> None:
    """A known secret echoed inside an address left the address unread (a detector
    skips what overlaps a pseudonym), and its domain stayed on the tape."""
    body = b'{"id": 1, "users": {"a000000000AAA@000000000aaa.com": {"role": "admin"}}}'
    headers = (("Sec-WebSocket-Protocol", "graphql-ws, access_token, 000000000AAA"),)
    exchange = Exchange(
        request=Request(
            "POST",
            "api.test",
            headers=(*headers, ("Content-Type", "application/json")),
            body=body,
            body_size=len(body),
        )
    )
    out = Sanitizer(key=key).sanitize(exchange)
    assert b"000000000aaa" not in out.request.body.lower()
    assert out.request.body.count(b"@") == 1
