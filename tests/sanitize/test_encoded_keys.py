"""Private keys written base64-encoded whole, as a Kubernetes Secret's ``data`` holds a TLS
or SSH key: found by what they decode to, whatever key names them; certificates stay."""

from __future__ import annotations

import base64
import json

import pytest

from shadowtape import Exchange
from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.rules import Rules
from tests.sanitize.adversarial import _response_body

KEY = (
    "-----BEGIN {kind}PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
    "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
    "-----END {kind}PRIVATE KEY-----\n"
)
CERTIFICATE = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUF\n"
    "-----END CERTIFICATE-----\n"
)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def response(body: str, content_type: str) -> Exchange:
    """``GET`` of a Secret from the Kubernetes API, answered with ``body``."""
    return _response_body(content_type)(body)


def stored(exchange: Exchange, sanitizer: Sanitizer | None = None) -> bytes:
    out = (sanitizer or Sanitizer(key=b"k" * 32)).sanitize(exchange)
    assert out.response is not None
    return out.response.body


@pytest.mark.parametrize("kind", ["", "RSA ", "EC ", "OPENSSH ", "ENCRYPTED "])
def test_a_kubernetes_secret_loses_its_base64_key_and_keeps_its_certificate(kind: str) -> None:
    key, cert = b64(KEY.format(kind=kind)), b64(CERTIFICATE)
    manifest = {"kind": "Secret", "type": "kubernetes.io/tls"}
    manifest["data"] = {"tls.crt": cert, "tls.key": key, "ca": cert}  # type: ignore[assignment]
    body = stored(response(json.dumps(manifest), "application/json"))
    assert key.encode() not in body
    assert key[14:40].encode() not in body
    assert body.count(cert.encode()) == 2


def test_a_wrapped_base64_key_in_yaml_is_replaced_whole() -> None:
    key = base64.encodebytes(KEY.format(kind="RSA ").encode()).decode()  # 76-column lines
    lines = "".join(f"    {line}\n" for line in key.splitlines())
    # Not a Secret (whose every data value is replaced): the key is found by its shape.
    yaml = f"kind: ConfigMap\ndata:\n  server-cert-bundle: |\n{lines}  other: x\n"
    body = stored(response(yaml, "application/yaml")).decode()
    for line in key.splitlines():
        assert line not in body
    assert body.endswith("  other: x\n")


def test_json_escaped_line_breaks_do_not_end_the_key() -> None:
    key = base64.encodebytes(KEY.format(kind="").encode()).decode()
    body = stored(response(json.dumps({"blob": key}), "application/json")).decode()
    for line in key.splitlines():
        assert line not in body


def test_the_rules_file_turns_it_off_with_the_other_private_keys() -> None:
    key = b64(KEY.format(kind=""))
    rules = Rules(disabled_detectors=frozenset({"private_key"}))
    sanitizer = Sanitizer(b"k" * 32, rules)
    body = stored(response(json.dumps({"blob": key}), "application/json"), sanitizer)
    assert key.encode() in body
