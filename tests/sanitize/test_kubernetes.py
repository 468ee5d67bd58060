"""Kubernetes Secrets: every value of ``data`` and ``stringData``, whatever its key, in
JSON (jsonwalk.py) and in YAML (kubeyaml.py)."""

from __future__ import annotations

import json

import pytest

from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.kubeyaml import secret_values
from tests.sanitize.served import served, stored

SANITIZER = Sanitizer(key=b"k")
DOCKER = "eyJhdXRocyI6eyJyZWcuaW8iOnsiYXV0aCI6IllXeHBZMlU2Y0hjPSJ9fX0="
URL = "cG9zdGdyZXM6Ly9ib2I6aHVudGVyMkBkYi9hcHA="
CERT = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJ="


def _stored(body: str, content_type: str) -> str:
    return stored(SANITIZER, served(body, content_type))


def _secret(**extra: object) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "registry", "namespace": "app"},
        "type": "Opaque",
        "data": {".dockerconfigjson": DOCKER, "DB_URL": URL, "tls.crt": CERT},
        "stringData": {"conn": "Server=db;User=app;Pwd=plainly"},
        **extra,
    }


@pytest.mark.parametrize(
    "document",
    [
        _secret(),
        {"kind": "List", "items": [_secret(), {"kind": "ConfigMap", "data": {"a": "b"}}]},
        # The API leaves ``kind`` out of the items of a list.
        {"kind": "SecretList", "items": [{k: v for k, v in _secret().items() if k != "kind"}]},
        [_secret()],
    ],
    ids=["Secret", "List", "SecretList", "array"],
)
def test_every_value_of_a_secret_in_json_is_replaced(document: object) -> None:
    stored = _stored(json.dumps(document), "application/json")
    for value in (DOCKER, URL, "plainly"):
        assert value not in stored
    assert CERT in stored  # a certificate is public
    assert '"registry"' in stored and '"Opaque"' in stored


def test_a_config_map_and_other_kinds_keep_their_data() -> None:
    doc = {"kind": "ConfigMap", "data": {"mode": "fast-lane-1", "DB_HOST": "db.internal"}}
    assert json.loads(_stored(json.dumps(doc), "application/json")) == doc
    named = {"kind": "Deployment", "data": {"mode": "fast-lane-1"}, "note": "kind Secret"}
    assert json.loads(_stored(json.dumps(named), "application/json")) == named


YAML = f"""apiVersion: v1
items:
- apiVersion: v1
  data:
    .dockerconfigjson: {DOCKER}
    tls.crt: {CERT}
    key: |
      bGluZTFsaW5lMQ==
      bGluZTJsaW5lMg==
  kind: Secret
  metadata:
    name: registry
  type: kubernetes.io/dockerconfigjson
- apiVersion: v1
  data:
    mode: fast-lane-1
  kind: ConfigMap
kind: List
---
kind: "Secret"
stringData:
  DB_URL: postgres://bob:plainly@db/app
metadata:
  name: db
"""


def test_every_value_of_a_secret_in_yaml_is_replaced() -> None:
    stored = _stored(YAML, "application/yaml")
    for value in (DOCKER, "bGluZTFsaW5lMQ", "bGluZTJsaW5lMg", "plainly"):
        assert value not in stored
    for kept in (CERT, "mode: fast-lane-1", "name: registry", "name: db", "kind: List"):
        assert kept in stored
    assert stored.count("\n") == YAML.count("\n")


def test_yaml_data_of_another_kind_is_kept() -> None:
    text = "kind: ConfigMap\ndata:\n  mode: fast-lane-1\n---\nkind: Secret\nmetadata:\n  x: y\n"
    assert _stored(text, "application/yaml") == text
    assert list(secret_values(text, lambda units: None)) == []


def test_a_block_value_is_read_whole() -> None:
    text = "kind: Secret\ndata:\n  a: |\n    one\n    two\n  b: x\n"
    spans = [text[s:e] for s, e in secret_values(text, lambda units: None)]
    assert spans == ["\n    one\n    two", "x"]
