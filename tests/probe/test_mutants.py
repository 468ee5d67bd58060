"""The shapes probe's mutants: parameters found, edge values by kind, one change each,
values the recording reached left out, the cap, a deterministic order."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from shadowtape.probe.mutants import LONG, MISSING, STRINGS, Mutant, mutants, parameters
from shadowtape.probe.sample import Seed


def seed(path: str, query: str = "", body: bytes = b"", method: str = "GET", n: int = 0) -> Seed:
    return Seed(f"e{n}", method, "api.prod.test", path, query, (), body)


USERS = [
    seed("/api/users/3", "page=1&q=ada", n=1),
    seed("/api/users/4", "page=2&q=bob", n=2),
]
ORDER = seed("/api/orders", body=b'{"sku":1,"customer":{"name":"ada","tags":["a"]},"ok":true}', n=3)


def by_parameter(made: list[Mutant]) -> dict[str, list[Mutant]]:
    out: dict[str, list[Mutant]] = {}
    for m in made:
        out.setdefault(m.parameter.label, []).append(m)
    return out


def test_query_path_and_body_parameters_are_found_in_first_appearance() -> None:
    labels = [p.parameter.label for p in parameters("GET /api/users/{id}", USERS)]
    assert labels == ["path id", "query page", "query q"]
    body = [p.parameter.label for p in parameters("POST /api/orders", [ORDER])]
    assert body == [
        "body sku",
        "body customer",
        "body customer.name",
        "body customer.tags",
        "body ok",
    ]


def test_numbers_go_past_the_largest_seen_and_to_the_edges() -> None:
    pages = by_parameter(mutants("GET /api/users/{id}", USERS, 100))["query page"]
    assert [m.value for m in pages] == [3, 102, 0, -1, 2**31, 2**63]
    assert pages[0].why == "past the last page seen (2)"
    assert pages[0].seed.query == "page=3&q=ada"
    assert pages[0].shown == "page=3"
    ids = by_parameter(mutants("GET /api/users/{id}", USERS, 100))["path id"]
    assert ids[0].why == "past the largest seen (4)" and ids[0].seed.path == "/api/users/5"


def test_strings_get_empty_long_non_ascii_mixed_script_and_emoji() -> None:
    names = by_parameter(mutants("GET /api/users/{id}", USERS, 100))["query q"]
    values = [m.value for m in names]
    assert values[:2] == ["", "x" * LONG]
    assert {"Łukasz", "Ærøskøbing", "\u2160van", "مرحبا"} <= set(values)
    lukasz = next(m for m in names if m.value == "Łukasz")
    assert lukasz.seed.query == "page=1&q=%C5%81ukasz"
    assert names[1].shown == f"q=xxxxxxxxxxxx…({LONG:,} characters)"


def test_body_fields_also_get_null_empty_containers_and_missing() -> None:
    made = by_parameter(mutants("POST /api/orders", [ORDER], 100))
    sku = made["body sku"]
    assert [m.value for m in sku][-4:] == [None, [], {}, MISSING]
    missing = json.loads(sku[-1].seed.body)
    assert "sku" not in missing and missing["customer"] == {"name": "ada", "tags": ["a"]}
    nested = json.loads(made["body customer.name"][0].seed.body)
    assert nested == {"sku": 1, "customer": {"name": "", "tags": ["a"]}, "ok": True}
    # A value the recording has is not an edge: the array is never emptied to itself.
    assert [m.value for m in made["body ok"]] == [None, [], {}, MISSING]


def test_each_mutant_changes_one_thing() -> None:
    for m in mutants("GET /api/users/{id}", USERS, 100):
        origin = m.origin
        changed = (m.seed.path != origin.path) + (m.seed.query != origin.query)
        assert changed == 1 and m.seed.body == origin.body and m.seed.method == origin.method


def test_the_cap_keeps_every_parameters_first_values_in_a_stable_order() -> None:
    made = mutants("GET /api/users/{id}", USERS, 4)
    assert [(m.parameter.label, m.value) for m in made] == [
        ("path id", 5),
        ("query page", 3),
        ("query q", ""),
        ("path id", 104),
    ]
    assert made == mutants("GET /api/users/{id}", USERS, 4)


def test_a_request_without_parameters_has_no_mutants() -> None:
    assert mutants("GET /health", [seed("/health")], 40) == []
    assert mutants("POST /upload", [seed("/upload", body=b"\x00binary", method="POST")], 40) == []


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=5),
        st.one_of(st.integers(), st.text(max_size=5), st.none(), st.booleans()),
        max_size=4,
    ),
    st.integers(min_value=1, max_value=60),
)
def test_every_mutant_body_is_json_and_the_cap_holds(doc: dict[str, object], cap: int) -> None:
    made = mutants("POST /x", [seed("/x", body=json.dumps(doc).encode(), method="POST")], cap)
    assert len(made) <= cap
    for m in made:
        changed = json.loads(m.seed.body)
        assert isinstance(changed, dict)
        assert sum(changed.get(k, MISSING) != v for k, v in doc.items()) <= 1


def test_a_number_too_long_to_be_a_quantity_is_mutated_as_a_string() -> None:
    # 5,000 digits: past int()'s conversion limit; a numeric token, not a quantity.
    made = mutants(
        "GET /lookup",
        [seed("/lookup", "ref=" + "7" * 5000, n=1), seed("/lookup", "ref=12", n=2)],
        40,
    )
    assert [m.why for m in made] == [why for _, why in STRINGS]
    path = mutants("GET /cards/{id}", [seed("/cards/" + "4" * 5000)], 40)
    assert {m.why for m in path} == {why for _, why in STRINGS}
    # In a body a huge integer keeps its JSON edges only, and a deep body is not JSON.
    body = b'{"n":' + b"9" * 4000 + b"}"
    made = mutants("POST /x", [seed("/x", body=body, method="POST")], 40)
    assert [m.why for m in made] == [
        "null",
        "an empty array",
        "an empty object",
        "the field missing",
    ]
    deep = b"[" * 100_000 + b"]" * 100_000
    assert mutants("POST /y", [seed("/y", body=deep, method="POST")], 40) == []
