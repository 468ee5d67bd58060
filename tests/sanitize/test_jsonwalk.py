"""Walking a JSON document only where something can change, and no less than that:
ordinary megabytes kept, secrets among thousands of rows, pairs, keys and strings found."""

from __future__ import annotations

import json

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shadowtape import Exchange, Request, Response
from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.context import Context
from shadowtape.sanitize.jsonbody import sanitize_document, sanitize_json
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy

PSEUDO = Pseudonymizer(b"k")


def run(doc: object) -> tuple[object, list[str]]:
    c = Context(Policy.build(), PSEUDO)
    out = sanitize_json(json.dumps(doc), c, "response.body")
    assert out is not None
    return json.loads(out), list(c.redactions)


def _users(count: int) -> list[dict[str, object]]:
    """Ordinary API rows: ids, names, distinct timestamps (a ':' in each), a text that
    names a secret-looking word, numbers, a list."""
    return [
        {
            "id": i,
            "name": f"User {i}",
            "created_at": f"2026-01-{i % 28 + 1:02d}T03:{i % 60:02d}:{i % 59:02d}Z",
            "note": "reset your password from the settings page" if i % 50 == 0 else "",
            "score": i / 7,
            "tags": ["a", "b"],
            "team_id": 17,
            "last_login_ms": 1_700_000_000_000 + i,
        }
        for i in range(count)
    ]


def test_a_megabyte_of_ordinary_rows_with_a_pagination_token_is_kept() -> None:
    """The token is replaced, nothing else is, and the body is not dropped as too dense
    to scan (the work budget) however many rows there are."""
    doc = {"users": _users(6500), "next_token": "tok_8f3a9c2e71d04b55"}
    body = orjson.dumps(doc)
    assert len(body) > 1024 * 1024
    exchange = Exchange(
        request=Request("GET", "api.example.test", path="/users"),
        response=Response(
            200,
            headers=(("Content-Type", "application/json"),),
            body=body,
            body_size=len(body),
        ),
    )
    out = Sanitizer(key=b"k" * 32).sanitize(exchange)
    assert out.response is not None
    assert out.redactions == ("response.body$.next_token",)
    sanitized = orjson.loads(out.response.body)
    assert sanitized["users"] == doc["users"]
    assert sanitized["next_token"] not in ("", doc["next_token"])


def test_among_many_rows_only_those_naming_a_secret_are_replaced() -> None:
    rows: list[dict[str, object]] = [{"name": f"FLAG_{i}", "value": f"v{i}"} for i in range(3000)]
    rows.insert(1234, {"name": "DB_PASSWORD", "value": "hunter2hunter2"})
    out, where = run({"env": rows})
    assert isinstance(out, dict)
    expected = [dict(row) for row in rows]
    expected[1234]["value"] = PSEUDO("hunter2hunter2")
    assert out["env"] == expected
    assert where == ["response.body$.env[1234].value"]


def test_many_distinct_keys_and_a_secret_one() -> None:
    """Keys are classified in bulk: a secret one is found among thousands (one spelled
    with the Kelvin sign, which lowers to "k"), an e-mail key too."""
    doc: dict[str, object] = {f"id_{i}": i for i in range(20000)}
    doc["api_\u212aey"] = "sk-proj-abcdef"
    doc["ann@example.com"] = 1
    doc["shipping_pin_code_hint"] = "x"
    out, where = run(doc)
    assert isinstance(out, dict)
    assert out["api_\u212aey"] == PSEUDO("sk-proj-abcdef")
    assert "ann@example.com" not in out and PSEUDO("ann@example.com") in out
    assert out["id_19999"] == 19999 and out["shipping_pin_code_hint"] == "x"
    assert sorted(where) == ["response.body$", 'response.body$["api_\u212aey"]']


def test_pair_objects_spelled_in_any_case_among_many_distinct_keys() -> None:
    """Keys learned in bulk still tell a pair's name and value keys in any case."""
    doc: dict[str, object] = {f"id_{i}": i for i in range(20000)}
    doc["settings"] = [
        {"nAmE": "db_password", "VALUE": "hunter22x"},
        {"nAmE": "colour", "VALUE": "blue"},
    ]
    out, where = run(doc)
    assert isinstance(out, dict)
    assert out["settings"] == [
        {"nAmE": "db_password", "VALUE": PSEUDO("hunter22x")},
        {"nAmE": "colour", "VALUE": "blue"},
    ]
    assert out["id_19999"] == 19999
    assert where == ["response.body$.settings[0].VALUE"]


def test_a_list_of_pairs_with_one_secret_name() -> None:
    pairs = [[f"X-Header-{i}", f"v{i}"] for i in range(2000)] + [["Authorization", "abc123def"]]
    out, where = run({"headers": pairs})
    assert isinstance(out, dict)
    assert out["headers"][:2000] == pairs[:2000]
    assert out["headers"][2000] == ["Authorization", PSEUDO("abc123def")]
    assert where == ["response.body$.headers[2000][1]"]


def test_pairs_inside_a_list_of_lists() -> None:
    """A table's rows are read in C one level down, but not past [name, value] pairs."""
    doc = [[["Accept", "x"], ["Authorization", "sekret1234567"]], ["X-Header", "v0"]]
    out, where = run(doc)
    assert out == [[["Accept", "x"], ["Authorization", PSEUDO("sekret1234567")]], doc[1]]
    assert where == ["response.body$[0][1][1]"]


def test_a_field_in_text_among_many_strings_that_hold_none() -> None:
    """Strings holding a ':' or '=' but no secret-looking name are told apart in bulk;
    the one holding ``token=...`` is still read."""
    strings = [f"tokens: {i}" for i in range(5000)] + ["callback?token=abc123def456"]
    out, where = run({"log": strings, "id": 1})
    assert isinstance(out, dict)
    assert out["log"][:5000] == strings[:5000]
    assert "abc123def456" not in out["log"][5000]
    assert where == ["response.body$.log[5000]"]


def test_a_document_is_not_changed_in_place() -> None:
    doc = {"rows": [{"id": 1, "password": "hunter2hunter2"}], "n": [1, 2]}
    text = json.dumps(doc)
    data = json.loads(text)
    new = sanitize_document(data, text, Context(Policy.build(), PSEUDO), "b")
    assert data == doc
    assert new == {"rows": [{"id": 1, "password": PSEUDO("hunter2hunter2")}], "n": [1, 2]}


#: Secrets a row can hide, each as (what the row holds, the secret that must not stay).
NEEDLES: list[tuple[object, str]] = [
    ({"id": 1, "api_token": "tok9f8e7d6c5b4a"}, "tok9f8e7d6c5b4a"),
    ({"name": "DB_PASSWORD", "value": "hunter2hunter2"}, "hunter2hunter2"),
    ([["Accept", "x"], ["Authorization", "sekret1234567"]], "sekret1234567"),
    ({"id": 1, "note": "mail ann@example.com today"}, "ann@example.com"),
    ({"id": 1, "note": "callback?token=abc123def456"}, "abc123def456"),
    ({"id": 1, "payload": json.dumps({"password": "pw1234567890"})}, "pw1234567890"),
    ({"id": 1, "note": "card\n4111111111111111"}, "4111111111111111"),
    ({"id": 1, "tags": ["x", "Bearer abcdefghijklmnopq"]}, "abcdefghijklmnopq"),
    ({"ann@example.org": 1}, "ann@example.org"),
    ({"id": 4111111111111111}, "4111111111111111"),
]


def _row(i: int, shape: int) -> object:
    """An ordinary row of one of a few shapes (objects, pairs, name/value, strings)."""
    if shape == 0:
        return {"id": i, "at": f"2026-01-01T00:00:{i % 60:02d}Z", "tags": ["a"], "ok": True}
    if shape == 1:
        return [f"X-Header-{i % 7}", f"v{i}"]
    if shape == 2:
        return {"name": f"FLAG_{i % 5}", "value": f"v{i}"}
    return f"tokens: {i}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.integers(0, 3),
    rows=st.integers(1, 400),
    needle=st.sampled_from(NEEDLES),
    at=st.floats(0, 1),
    escaped=st.booleans(),
)
def test_a_secret_among_many_ordinary_rows_is_found_wherever_it_is(
    shape: int, rows: int, needle: tuple[object, str], at: float, escaped: bool
) -> None:
    """Whatever is passed over in bulk, the one row that holds a secret is not."""
    items = [_row(i, shape) for i in range(rows)]
    items.insert(int(at * rows), needle[0])
    doc = {"rows": items, "z": "Zoë"}
    text = json.dumps(doc, ensure_ascii=escaped)  # escaped: "\u00eb", the scope re-taken
    out = sanitize_json(text, Context(Policy.build(), PSEUDO), "b")
    assert out is not None
    assert needle[1] not in out and needle[1] not in json.dumps(json.loads(out))


def test_a_key_known_secret_is_secret_again_in_json_with_escapes_of_its_own() -> None:
    """A document inside a string, scoped on its own for its escapes, shares what the
    outer one learned of each key: a key first seen outside stays secret inside."""
    inner = json.dumps({"token": {"note": "café", "value": "tok_inner_5f3a9c2e"}})
    doc = {"token": "tok_outer_8d1b7e40", "event": inner}
    out, where = run(doc)
    assert isinstance(out, dict)
    assert "tok_inner_5f3a9c2e" not in out["event"]
    assert json.loads(out["event"])["token"]["value"] == PSEUDO("tok_inner_5f3a9c2e")
    assert sorted(where) == [
        "response.body$.event.token.note",
        "response.body$.event.token.value",
        "response.body$.token",
    ]


def test_a_key_that_needs_nothing_does_not_clear_the_same_text_as_a_value() -> None:
    """A key is read for what detectors find, a value for secret-named fields too: the
    text of a key found clean is still read when it comes again as a value."""
    text = "note: password=hunter2hunter2"
    doc = {"contact": "ann@example.com", "seen": {text: 1}, "log": text}
    out, where = run(doc)
    assert isinstance(out, dict)
    assert out["log"] == f"note: password={PSEUDO('hunter2hunter2')}"
    assert "response.body$.log" in where


def test_a_secret_found_earlier_does_not_hide_a_field_in_json_inside_a_string() -> None:
    """A document inside a string with escapes of its own is scoped on its own, but
    echoes known secrets only as the document around it does: a secret value that is
    also a field's name ("password"), echoed first, would hide the field's value."""
    doc = {"PASSWORD": "password", "env": json.dumps({"a": "café password=Rg4nwfRQ"})}
    out, where = run(doc)
    assert isinstance(out, dict)
    assert "Rg4nwfRQ" not in out["env"]
    assert sorted(where) == ["response.body$.PASSWORD", "response.body$.env.a"]


def test_a_secret_number_near_the_largest_float_is_replaced() -> None:
    """A pseudonym keeps a number's digits, which may lie past the largest float: the
    body is kept all the same, with no value of the original."""
    doc = {"pin": 1.5e308, "otp": -1.7e308, "id": 1}
    out, where = run(doc)
    assert isinstance(out, dict)
    assert out["pin"] != doc["pin"] and out["otp"] != doc["otp"] and out["id"] == 1
    assert sorted(where) == ["response.body$.otp", "response.body$.pin"]


def _sanitized_response(doc: object) -> tuple[object, tuple[str, ...]]:
    body = orjson.dumps(doc)
    exchange = Exchange(
        request=Request("GET", "api.example.test", path="/logs"),
        response=Response(
            200, headers=(("Content-Type", "application/json"),), body=body, body_size=len(body)
        ),
    )
    out = Sanitizer(key=b"k" * 32).sanitize(exchange)
    assert out.response is not None
    return orjson.loads(out.response.body or b"null"), out.redactions


def test_a_megabyte_of_short_log_lines_naming_secrets_in_prose_is_kept() -> None:
    """Lines that mention a secret word by a ':' or '=' hold no field to read; only the
    one that does is read, and the body is not dropped as too dense to scan."""
    lines = [f"user {i}: password reset requested, ok=true" for i in range(25000)]
    lines += [f"tokens: {i}" for i in range(20000)]
    lines.insert(30000, "callback?token=abc123def456")
    assert len(orjson.dumps(lines)) > 1024 * 1024
    out, redactions = _sanitized_response({"log": lines})
    assert redactions == ("response.body$.log[30000]",)
    assert isinstance(out, dict)
    assert out["log"][:30000] == lines[:30000] and out["log"][30001:] == lines[30001:]
    assert "abc123def456" not in out["log"][30000]


def test_a_megabyte_of_short_stringified_documents_with_one_secret_is_kept() -> None:
    """Only the strings holding JSON that names a secret are parsed and walked."""
    events = [json.dumps({"id": i, "v": f"x{i}"}) for i in range(30000)]
    events[777] = json.dumps({"token": "tok_5f3a9c2e71d04b55"})
    assert len(orjson.dumps(events)) > 1024 * 1024
    out, redactions = _sanitized_response({"events": events})
    assert redactions == ("response.body$.events[777].token",)
    assert isinstance(out, dict)
    assert out["events"][:777] == events[:777] and out["events"][778:] == events[778:]
    assert json.loads(out["events"][777]) == {
        "token": Sanitizer(key=b"k" * 32).pseudonym("tok_5f3a9c2e71d04b55")
    }


#: Lines among which one holds a secret; each as (the line, the secret).
LINE_NEEDLES: list[tuple[str, str]] = [
    ("callback?token=abc123def456", "abc123def456"),
    ('{"password": "pw1234567890"}', "pw1234567890"),
    ('cfg {"api_key": "k9f8e7d6c5b4"}', "k9f8e7d6c5b4"),
    ("db:\n  password: s3cr3tvalue99\n", "s3cr3tvalue99"),
    ("<password>xyzzy4242</password>", "xyzzy4242"),
    ("run --password hunter2hunter2", "hunter2hunter2"),
    ("--api-key k3yk3yk3yk3y", "k3yk3yk3yk3y"),
    ('{"headers": [["Authorization", "Bearer-less 9a8b7c6d5e"]]}', "9a8b7c6d5e"),
    ('{"name": "DB_PASSWORD", "value": "v4lu3v4lu3"}', "v4lu3v4lu3"),
    ("[4111111111111111]", "4111111111111111"),
    ('"token=quoted12345"', "quoted12345"),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(
        st.sampled_from(
            [
                "user 7: password reset requested, ok=true",
                "tokens: 12",
                "\u212aey rotation: done",
                "İstanbul: ok",
                '{"id": 1, "v": "x"}',
                "[1, 2]",
                "- item",
                "",
                "plain",
            ]
        ),
        max_size=60,
    ),
    needle=st.sampled_from(LINE_NEEDLES),
    at=st.floats(0, 1),
    before=st.sampled_from(["", "\u212a", "İ", "password=", "-"]),
    escaped=st.booleans(),
)
def test_a_secret_line_among_ordinary_lines_is_found_wherever_it_is(
    lines: list[str], needle: tuple[str, str], at: float, before: str, escaped: bool
) -> None:
    """The lines of a log are told apart in bulk; the one holding a secret is read
    (``before``: a line right before it, which may shift offsets or run into it)."""
    where = int(at * len(lines))
    lines[where:where] = [before, needle[0]]
    text = json.dumps({"log": lines}, ensure_ascii=escaped)
    out = sanitize_json(text, Context(Policy.build(), PSEUDO), "b")
    assert out is not None
    assert needle[1] not in json.dumps(json.loads(out), ensure_ascii=False)


def test_short_stringified_documents_beside_an_e_mail_are_parsed_only_where_needed() -> None:
    """With a detector in scope, a string holding JSON is parsed only if it may name a
    secret or the detectors find something in it: the body is not too dense to scan."""
    events = [json.dumps({"id": i, "v": f"x{i}"}) for i in range(30000)]
    events[777] = json.dumps({"token": "tok_5f3a9c2e71d04b55"})
    events[778] = json.dumps({"id": 778, "by": "ann@example.com"})
    out, redactions = _sanitized_response({"events": events})
    assert sorted(redactions) == [
        "response.body$.events[777].token",
        "response.body$.events[778].by",
    ]
    assert isinstance(out, dict)
    assert out["events"][:777] == events[:777] and out["events"][779:] == events[779:]
    assert "ann@example.com" not in out["events"][778]
