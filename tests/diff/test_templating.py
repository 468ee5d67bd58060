"""Endpoints templated from the traffic; user and OpenAPI routes take precedence."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shadowtape.diff.templating import Route, Templater, load_openapi, load_routes
from shadowtape.errors import ConfigError


def learned(paths: list[str], routes: list[Route] | None = None) -> Templater:
    t = Templater(routes or [])
    for p in paths:
        t.observe("GET", p)
    t.freeze()
    return t


@settings(deadline=None)
@given(st.integers(0, 10**12), st.uuids(), st.binary(min_size=8, max_size=20))
def test_ids_uuids_and_hex_become_parameters(n: int, u: uuid.UUID, raw: bytes) -> None:
    t = learned([])
    assert t.route("GET", f"/api/users/{n}/greeting") == "/api/users/{id}/greeting"
    assert t.route("GET", f"/o/{u}/items/{n}") == "/o/{uuid}/items/{id}"
    assert t.route("GET", f"/blobs/a{raw.hex()}1") == "/blobs/{hex}"
    assert t.route("GET", f"/a/{n}/b/{n}") == "/a/{id}/b/{id2}"


def test_high_cardinality_segments_become_parameters_but_resource_names_do_not() -> None:
    slugs = [f"/articles/how-to-{word}" for word in ("bake", "sail", "code", "draw", "sing")]
    slugs += [f"/articles/the-{i}-things-to-know" for i in ("one", "two", "six", "ten")] * 1
    slugs += [f"/articles/story-{chr(97 + i)}{chr(98 + i)}" for i in range(20)]
    resources = [
        f"/api/{name}" for name in ("users", "items", "orders", "carts") for _ in range(10)
    ]
    t = learned(slugs + resources)
    assert t.route("GET", "/articles/how-to-bake") == "/articles/{param}"
    assert t.route("GET", "/api/users") == "/api/users"


def test_user_routes_win(tmp_path: Path) -> None:
    file = tmp_path / "routes.txt"
    file.write_text("# ours\nGET /api/users/{user_id}/greeting\n/api/v{version}/ping\n")
    t = learned(["/api/users/1/greeting"], load_routes(file))
    assert t.route("GET", "/api/users/1/greeting") == "/api/users/{user_id}/greeting"
    assert t.route("POST", "/api/users/1/greeting") == "/api/users/{id}/greeting"
    assert t.route("GET", "/api/v2/ping") == "/api/v{version}/ping"


def test_openapi_paths_and_base_path(tmp_path: Path) -> None:
    doc = {
        "openapi": "3.0.0",
        "servers": [{"url": "https://api.example.test/v1"}],
        "paths": {"/users/{id}": {"get": {}, "delete": {}, "parameters": []}},
    }
    file = tmp_path / "openapi.json"
    file.write_text(json.dumps(doc))
    routes = load_openapi(file)
    assert sorted((r.method, r.template) for r in routes) == [
        ("DELETE", "/v1/users/{id}"),
        ("GET", "/v1/users/{id}"),
    ]
    yaml_file = tmp_path / "openapi.yaml"
    yaml_file.write_text("openapi: 3.0.0\npaths:\n  /ping:\n    get: {}\n")
    assert [(r.method, r.template) for r in load_openapi(yaml_file)] == [("GET", "/ping")]


def test_bad_route_files_say_what_is_wrong(tmp_path: Path) -> None:
    file = tmp_path / "routes.txt"
    file.write_text("GET users\n")
    with pytest.raises(ConfigError, match="must start with '/'"):
        load_routes(file)
    with pytest.raises(ConfigError, match="cannot read"):
        load_routes(tmp_path / "missing.txt")
    bad = tmp_path / "api.json"
    bad.write_text('{"info": {}}')
    with pytest.raises(ConfigError, match="no 'paths'"):
        load_openapi(bad)


def test_hundreds_of_routes_keep_their_precedence() -> None:
    routes = [Route.parse(f"GET /api/r{i}/{{id}}") for i in range(300)]
    routes += [Route.parse("GET /api/r7/special"), Route.parse("/api/{anything}/x")]
    t = learned([], routes)
    assert t.route("GET", "/api/r250/9") == "/api/r250/{id}"
    assert t.route("GET", "/api/r7/special") == "/api/r7/special"
    assert t.route("DELETE", "/api/r7/x") == "/api/{anything}/x"
    assert t.route("DELETE", "/api/r7/9") == "/api/r7/{id}"
    assert {r.template for r in t.exercised} == {
        "/api/r250/{id}",
        "/api/r7/special",
        "/api/{anything}/x",
    }


def test_popular_id_like_segments_are_parameters_and_versions_are_not() -> None:
    from shadowtape.diff.templating import normalize_segment

    for segment in ("SKU-00088", "user_42", "INV-2024-0007", "a1b2", "order.17"):
        assert normalize_segment(segment) == "{id}", segment
    for segment in ("v2", "V10", "v1.2", "oauth2", "users", "s3", "greeting"):
        assert normalize_segment(segment) == segment, segment
