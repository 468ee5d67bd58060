"""Issue 18 coverage, property-based: secrets planted in text bodies (YAML, INI, .env,
properties, command lines, source code, HTML), XML, forms, multipart and CSV under any
name of the shared list, and token formats and PII in every carrier (text, JSON-escaped,
URL-encoded, HTML-escaped, XML, multipart file parts, CSV, binary, MessagePack), never
survive sanitizing, in any field of the exchange or its Arrow batch.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import msgpack  # type: ignore[import-untyped]
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shadowtape import Exchange, Request, Response
from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.names import normalise
from tests.sanitize.coverage_planted import named_values, pii, secret_names, token_formats
from tests.sanitize.planted import Secret, leaks

SANITIZER = Sanitizer(key=b"coverage-property-key")
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _exchange(body: bytes, content_type: str) -> Exchange:
    return Exchange(
        request=Request("POST", "api.test", path="/upload", body=b"", body_size=0),
        response=Response(
            200,
            "OK",
            headers=(("Content-Type", content_type),),
            body=body,
            body_size=len(body),
        ),
    )


def _multipart(name: str, content: str, *, filename: str = "", content_type: str = "") -> str:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = f"Content-Disposition: {disposition}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return f"--XyZ\r\n{head}\r\n{content}\r\n--XyZ--\r\n"


_MULTIPART = "multipart/form-data; boundary=XyZ"

#: Where a free-standing secret (a token format, PII) may be carried: (body, content type).
CARRIERS: dict[str, Callable[[str], tuple[bytes, str]]] = {
    "text": lambda s: (f"see {s} here\r\n".encode(), "text/plain"),
    "json-escaped": lambda s: (orjson.dumps({"note": f"see {s}\n"}), "application/json"),
    "broken json": lambda s: (orjson.dumps({"note": s})[:-2], "application/json"),
    "form (url-encoded)": lambda s: (
        f"a=1&note={quote_plus(s)}".encode(),
        "application/x-www-form-urlencoded",
    ),
    "html-escaped": lambda s: (f"<p>{html.escape(s)}</p>".encode(), "text/html"),
    "xml element": lambda s: (f"<a><note>{html.escape(s)}</note></a>".encode(), "application/xml"),
    "xml cdata": lambda s: (f"<a><note><![CDATA[{s}]]></note></a>".encode(), "text/xml"),
    "multipart file": lambda s: (
        _multipart("upload", f"x {s} y", filename="a.txt", content_type="text/plain").encode(),
        _MULTIPART,
    ),
    "csv": lambda s: (f'id,note\r\n1,"{s}"\r\n'.encode(), "text/csv"),
    "yaml": lambda s: (
        f"config:\n  note: {orjson.dumps(s).decode()}\n".encode(),
        "application/yaml",
    ),
}
#: Binary carriers: token formats only (PII is not looked for in binary bodies).
BINARY: dict[str, Callable[[str], tuple[bytes, str]]] = {
    "protobuf": lambda s: (
        b"\x08\x96\x01\x12" + bytes([len(s.encode()) & 0x7F]) + s.encode() + b"\x1a\x02\xff\xfe",
        "application/x-protobuf",
    ),
    "octet-stream file part": lambda s: (
        _multipart("upload", f"\x00\x01{s}\x02", filename="a.bin").encode("latin-1"),
        _MULTIPART,
    ),
    "msgpack": lambda s: (msgpack.packb({"note": s, "n": [1, 2]}), "application/msgpack"),
    "msgpack with bin": lambda s: (
        msgpack.packb({"note": s, "raw": b"\x00\xff"}, use_bin_type=True),
        "application/x-msgpack",
    ),
}


def _assert_no_leak(exchange: Exchange, secret: Secret) -> None:
    out = SANITIZER.sanitize(exchange)
    found = leaks(out, [secret])
    assert out.response is not None
    if html.escape(secret.text).encode() in out.response.body:
        found.append(f"{secret.kind}: HTML-escaped form survives")
    assert not found, found


@SETTINGS
@given(st.one_of(token_formats, pii), st.sampled_from(sorted(CARRIERS)))
def test_token_formats_and_pii_never_survive_in_text_carriers(
    planted: tuple[str, Secret], carrier: str
) -> None:
    text, secret = planted
    body, content_type = CARRIERS[carrier](text)
    _assert_no_leak(_exchange(body, content_type), secret)


@SETTINGS
@given(token_formats, st.sampled_from(sorted(BINARY)))
def test_token_formats_never_survive_in_binary_bodies(
    planted: tuple[str, Secret], carrier: str
) -> None:
    text, secret = planted
    body, content_type = BINARY[carrier](text)
    _assert_no_leak(_exchange(body, content_type), secret)


def _upper(name: str) -> str:
    """``apiKey`` -> ``API_KEY``, as environment variables are spelled."""
    return normalise(name).upper()


#: A quote escaped in a JavaScript string.
Q = '\\"'


def _escaped(name: str, value: str, quote: str) -> str:
    """A JSON object with its quotes written as ``quote`` (in HTML, in JavaScript)."""
    return f"{{{quote}id{quote}: 1, {quote}{name}{quote}: {quote}{value}{quote}}}"


def _identifier(name: str) -> str:
    """``db.password`` -> ``db_password``, as a variable or property in code."""
    return name.replace(".", "_").replace("-", "_")


#: Text formats that carry ``name``/``value`` pairs: (body, content type).
NAMED: dict[str, Callable[[str, str], tuple[str, str]]] = {
    "yaml crlf": lambda n, v: (f"db:\r\n  {n}: {v}\r\n  host: x\r\n", "application/yaml"),
    "yaml cr": lambda n, v: (f"db:\r  {n}: {v}\r  host: x\r", "text/plain"),
    "ini": lambda n, v: (f"[db]\n{n} = {v}\nhost = x\n", "text/plain"),
    ".env": lambda n, v: (f"export {_upper(n)}={v}\nOTHER=1\n", "text/plain"),
    "properties": lambda n, v: (f"app.name=x\n{n}={v}\n", "text/x-java-properties"),
    "flag =": lambda n, v: (f"app --{n}={v} --verbose", "text/plain"),
    "flag space": lambda n, v: (f"app --{n} {v} --verbose", "text/plain"),
    "java -D": lambda n, v: (f"java -D{n}={v} -jar app.jar", "text/plain"),
    "source double": lambda n, v: (f'const {_identifier(n)} = "{v}";', "application/javascript"),
    "source single": lambda n, v: (f"{_upper(n)}='{v}'", "text/x-python"),
    "yaml single-quoted": lambda n, v: (f"db:\n  {n}: '{v}'\n", "application/yaml"),
    "python dict": lambda n, v: (f"cfg = {{'{n}': '{v}', 'port': 5432}}", "text/x-python"),
    "php array": lambda n, v: (f"$cfg = ['{n}' => '{v}'];", "application/x-php"),
    "js object single": lambda n, v: (f"x = {{ {_identifier(n)}: '{v}', }};", "text/javascript"),
    "input unquoted": lambda n, v: (
        f"<form><input type=hidden name={n} value={v}></form>",
        "text/html",
    ),
    "input quoted": lambda n, v: (f'<input value="{v}" name="{n}">', "text/html"),
    "meta": lambda n, v: (f'<head><meta name="{n}" content="{v}"></head>', "text/html"),
    "xml element": lambda n, v: (f"<cfg><{n}>{v}</{n}></cfg>", "application/xml"),
    "xml attribute": lambda n, v: (f'<cfg><db {n}="{v}" host="x"/></cfg>', "application/xml"),
    "xml cdata": lambda n, v: (f"<cfg><{n}><![CDATA[{v}]]></{n}></cfg>", "application/xml"),
    "json in an html attribute": lambda n, v: (f'<p x="{_escaped(n, v, "&quot;")}">', "text/html"),
    "json in a js string": lambda n, v: (f'<script>f("{_escaped(n, v, Q)}")</script>', "text/html"),
    "plist": lambda n, v: (f"<dict><key>{n}</key><string>{v}</string></dict>", "text/xml"),
    "xml name/value elements": lambda n, v: (
        f"<param><name>{n}</name>\n  <value>{v}</value></param>",
        "application/xml",
    ),
    "xml key/value": lambda n, v: (
        f'<appSettings><add key="{n}" value="{v}"/></appSettings>',
        "application/xml",
    ),
    "form": lambda n, v: (
        f"user=bob&{quote_plus(n)}={quote_plus(v)}",
        "application/x-www-form-urlencoded",
    ),
    "multipart field": lambda n, v: (_multipart(n, v), _MULTIPART),
    "multipart file": lambda n, v: (
        _multipart("up", f"{n}: {v}\n", filename="c.yml", content_type="application/yaml"),
        _MULTIPART,
    ),
    "csv column": lambda n, v: (f"id,{n},note\r\n1,{v},x\r\n", "text/csv"),
    "json-escaped text": lambda n, v: (
        orjson.dumps({"config": f"{n}: {v}\r\n"}).decode(),
        "application/json",
    ),
}


@SETTINGS
@given(secret_names, named_values, st.sampled_from(sorted(NAMED)), st.booleans())
def test_named_values_never_survive_in_any_format(
    name: str, planted: tuple[str, Secret], format_: str, url_encoded: bool
) -> None:
    value, secret = planted
    if url_encoded and format_ not in ("form", "multipart field", "csv column"):
        value = quote(value, safe="")
        secret = Secret(secret.kind, value) if value != secret.text else secret
    if format_ in ("xml element", "xml cdata") and not name.replace("_", "").isalnum():
        name = "password"  # an element name holds no "." or "-" here
    body, content_type = NAMED[format_](name, value)
    _assert_no_leak(_exchange(body.encode(), content_type), secret)


def test_a_key_block_cut_by_the_body_cap_is_removed_from_its_begin_line() -> None:
    line = "MIIEpAIBAAKCAQEA7bq98s1xAbCdEfGh"
    body = (
        "config:\n  tls: |\n    -----BEGIN RSA PRIVATE KEY-----\n"
        f"    {line}\n    {line}\n    {line[:11]}"
    )
    exchange = _exchange(body.encode(), "application/yaml")
    cut = exchange.replace(
        response=dataclasses.replace(exchange.response, body_truncated=True, body_size=9999)
    )  # type: ignore[arg-type]
    out = SANITIZER.sanitize(cut)
    assert out.response is not None
    assert out.response.body.startswith(b"config:\n  tls: |\n    ")
    assert b"BEGIN RSA" not in out.response.body and line[:11].encode() not in out.response.body


def test_tags_go_through_the_sanitizer() -> None:
    exchange = _exchange(b"", "text/plain").replace(
        tags={"har.timings": '{"comment": "token=TagTok4718xq"}', "import.file": "a.har"}
    )
    out = SANITIZER.sanitize(exchange)
    assert "TagTok4718xq" not in out.tags["har.timings"]
    assert out.tags["import.file"] == "a.har" and "tags" in out.redactions
