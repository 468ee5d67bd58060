"""Volatile shapes: values that may be regenerated on every response."""

from __future__ import annotations

from shadowtape.diff.volatile import both_volatile


def test_same_volatile_shape_on_both_sides() -> None:
    assert both_volatile(
        "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "6fa459ea-ee8a-3ca4-894e-db77e160355e"
    )
    assert both_volatile("2026-11-21T21:30:00Z", "2026-11-21T21:31:07.123+00:00")
    assert both_volatile("Sat, 21 Nov 2026 21:30:00 GMT", "Sat, 21 Nov 2026 21:31:00 GMT")
    assert both_volatile("aZ3kP9qL0xW2vB7n", "Qm4rT8yU1iO5pA6s")
    assert both_volatile(1763760600, 1763760601)


def test_ordinary_values_are_not_volatile() -> None:
    assert not both_volatile("Hello, user 7", "Hi, user 7")
    assert not both_volatile("1b4e28ba-2fa1-11d2-883f-0016d3cca427", "2026-11-21")
    assert not both_volatile(9.99, 10.99)
    assert not both_volatile("passwordpassword", "swordfishswordfi")
    assert not both_volatile(True, False)


def test_random_tokens_without_digits_and_words_in_camel_case() -> None:
    assert both_volatile("kQhZuTrWxAbPnMeLsDfGyVcJ", "ZpLmNbQwErTyUiOpAsDfGhJk")
    assert not both_volatile("ApplicationJsonType", "ApplicationXmlzType")


def test_a_token_that_happens_to_look_like_a_word_beside_a_clear_token() -> None:
    assert both_volatile("kQhZuTrWxAbPnMeLsDfGyVcJ", "abcdefghijklmnopqrstuvwx")
    assert not both_volatile("abcdefghijklmnopqrstuvwx", "zyxwvutsrqponmlkjihgfedc")


def test_text_lines_that_differ_only_in_volatile_parts() -> None:
    from shadowtape.diff.volatile import same_but_volatile_text

    a = "<p>Rendered at 2026-11-21T21:30:00Z for request 1b4e28ba-2fa1-11d2-883f-0016d3cca427</p>"
    b = (
        "<p>Rendered at 2026-11-21T21:31:07.5+00:00 for request "
        "6fa459ea-ee8a-3ca4-894e-db77e160355e</p>"
    )
    assert same_but_volatile_text(a, b)
    assert not same_but_volatile_text(a, b.replace("Rendered", "Built"))
    assert not same_but_volatile_text("status: stable", "status: beta")
