"""JSON documents: any depth, numbers, keys, escapes, and the no-parse fast path."""

from __future__ import annotations

import json

import orjson

from shadowtape import Exchange, Request, Response
from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.context import Context
from shadowtape.sanitize.detectors import luhn_ok
from shadowtape.sanitize.jsonbody import sanitize_document, sanitize_json
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy, Rules

PSEUDO = Pseudonymizer(b"k")


def run(doc: object, rules: Rules | None = None) -> tuple[object, list[str]]:
    c = Context(Policy.build(rules), PSEUDO)
    text = json.dumps(doc)
    out = sanitize_json(text, c, "response.body")
    assert out is not None
    return json.loads(out), list(c.redactions)


def test_a_secret_key_hides_the_whole_subtree() -> None:
    out, where = run({"credentials": {"user": "ann", "pin": 1234, "ok": True, "none": None}})
    assert out == {
        "credentials": {"user": PSEUDO("ann"), "pin": PSEUDO.number(1234), "ok": True, "none": None}
    }
    assert where == ["response.body$.credentials.user", "response.body$.credentials.pin"]


def test_card_numbers_as_json_numbers() -> None:
    out, where = run({"n": 4111111111111111, "id": 1700000000000000})
    assert isinstance(out, dict)
    assert not luhn_ok(str(out["n"])) and len(str(out["n"])) == 16
    assert out["id"] == 1700000000000000
    assert where == ["response.body$.n"]


def test_keys_holding_secrets_are_replaced() -> None:
    out, where = run({"ann@example.com": {"role": "admin"}})
    assert out == {PSEUDO("ann@example.com"): {"role": "admin"}}
    assert where == ["response.body$"]  # the key's object: a location never holds a value


def test_escaped_secrets_are_found() -> None:
    c = Context(Policy.build(), PSEUDO)
    text = '{"a": "ann\\u0040example.com", "b": "Bearer abc\\/defghijklmnopqrs"}'
    out = sanitize_json(text, c, "request.body")
    assert out is not None
    assert "ann" not in out and "abc/def" not in orjson.loads(out)["b"]


def test_rule_paths_and_allowed_paths() -> None:
    rules = Rules(redact_json_paths=("$..dob",), allow_json_paths=("$.meta.password",))
    out, _ = run({"a": [{"dob": "1990-01-01"}], "meta": {"password": "shown"}}, rules)
    assert out == {"a": [{"dob": PSEUDO("1990-01-01")}], "meta": {"password": "shown"}}


def test_numbers_beyond_64_bits_still_parse() -> None:
    out, _ = run({"big": 10**30, "password": "hunter22"})
    assert out == {"big": 10**30, "password": PSEUDO("hunter22")}


def test_nothing_to_do_returns_the_text_itself() -> None:
    c = Context(Policy.build(), PSEUDO)
    text = '{"shipping": "pin code", "items": [1, 2], "name": "Zoë"}'
    assert sanitize_json(text, c, "response.body") is text


def test_indented_documents_stay_indented() -> None:
    c = Context(Policy.build(), PSEUDO)
    out = sanitize_json('{\n  "password": "x1"\n}', c, "request.body")
    assert out == '{\n  "password": "' + PSEUDO("x1") + '"\n}'


def test_not_json_is_none() -> None:
    assert sanitize_json('{"password": ', Context(Policy.build(), PSEUDO), "x") is None


def test_json_stringified_once_twice_and_three_times() -> None:
    inner = {"user": "ann", "password": "hunter2hunter2"}
    for times in (1, 2, 3):
        value: object = inner
        for _ in range(times):
            value = json.dumps(value)
        out, where = run({"payload": {"data": value}})
        assert isinstance(out, dict)
        text = out["payload"]["data"]
        for _ in range(times):
            text = json.loads(text)
        assert text == {"user": "ann", "password": PSEUDO("hunter2hunter2")}, times
        assert where == ["response.body$.payload.data.password"]


def test_name_value_pair_objects() -> None:
    doc = [
        {"name": "DB_PASSWORD", "value": "s3cret-db-pass"},
        {"field": "api_key", "Value": "k-1234567890"},
        {"Name": "X-Auth-Token", "Value": "t-1234567890"},
        {"name": "DB_HOST", "value": "db.internal"},
    ]
    out, where = run(doc)
    assert out == [
        {"name": "DB_PASSWORD", "value": PSEUDO("s3cret-db-pass")},
        {"field": "api_key", "Value": PSEUDO("k-1234567890")},
        {"Name": "X-Auth-Token", "Value": PSEUDO("t-1234567890")},
        {"name": "DB_HOST", "value": "db.internal"},
    ]
    assert where == [
        "response.body$[0].value",
        "response.body$[1].Value",
        "response.body$[2].Value",
    ]


def test_lists_of_name_value_pairs() -> None:
    doc = {
        "headers": [["Accept", "*/*"], ["Authorization", "Bearer abcdef123456"]],
        "env": [["DB_PASSWORD", "s3cret-db-pass"], ["DB_HOST", "db.internal"]],
    }
    out, where = run(doc)
    assert out == {
        "headers": [["Accept", "*/*"], ["Authorization", PSEUDO("Bearer abcdef123456")]],
        "env": [["DB_PASSWORD", PSEUDO("s3cret-db-pass")], ["DB_HOST", "db.internal"]],
    }
    assert where == ["response.body$.headers[1][1]", "response.body$.env[0][1]"]


def test_a_list_that_is_not_all_pairs_keeps_its_names() -> None:
    doc = {"required": ["password", "email"], "sort": [["pin", "asc"], "name"]}
    out, where = run(doc)
    assert out == doc
    assert where == []


def test_plural_names_that_hold_secrets_but_not_counts() -> None:
    doc = {
        "passwords": ["old-pass-1", "old-pass-2"],
        "apiKeys": {"live": "k-1234567890"},
        "max_tokens": 256,
        "tokens": 1024,
        "keys": ["id", "name"],
    }
    out, where = run(doc)
    assert out == {
        "passwords": [PSEUDO("old-pass-1"), PSEUDO("old-pass-2")],
        "apiKeys": {"live": PSEUDO("k-1234567890")},
        "max_tokens": 256,
        "tokens": 1024,
        "keys": ["id", "name"],
    }
    assert where == [
        "response.body$.passwords[0]",
        "response.body$.passwords[1]",
        "response.body$.apiKeys.live",
    ]


def test_graphql_variables_bound_to_secret_arguments() -> None:
    doc = {
        "query": "mutation L($p: String!, $u: String!) { login(user: $u, password: $p) { ok } }",
        "variables": {"p": "hunter2hunter2", "u": "ann"},
    }
    out, where = run(doc)
    assert isinstance(out, dict)
    assert out["variables"] == {"p": PSEUDO("hunter2hunter2"), "u": "ann"}
    assert where == ["response.body$.variables.p"]


def test_any_whitespace_before_the_colon() -> None:
    c = Context(Policy.build(), PSEUDO)
    text = '{"password"' + " " * 40 + ': "hunter2hunter2", "n": 1}'
    out = sanitize_json(text, c, "request.body")
    assert out is not None and "hunter2hunter2" not in out


def test_a_location_never_holds_a_key_that_is_a_value() -> None:
    out, where = run({"users": {"ann@example.com": {"password": "hunter2hunter2"}}})
    assert out == {"users": {PSEUDO("ann@example.com"): {"password": PSEUDO("hunter2hunter2")}}}
    assert where == [
        "response.body$.users",
        f'response.body$.users["{PSEUDO("ann@example.com")}"].password',
    ]


# -- walking only where something can change ----------------------------------------


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


def test_a_detector_finds_a_value_after_an_escaped_blank() -> None:
    """In the text a card after "\\n" reads "n4111...": the scope is told as it reads."""
    for value, secret in [
        ("x\n4111111111111111", "4111111111111111"),
        ("call\t+14155552671", "14155552671"),
        ("Bearer\tabcdefghijklmnop", "abcdefghijklmnop"),
    ]:
        c = Context(Policy.build(), PSEUDO)
        out = sanitize_json(json.dumps({"a": value, "n": 1}), c, "b")
        assert out is not None and secret not in out
        assert list(c.redactions) == ["b$.a"]


def test_json_in_a_string_with_escapes_of_its_own_is_read() -> None:
    inner = json.dumps({"note": "x\n4111111111111111", "mail": "ann@example.com"})
    hidden = json.dumps({"to": "ann@example.com"}, ensure_ascii=False).replace("@", "\\u0040")
    for doc in ({"payload": inner}, {"payload": hidden, "name": "Zoë"}):
        text = json.dumps(doc)  # ensure_ascii: the second one spells "ë" with \\u too
        c = Context(Policy.build(), PSEUDO)
        out = sanitize_json(text, c, "b")
        assert out is not None
        decoded = json.loads(json.loads(out)["payload"])
        assert "ann@example.com" not in json.dumps(decoded)
        assert "4111111111111111" not in json.dumps(decoded)


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


def test_a_list_of_pairs_with_one_secret_name() -> None:
    pairs = [[f"X-Header-{i}", f"v{i}"] for i in range(2000)] + [["Authorization", "abc123def"]]
    out, where = run({"headers": pairs})
    assert isinstance(out, dict)
    assert out["headers"][:2000] == pairs[:2000]
    assert out["headers"][2000] == ["Authorization", PSEUDO("abc123def")]
    assert where == ["response.body$.headers[2000][1]"]


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
