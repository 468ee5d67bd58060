"""Storage paths under ``key``-like names stay in responses; API keys there are still
replaced, and so is anything a client sends there.

An object store's listing (``<Key>photos/2024/beach.jpg</Key>``), a ``storage_key`` or an
error code name where a file is, not a credential (constants.object_path). Each case
holds a path and a real secret under the same kind of name: the path is kept byte for
byte, the secret is replaced. In a request a path-shaped value is replaced too: a client
may send a password shaped like one (``hunter2/hunter2``).
"""

from __future__ import annotations

import base64
import json
import random
import string
from urllib.parse import quote, unquote

import pytest

from shadowtape import Exchange, Request
from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.constants import object_path
from shadowtape.sanitize.sanitizer import DROPPED_FOR_DENSITY, DROPPED_FOR_REDACTIONS
from tests.sanitize.posted import posted
from tests.sanitize.served import served

SANITIZER = Sanitizer(key=b"object-paths")
PATH = "uploads/2024/07/a1b2c3.png"
#: AWS's documented example secret access key: base64 with "/", no prefix to detect.
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
HEX_KEY = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def _multipart(fields: list[tuple[str, str]]) -> str:
    parts = [
        f'--XX\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields
    ]
    return "".join(parts) + "--XX--\r\n"


#: Each format the name rules read: a body holding PATH and SECRET under key-like names.
CARRIERS = {
    "JSON key": ('[{{"key": "{p}"}}, {{"key": "{s}"}}]', "application/json"),
    "JSON storage_key": ('{{"storage_key": "{p}", "hmac_key": "{s}"}}', "application/json"),
    "S3 XML listing": (
        "<ListBucketResult><Contents><Key>{p}</Key></Contents>"
        "<Contents><Key>{s}</Key></Contents></ListBucketResult>",
        "application/xml",
    ),
    "JSON cut short": ('{{"storage_key": "{p}", "key": "{s}", "cut', "application/json"),
    "YAML": ("storage_key: {p}\nsigning_key: {s}\n", "application/yaml"),
    ".env": ("STORAGE_KEY={p}\nHMAC_KEY={s}\n", "text/plain"),
    "CSV": ("name,key\nbeach,{p}\naws,{s}\n", "text/csv"),
    "form": ("key={pq}&acl=private&key={sq}", "application/x-www-form-urlencoded"),
    "multipart": (
        _multipart([("key", "{p}"), ("acl", "private"), ("storage_key", "{s}")]),
        "multipart/form-data; boundary=XX",
    ),
}


@pytest.mark.parametrize("secret", [AWS_SECRET, HEX_KEY], ids=["aws secret", "hex"])
@pytest.mark.parametrize("carrier", list(CARRIERS))
def test_a_path_under_a_key_stays_and_a_secret_beside_it_goes(carrier: str, secret: str) -> None:
    template, content_type = CARRIERS[carrier]
    body = template.format(p=PATH, s=secret, pq=quote(PATH, safe=""), sq=quote(secret, safe=""))
    out = SANITIZER.sanitize(served(body, content_type))
    assert out.response is not None
    stored = out.response.body.decode()
    assert PATH in stored or quote(PATH, safe="") in stored
    assert secret not in stored and quote(secret, safe="") not in stored
    assert out.redactions


@pytest.mark.parametrize("value", [PATH, "hunter2/hunter2", "2fa/123456"])
@pytest.mark.parametrize("carrier", list(CARRIERS))
def test_a_path_shaped_value_a_client_sends_under_a_key_is_replaced(
    carrier: str, value: str
) -> None:
    template, content_type = CARRIERS[carrier]
    body = template.format(p=value, s=AWS_SECRET, pq=quote(value, safe=""), sq="x")
    out = SANITIZER.sanitize(posted(body, content_type))
    stored = out.request.body.decode()
    assert value not in stored and quote(value, safe="") not in stored


def test_the_issue_cases_are_kept_byte_for_byte() -> None:
    listing = (
        "<ListBucketResult><Contents><Key>photos/2024/beach.jpg</Key><Size>1</Size>"
        "</Contents></ListBucketResult>"
    )
    for body, content_type in (
        (listing, "application/xml"),
        ('{"storage_key": "uploads/2024/07/a1b2c3.png"}', "application/json"),
    ):
        out = SANITIZER.sanitize(served(body, content_type))
        assert out.response is not None
        assert (out.response.body.decode(), out.redactions) == (body, ())


def test_a_key_path_a_client_sends_in_the_query_is_replaced() -> None:
    query = f"key={quote(PATH, safe='')}&other_key={quote(AWS_SECRET, safe='')}"
    out = SANITIZER.sanitize(Exchange(request=Request("GET", "h.test", path="/", query=query)))
    assert quote(PATH, safe="") not in out.request.query
    assert quote(AWS_SECRET, safe="") not in out.request.query


def test_a_graphql_key_variable_a_client_sends_is_replaced_even_shaped_as_a_path() -> None:
    query = "query($k: String!, $s: String!) {object(key: $k, sign_key: $s) {size}}"
    variables = {"k": "hunter2/hunter2", "s": AWS_SECRET}
    raw = f"query={quote(query, safe='')}&variables={quote(json.dumps(variables), safe='')}"
    out = SANITIZER.sanitize(Exchange(request=Request("GET", "h.test", path="/gql", query=raw)))
    stored = json.loads(unquote(out.request.query.split("&variables=")[1]))
    assert stored["k"] != "hunter2/hunter2"
    assert stored["s"] != AWS_SECRET and len(stored["s"]) == len(AWS_SECRET)


def test_a_firebase_error_code_stays() -> None:
    body = '{"error": {"code": "auth/user-not-found", "message": "no such user"}}'
    out = SANITIZER.sanitize(served(body, "application/json"))
    assert out.response is not None and out.response.body.decode() == body


@pytest.mark.parametrize(
    "value",
    [
        "photos/2024/beach.jpg",
        "photos/2024/01/IMG_00042_a87ff679.jpg",
        "beach.jpg",
        "photos/",
        "/var/data/report.pdf",
        "logs/dt=2024-07-01/part-0000.parquet",
        "My Photos/Photo (1).jpg",
        "uploads/550e8400-e29b-41d4-a716-446655440000.png",
        "assets/icon@2x.png",
        "iPhone15/MacBook/Photo1.heic",
        "写真/海.jpg",
        "auth/user-not-found",
    ],
)
def test_object_paths(value: str) -> None:
    assert object_path(value)


@pytest.mark.parametrize(
    "value",
    [
        AWS_SECRET,
        HEX_KEY,
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "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",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc",
        "4/0AX4XfWh-oMsCeLvIaQm6bTrgtp7",  # a Google OAuth code
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----",
        "correct.horse.battery.staple",  # dots, but no file extension
        "abc/def==",  # base64 padding
        "/",
        "a//b",
        "/beach",
        # A token with a "/" after it is no folder (a folder is named by a word).
        "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6/",
        "JBSWY3DPEHPK3PXP/",
        "Summer2024/",
    ],
    ids=lambda v: v[:24],
)
def test_credentials_are_no_object_paths(value: str) -> None:
    assert not object_path(value)


def test_random_base64_keys_are_no_object_paths() -> None:
    """A base64 key of AWS's length (40) with "/" in it and no "+" (which no path holds)
    never reads as a path."""
    draw = random.Random(18)
    keys = [base64.b64encode(draw.randbytes(30)).decode() for _ in range(40_000)]
    slashed = [key for key in keys if "/" in key and "+" not in key]
    assert len(slashed) > 8_000
    assert [key for key in slashed if object_path(key)] == []


def _listing(keys: list[str]) -> Exchange:
    rows = "".join(
        f"<Contents><Key>{key}</Key><ETag>&quot;{i:032x}&quot;</ETag><Size>{i}</Size></Contents>"
        for i, key in enumerate(keys)
    )
    body = f'<?xml version="1.0"?>\n<ListBucketResult><Name>b</Name>{rows}</ListBucketResult>'
    return served(body, "application/xml")


def test_a_listing_of_a_thousand_path_keys_is_kept_whole() -> None:
    keys = [f"photos/2024/{i % 12 + 1:02d}/IMG_{i:05d}.jpg" for i in range(1000)]
    exchange = _listing(keys)
    out = SANITIZER.sanitize(exchange)
    assert out.response is not None and exchange.response is not None
    assert out.redactions == ()
    assert out.response.body == exchange.response.body


def test_a_listing_of_opaque_keys_has_every_key_replaced() -> None:
    draw = random.Random(18)
    alphabet = string.ascii_letters + string.digits
    keys = ["".join(draw.choices(alphabet, k=40)) for _ in range(200)]
    out = SANITIZER.sanitize(_listing(keys))
    assert out.response is not None
    stored = out.response.body.decode()
    assert out.redactions == ("response.body.text:field",)
    assert not any(key in stored for key in keys)


def test_a_text_packed_with_kept_paths_is_still_too_dense() -> None:
    """Kept values ride free only as far as replaced ones do (the redaction limit)."""
    body = "<r>" + "<key>a/b.jpg</key>" * 20_000 + "</r>"
    out = SANITIZER.sanitize(served(body, "application/xml"))
    assert out.response is not None and out.response.body == b""
    assert out.redactions == (DROPPED_FOR_DENSITY.format("response"),)
    assert DROPPED_FOR_REDACTIONS.format("response", 1000) not in out.redactions
