"""Names a security review found leaking (issue 18): each in every format, and the
ordinary names that must stay ordinary.

Every secret name is planted with an opaque value in JSON, a form body, a query string,
``.env``-style text and YAML text, and the value must be gone from every field of the
sanitized exchange; every ordinary name keeps its value in the same places.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import quote

import pytest

from shadowtape import ErrorKind, Exchange, ExchangeError, Request, Response
from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.names import NameMatcher, words
from shadowtape.sanitize.rules import SECRET_FIELDS

SANITIZER = Sanitizer(key=b"names-review-key-0123456789abcdef")
DEFAULT = NameMatcher(SECRET_FIELDS)
VALUE = "Qx7Lm2Pz9Wk4Rt8Yv3Nb"


def _request(
    body: str = "", ctype: str | None = None, *, query: str = "", method: str = "POST"
) -> Exchange:
    data = body.encode()
    headers = (("Content-Type", ctype),) if ctype else ()
    return Exchange(
        request=Request(
            method, "api.test", path="/", query=query, headers=headers, body=data,
            body_size=len(data),
        ),
        response=Response(200, headers=(), body=b"", body_size=0),
    )  # fmt: skip


def _reason(text: str) -> Exchange:
    request = Request("GET", "api.test", path="/", headers=(), body=b"", body_size=0)
    return Exchange(request=request, response=Response(401, reason=text, headers=()))


def _error(text: str) -> Exchange:
    request = Request("GET", "api.test", path="/", headers=(), body=b"", body_size=0)
    return Exchange(request=request, error=ExchangeError(ErrorKind.OTHER, text))


CARRIERS: dict[str, Callable[[str, str], Exchange]] = {
    "json": lambda n, v: _request(
        json.dumps({"data": {n: v}}, ensure_ascii=False), "application/json"
    ),
    "form": lambda n, v: _request(
        f"a=1&{quote(n)}={quote(v)}", "application/x-www-form-urlencoded"
    ),
    "query": lambda n, v: _request(query=f"a=1&{quote(n)}={quote(v)}", method="GET"),
    "env": lambda n, v: _request(f"A=1\n{n}={v}\nB=2\n", "text/plain"),
    "yaml": lambda n, v: _request(f"a: 1\n{n}: {v}\nb: 2\n", "application/yaml"),
    "reason": lambda n, v: _reason(f"Invalid {n}={v}"),
    "error": lambda n, v: _error(f"upstream said: {n}={v}"),
}


def _texts(exchange: Exchange) -> list[str]:
    request, response = exchange.request, exchange.response
    out = [request.path, request.query, request.body.decode("utf-8", "replace")]
    out += [value for _, value in request.headers]
    if response is not None:
        out += [response.reason, response.body.decode("utf-8", "replace")]
    if exchange.error is not None:
        out.append(exchange.error.message)
    out += exchange.redactions
    return out


def survives(name: str, carrier: str, value: str = VALUE) -> bool:
    """Is ``value``, planted under ``name`` in ``carrier``, still in the exchange?"""
    sanitized = SANITIZER.sanitize(CARRIERS[carrier](name, value))
    return any(value in text or quote(value) in text for text in _texts(sanitized))


#: Run-together names (1), <word>_key and <word>_code (2), a secret word followed by a
#: version or encoding word (3), split spellings (4), government identifiers (5) and
#: localised passwords (6).
SECRET_NAMES = [
    # 1. one word ending with a long secret word
    "accesstoken", "identitytoken", "clientsecret", "privatekey", "secretkey", "apitoken",
    "apikey", "csrfmiddlewaretoken", "PGPASSWORD", "authtoken", "refreshtoken",
    "sessionid", "clienttoken", "webhooksecret", "ssh-privatekey", "MYSQLPASSWORD",
    # 2. <word>_key and <word>_code
    "stripe_key", "hmac_key", "client_key", "app_key", "APP_KEY", "tls_key", "consumer_key",
    "consumerKey", "user_key", "signing_key", "encryption_key", "google_maps_key",
    "sms_code", "totp_code", "email_code", "login_code", "two_factor_code", "reset_code",
    "confirmation_code", "activation_code", "pairing_code", "device_code", "user_code",
    "verification_code", "otp_code", "invite_code", "tls.key", "client-key-data",
    # 3. a secret word, then a version or encoding word
    "SECRET_KEY_BASE", "private_key_pem", "api_key_v2", "secret_v2", "token_v1",
    "ses_smtp_password_v4", "signing_key_der", "private_key_jwk",
    # 4. split spellings
    "passPhrase", "pass-phrase", "pass_word", "creds", "SMTP_CREDS", "ccv", "cc_number",
    "card_pan",
    # 5. government identifiers
    "social_security_number", "national_id", "passport_number", "tax_id",
    # 6. localised passwords
    "Passwort", "Kennwort", "contraseña", "contrasena", "mot_de_passe", "motdepasse",
    "senha", "пароль", "密码", "パスワード", "wachtwoord", "hasło", "haslo", "lösenord",
    # 7. the last of the review list: peppers, one-time-password seeds, abbreviations,
    # CAPTCHA responses, RFC 8628's complete verification URI
    "pepper", "PEPPER", "PASSWORD_PEPPER", "otp_seed", "totp_seed", "mfa_seed", "cred",
    "DB_CRED", "g-recaptcha-response", "recaptcha_response", "h-captcha-response",
    "cf-turnstile-response", "captcha_token", "verification_uri_complete",
]  # fmt: skip

#: Text formats that read names as ASCII words: a name beyond ASCII is tried in JSON,
#: forms and queries (see docs/sanitizing.md).
_TEXT_CARRIERS = ("env", "yaml", "reason", "error")


@pytest.mark.parametrize(
    ("name", "carrier"),
    [
        (name, carrier)
        for name in SECRET_NAMES
        for carrier in CARRIERS
        if name.isascii() or carrier not in _TEXT_CARRIERS
    ],
)
def test_a_secret_name_loses_its_value_in_every_format(name: str, carrier: str) -> None:
    assert not survives(name, carrier)


#: Ordinary words that end with or hold a secret word, and <word>_key / <word>_code
#: names that identify something rather than prove it: their values stay.
ORDINARY_NAMES = [
    # words that merely contain a short secret word
    "tokens", "max_tokens", "keyboard", "monkey", "turkey", "hockey", "jockey", "whiskey",
    "donkey", "passport", "passenger", "bypass", "compass", "trespass", "postcode",
    "barcode", "zipcode", "encode", "decode", "unicode", "opcode", "countrycode",
    "token_type", "token_base_url", "secretary", "author",
    # <word>_code that names a category, a place or an outcome
    "status_code", "error_code", "country_code", "zip_code", "postal_code", "area_code",
    "currency_code", "language_code", "locale_code", "http_code", "response_code",
    "exit_code", "return_code", "region_code", "product_code", "color_code", "iata_code",
    "airport_code", "hs_code", "naics_code", "icd_code", "promo_code", "coupon_code",
    "discount_code", "referral_code", "reason_code", "decline_code", "state_code",
    "errorCode", "statusCode", "countryCode", "key_code", "source_code",
    # <word>_key that names a record, a place in a store or a public half
    "sort_key", "cache_key", "primary_key", "foreign_key", "partition_key", "row_key",
    "object_key", "s3_key", "idempotency_key", "public_key", "lookup_key", "group_key",
    "dedup_key", "map_key", "hash_key", "routing_key", "publishable_key", "site_key",
    "translation_key", "i18n_key", "LastEvaluatedKey", "ExclusiveStartKey", "sortKey",
    # flags about a secret, not the secret
    "has_password", "is_secret", "always-auth", "hasPassword", "isTokenValid",
    # identifiers left to user rules
    "date_of_birth", "dob", "birthdate", "parola",
    # public by design, a spice, a random seed, money, a token's metadata
    "salt", "password_salt", "bell_pepper", "pepper_type", "seed", "random_seed", "credit",
    "credit_limit", "jwt_expiry", "jwt_algorithm", "verification_uri", "response",
]  # fmt: skip


@pytest.mark.parametrize("carrier", ["json", "form", "query", "env"])
@pytest.mark.parametrize("name", ORDINARY_NAMES)
def test_an_ordinary_name_keeps_its_value(name: str, carrier: str) -> None:
    assert survives(name, carrier)


@pytest.mark.parametrize("name", ["has_password", "is_secret", "always-auth", "is_token"])
@pytest.mark.parametrize("carrier", ["form", "query", "env"])
def test_a_flag_about_a_secret_keeps_true_and_false(name: str, carrier: str) -> None:
    assert survives(name, carrier, "true")
    assert survives(name, carrier, "false")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("error_code", "invalid_grant"),
        ("device_code", "expired_token"),
        ("user_code", 404),
        ("stripe_key", "theme"),
        ("pepper", "black"),
        ("pepper", 2),
    ],
)
def test_a_constant_under_a_word_key_or_code_stays_in_json(name: str, value: object) -> None:
    body = json.dumps({name: value})
    sanitized = SANITIZER.sanitize(_request(body, "application/json"))
    assert json.loads(sanitized.request.body) == {name: value}


def test_an_oauth_device_answer_loses_both_codes() -> None:
    body = json.dumps(
        {
            "device_code": "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS",
            "user_code": "WDJB-MJHT",
            "verification_uri": "https://example.com/device",
            "expires_in": 1800,
        }
    )
    sanitized = SANITIZER.sanitize(_request(body, "application/json"))
    out = json.loads(sanitized.request.body)
    assert out["device_code"] != "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS"
    assert out["user_code"] != "WDJB-MJHT"
    assert out["verification_uri"] == "https://example.com/device"
    assert out["expires_in"] == 1800


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("accesstoken", ("access", "token")),
        ("PGPASSWORD", ("pg", "password")),
        ("privatekey", ("private", "key")),
        ("csrfmiddlewaretoken", ("csrfmiddleware", "token")),
        ("contraseña", ("contraseña",)),
        ("hasło", ("hasło",)),
        ("ПарольПользователя", ("пароль", "пользователя")),
        ("tokens", ("tokens",)),
        ("monkey", ("monkey",)),
    ],
)
def test_words_split_run_together_secret_words_and_keep_letters_beyond_ascii(
    name: str, expected: tuple[str, ...]
) -> None:
    assert words(name) == expected


@pytest.mark.parametrize("name", ["accesstoken", "stripe_key", "SECRET_KEY_BASE", "пароль"])
def test_the_cheap_checks_never_miss_a_new_secret_name(name: str) -> None:
    assert DEFAULT.matches(name)
    assert DEFAULT.may_match(name)
    assert DEFAULT.in_json_keys(json.dumps({name: "x"}, ensure_ascii=False))
