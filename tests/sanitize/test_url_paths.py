"""Request paths a security review found mishandled: a URL inside a path kept its
password, and a build's fingerprinted asset names were taken for tokens (the replay then
asked both builds for files that do not exist, hiding any asset regression)."""

from __future__ import annotations

import secrets

import pytest

from shadowtape.sanitize.context import Context
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy
from shadowtape.sanitize.urls import high_entropy, path

PSEUDO = Pseudonymizer(b"k")
POLICY = Policy.build()


def sanitized(text: str) -> str:
    return path(text, Context(POLICY, PSEUDO), "request.path")


@pytest.mark.parametrize(
    "asset",
    [
        "/assets/app.3f9a1c2b7d6e5f4a.js",
        "/assets/app-3f9a1c2b7d6e5f4a.css",
        "/_next/static/chunks/pages/_app-0c5e8a1b2d3f4a6b.js",
        "/static/js/vendors~main.8A3B2C1D9E0F1A2B.chunk.js",
        "/build/Runtime.0c5e8a1b2d3f4a6b.bundle.js",
    ],
)
def test_fingerprinted_asset_names_stay(asset: str) -> None:
    assert sanitized(asset) == asset


def test_a_token_file_name_keeps_its_extension() -> None:
    token = "aB3xQ9zzK2mP7vR4tY8uW1"
    assert sanitized(f"/f/{token}.png") == f"/f/{PSEUDO(token)}.png"
    assert sanitized(f"/reset/{token}.html") == f"/reset/{PSEUDO(token)}.html"


def test_random_url_safe_tokens_are_not_taken_for_asset_names() -> None:
    tokens = [secrets.token_urlsafe(size) for size in (16, 24, 32) for _ in range(1000)]
    assert sum(map(high_entropy, tokens)) / len(tokens) > 0.9
    for token in tokens:
        if high_entropy(token):
            assert token not in sanitized(f"/t/{token}.png")


@pytest.mark.parametrize("host", ["internal", "localhost:8080", "10.0.0.7", "db.corp.example"])
def test_a_url_inside_a_path_loses_its_userinfo(host: str) -> None:
    out = sanitized(f"/fetch/http://bob:Up8Kd3Vw7Qs2@{host}/x")
    assert "Up8Kd3Vw7Qs2" not in out and "bob" not in out
    assert out == f"/fetch/http://{PSEUDO('bob')}:{PSEUDO('Up8Kd3Vw7Qs2')}@{host}/x"


def test_an_at_sign_in_an_ordinary_path_stays() -> None:
    for text in ["/users/@alice/posts", "/v1/npm/@scope/pkg", "/mail/http:/x@y"]:
        assert sanitized(text) == text
