"""A Cookie or Set-Cookie line held in a JSON document, in a flat header list or a
name/value pair object, is read as the header is (jsonwalk.py, cookies.py)."""

from __future__ import annotations

import json

import pytest

from shadowtape.sanitize import Sanitizer
from tests.sanitize.posted import posted

SANITIZER = Sanitizer(key=b"k")


def _stored(document: object) -> tuple[object, tuple[str, ...]]:
    out = SANITIZER.sanitize(posted(json.dumps(document), "application/json"))
    return json.loads(out.request.body), out.redactions


@pytest.mark.parametrize(
    "document",
    [
        {"headers": ["Cookie", "theme=dark; uid=abcdef123456"]},
        {"req": {"rawHeaders": ["Set-Cookie", "uid=abcdef123456; Path=/; HttpOnly"]}},
        {"headers": [{"name": "Cookie", "value": "theme=dark; uid=abcdef123456"}]},
        {"headers": [{"name": "set-cookie", "value": "uid=abcdef123456; Path=/"}]},
        {"name": "COOKIE", "value": "uid=abcdef123456"},
    ],
    ids=["flat Cookie", "flat Set-Cookie", "pair Cookie", "pair set-cookie", "one pair"],
)
def test_each_cookie_value_is_replaced_and_its_name_kept(document: object) -> None:
    stored, redactions = _stored(document)
    text = json.dumps(stored)
    assert "abcdef123456" not in text
    assert "uid=" in text and redactions
    assert ("Path=/" in text) == ("Path=/" in json.dumps(document))


def test_lists_and_pairs_naming_other_things_are_kept() -> None:
    document = {
        "tags": ["Cookie", "recipe", "Cake"],  # odd length: not a header list
        "menu": ["cookie jar", "chocolate=dark"],  # not a header name
        "pairs": [{"name": "cookie_policy", "value": "strict=yes"}],
    }
    stored, redactions = _stored(document)
    assert stored == document and redactions == ()
