"""One call's state: consistent pseudonyms, echo of secret values, locations not values."""

from __future__ import annotations

from shadowtape.sanitize.context import ECHO_MIN, EXACT_ECHO, Context
from shadowtape.sanitize.pseudonym import Pseudonymizer
from shadowtape.sanitize.rules import Policy

PSEUDO = Pseudonymizer(b"k")


def ctx() -> Context:
    return Context(Policy.build(), PSEUDO)


def test_secret_values_are_echoed_in_all_their_forms() -> None:
    c = ctx()
    assert c.secret("a+b/c=123", "request.cookie.sid") == PSEUDO("a+b/c=123")
    text = "raw a+b/c=123, quoted a%2Bb%2Fc%3D123, plus a%2Bb%2Fc%3D123"
    out = c.text(text, "response.body.text", kind=True)
    assert "a+b/c=123" not in out and "a%2Bb%2Fc%3D123" not in out
    assert "response.body.text:secret" in c.redactions


def test_short_values_are_replaced_in_place_but_not_echoed() -> None:
    c = ctx()
    short = "x" * (ECHO_MIN - 1)
    assert c.secret(short, "request.cookie.a") != short
    assert c.text(f"say {short}", "x") == f"say {short}"


def test_detected_values_keep_pseudonyms_consistent() -> None:
    c = ctx()
    first = c.text("ann@example.com", "a")
    assert c.text("mail ann@example.com", "b") == f"mail {first}"
    assert c.text(first, "c") == first  # a pseudonym is not pseudonymized again


def test_echo_only_mode_replaces_nothing_new() -> None:
    c = ctx()
    c.echo_only = True
    assert c.secret("hunter22", "x") == "hunter22"
    assert c.text("ann@example.com", "y") == "ann@example.com"
    assert not c.redactions


def test_with_many_secrets_echo_still_finds_each_one_anywhere() -> None:
    c = ctx()
    values = [f"tok{i:05d}secret" for i in range(EXACT_ECHO + 10)]
    for value in values:
        c.secret(value, "request.body$.t")
    text = f"a {values[0]} /s/{values[-1]}/x k={values[5]}== {values[7]}x"
    out = c.text(text, "response.body.text", kind=True)
    assert out == (
        f"a {PSEUDO(values[0])} /s/{PSEUDO(values[-1])}/x k={PSEUDO(values[5])}== "
        f"{PSEUDO(values[7])}x"
    )  # the last one is not a whole token: found all the same (this asserted a leak)
    assert c.echo_bytes(f"\x00{values[1]}\xff".encode("latin-1"), "b") == (
        f"\x00{PSEUDO(values[1])}\xff".encode("latin-1")
    )
