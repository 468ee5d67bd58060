"""Headers written into JSON as flat name/value lists and as pair objects (jsonwalk)."""

from __future__ import annotations

import json

import pytest

from shadowtape.sanitize import Sanitizer
from tests.sanitize.posted import posted

SANITIZER = Sanitizer(key=b"k")
BASIC = "Basic dXNlcjpTM2NyZXRQdzk="


def _sanitize(document: object) -> tuple[object, tuple[str, ...]]:
    out = SANITIZER.sanitize(posted(json.dumps(document), "application/json", path="/log"))
    return json.loads(out.request.body), out.redactions


def test_node_raw_headers_lose_their_credentials() -> None:
    raw = ["Host", "api.test", "Authorization", BASIC, "Cookie", "sid=abcdef123456; theme=dark"]
    raw += ["X-Api-Key", "k-9aa8s7d6f5", "Accept", "*/*"]
    stored, redactions = _sanitize({"req": {"rawHeaders": raw}})
    new = stored["req"]["rawHeaders"]  # type: ignore[index]
    text = json.dumps(new)
    for secret in ("dXNlcjpTM2NyZXRQdzk", "abcdef123456", "k-9aa8s7d6f5"):
        assert secret not in text
    assert new[0::2] == raw[0::2]  # every name kept
    assert new[1] == "api.test" and new[9] == "*/*"
    assert {f"request.body$.req.rawHeaders[{i}]" for i in (3, 5, 7)} <= set(redactions)


@pytest.mark.parametrize(
    "document",
    [
        {"required": ["password", "email"]},  # names of fields, not headers
        {"tags": ["a", "b", "c", "d"]},
        {"rawHeaders": ["Accept", "text/html", "Host", "api.test"]},
        {"words": ["Authorization", "is", "required", "here", "x"]},  # odd length
    ],
)
def test_other_lists_of_strings_are_kept(document: object) -> None:
    stored, redactions = _sanitize(document)
    assert stored == document
    assert redactions == ()


@pytest.mark.parametrize(
    ("item", "secret"),
    [
        ({"key": "Authorization", "value": BASIC}, "dXNlcjpTM2NyZXRQdzk"),
        ({"header": "X-Api-Key", "value": "k-9aa8s7d6f5"}, "k-9aa8s7d6f5"),
        ({"name": "Cookie", "value": "sid=abcdef123456"}, "abcdef123456"),
    ],
)
def test_header_pair_objects_lose_their_value(item: dict[str, str], secret: str) -> None:
    stored, _ = _sanitize({"headers": [item, {"key": "Accept", "value": "*/*"}]})
    assert secret not in json.dumps(stored)
    assert stored["headers"][1] == {"key": "Accept", "value": "*/*"}  # type: ignore[index]
