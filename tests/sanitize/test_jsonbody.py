"""JSON documents: any depth, numbers, keys, escapes, and the no-parse fast path."""

from __future__ import annotations

import json

import orjson

from shadowtape.sanitize.context import Context
from shadowtape.sanitize.detectors import luhn_ok
from shadowtape.sanitize.jsonbody import sanitize_json
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


def test_code_and_key_keep_error_codes_and_names_but_not_credentials() -> None:
    """``code`` and ``key`` are secret as whole names (an OAuth code, an API key), but
    most often hold an error code or a setting's name, which the diff must compare."""
    doc = {
        "error": {"code": "invalid_request", "status": {"code": 404}},
        "s3": {"Code": "NoSuchKey"},
        "setting": {"key": "theme"},
        "oauth": {"code": "SplxlOBeZQQYbYS6WxSbIA"},
        "otp": {"code": "042917"},
        "int_otp": {"code": 428917},
        "api": {"key": "AIzaSyD-9tSrke72PouQMnMX"},
        "nested": {"code": {"value": "x"}},
    }
    out, where = run(doc)
    assert isinstance(out, dict)
    assert out["error"] == doc["error"] and out["s3"] == doc["s3"]
    assert out["setting"] == doc["setting"]
    assert out["oauth"] == {"code": PSEUDO("SplxlOBeZQQYbYS6WxSbIA")}
    assert out["otp"] == {"code": PSEUDO("042917")}
    assert out["int_otp"] == {"code": PSEUDO.number(428917)}
    assert out["api"] == {"key": PSEUDO("AIzaSyD-9tSrke72PouQMnMX")}
    assert out["nested"] == {"code": {"value": PSEUDO("x")}}
    assert len(where) == 5


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


def test_escapes_beside_a_number_orjson_cannot_write() -> None:
    """The scope is taken from the document written back without escapes; beyond 64
    bits the standard library writes it (its numbers kept exact)."""
    text = '{"n": 123456789012345678901234567890, "to": "ann\\u0040example.com", "z": "Zo\\u00eb"}'
    c = Context(Policy.build(), PSEUDO)
    out = sanitize_json(text, c, "b")
    assert out is not None
    assert json.loads(out) == {
        "n": 123456789012345678901234567890,
        "to": PSEUDO("ann@example.com"),
        "z": "Zoë",
    }
