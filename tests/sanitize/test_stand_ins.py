"""What stands where a secret would without being one: a label, a placeholder, a version.

An i18n file labels its password field (``"mot_de_passe": "Mot de passe"``), docs show
``mysql -pYOUR_PASSWORD mydb``, and a package manifest depends on
``passport-accesstoken``: each is kept byte for byte, and a real secret in the same
place beside it is still replaced (constants.label, constants.placeholder,
constants.version_spec; textfields reads ``-pX`` as getopt's letter with its value).
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from shadowtape.sanitize import Sanitizer, constants
from shadowtape.sanitize.rules import SECRET_FIELDS
from tests.sanitize.served import served, stored

SANITIZER = Sanitizer(key=b"stand-ins")


def _out(body: str, content_type: str) -> tuple[str, tuple[str, ...]]:
    out = SANITIZER.sanitize(served(body, content_type))
    assert out.response is not None
    return out.response.body.decode(), out.redactions


def _json(doc: object) -> str:
    return json.dumps(doc, ensure_ascii=False)


# -- labels ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("mot_de_passe", "Mot de passe"),
        ("password", "Password"),
        ("password", "PASSWORD"),
        ("passwort", "Passwort"),
        ("password", "Passwort"),  # an English key, the German file's label
        ("contraseña", "Contraseña"),
        ("contrasena", "Contraseña"),  # accents aside
        ("motdepasse", "Mot de passe"),
        ("пароль", "Пароль"),
        ("password", "パスワード"),
        ("password", "Password:"),
        ("confirm_password", "Confirm password"),
        ("password", "Enter your password"),
        ("forgot_password", "Forgot your password?"),
        ("new_password", "Nouveau mot de passe :"),
        ("passwort", "Passwort vergessen?"),
        ("api_key", "Enter your API key"),
        ("access_token", "Access token"),
    ],
)
def test_a_secret_fields_label_in_an_i18n_file_is_kept(name: str, label: str) -> None:
    body = _json({"login": {name: label, "submit": "OK"}})
    out, redactions = _out(body, "application/json")
    assert (out, redactions) == (body, ())


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("password", "password"),  # the commonest password: lower case stays replaced
        ("password", "Secret"),  # the word for another secret is a password here
        ("password", "Password1!"),
        ("password", "Passwort123"),
        ("password", "correct horse battery password"),  # a passphrase, in lower case
        ("password", "Correct Horse Battery Password"),  # Title Case: a passphrase too
        ("password", "My password is long and secret but mine"),  # past six words
        ("mot_de_passe", "Hunter deux"),
    ],
)
def test_a_password_in_the_same_place_is_still_replaced(name: str, password: str) -> None:
    out, redactions = _out(_json({"login": {name: password}}), "application/json")
    assert password not in out
    assert redactions  # "password" replaced is echoed into the key too


def test_labels_in_text_csv_and_markdown_are_kept_and_passwords_beside_them_go() -> None:
    yaml = "login:\n  password: Mot de passe\nadmin:\n  password: Hunter2Hunter2\n"
    csv = "lang,password\nfr,Mot de passe\nde,Passwort\nann,Hunter2Hunter2\n"
    table = "| lang | password |\n|---|---|\n| fr | Mot de passe |\n| ann | Hunter2Hunter2 |\n"
    for body, content_type in ((yaml, "text/yaml"), (csv, "text/csv"), (table, "text/markdown")):
        out, _ = _out(body, content_type)
        assert "Hunter2Hunter2" not in out
        kept = [line for line in body.splitlines() if "Hunter2Hunter2" not in line]
        assert [line for line in out.splitlines() if line in kept] == kept


@pytest.mark.parametrize(
    ("body", "content_type", "label"),
    [
        (_json({"username": "ann", "password": "Password"}), "application/json", "Password"),
        (_json({"user": {"new_password": "Mot de passe"}}), "application/json", "Mot de passe"),
        ("user,password\nann,Passwort\n", "text/csv", "Passwort"),
        ("password: Password\n", "text/yaml", "Password"),
        (_json({"username": "ann", "password": "xxxxxxxx"}), "application/json", "xxxxxxxx"),
        ("password=YOUR_SECRET_ACCESS\n", "text/plain", "YOUR_SECRET_ACCESS"),
        ("user,password\nann,YOUR_PASSWORD\n", "text/csv", "YOUR_PASSWORD"),
        ("| user | password |\n|---|---|\n| ann | <hunter> |\n", "text/markdown", "<hunter>"),
        (_json({"username": "ann", "password": "redacted"}), "application/json", "redacted"),
    ],
)
def test_a_label_shaped_password_a_client_sends_is_replaced(
    body: str, content_type: str, label: str
) -> None:
    """In a request, what stands under ``password`` is what the user typed: a user whose
    password is ``Password`` is the one an i18n rule must not expose."""
    exchange = served("{}", "application/json")
    request = replace(
        exchange.request,
        method="POST",
        headers=(("Content-Type", content_type),),
        body=body.encode(),
        body_size=len(body),
    )
    out = SANITIZER.sanitize(replace(exchange, request=request))
    assert label not in out.request.body.decode()
    assert any(r.startswith("request.body") for r in out.redactions)


def test_every_word_for_password_the_name_rules_know_is_a_label() -> None:
    """The label words are the name rules' words for password, in every language."""
    words = SECRET_FIELDS[SECRET_FIELDS.index("passwort") : SECRET_FIELDS.index("비밀번호") + 1]
    for word in ("password", *words):
        if word == "motdepasse":  # a name run together: its label is "Mot de passe"
            continue
        text = word.replace("_", " ")
        assert constants.label(text[0].upper() + text[1:], word), word


# -- placeholders ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "placeholder",
    ["YOUR_PASSWORD", "<password>", "<your-api-key>", "your_token_here", "xxxxxxxx", "********"],
)
def test_a_placeholder_in_docs_is_kept(placeholder: str) -> None:
    for body, content_type in _places(placeholder):
        out, redactions = _out(body, content_type)
        assert (out, redactions) == (body, ()), body


@pytest.mark.parametrize(
    "password", ["changeme", "admin", "password123", "YOUR_MOM_42", "xxxx1234"]
)
def test_a_weak_default_where_a_placeholder_would_be_is_still_replaced(password: str) -> None:
    for body, content_type in _places(password):
        out, _ = _out(body, content_type)
        assert password not in out, body


def _places(value: str) -> tuple[tuple[str, str], ...]:
    """Bodies (and their content types) that put ``value`` where a password goes."""
    return (
        (f"export DB_PASSWORD={value}\n", "text/plain"),
        (f"api_key: {value}\n", "text/markdown"),
        (_json({"password": value}), "application/json"),
        (f"curl -u ann:{value} https://api.test/\n", "text/plain"),
        (f"mysql -uroot -p{value} mydb\n", "text/plain"),
        (f"app --db-password {value} --verbose\n", "text/plain"),
        (f'<input name="password" value="{value}">', "text/html"),
    )


def test_a_password_in_angle_brackets_is_not_a_placeholder() -> None:
    """A placeholder's name is letters: ``<Hunter2>`` is a password in brackets."""
    out, redactions = _out(_json({"password": "<Hunter2>"}), "application/json")
    assert "Hunter2" not in out and redactions


def test_a_placeholder_after_mysqls_p_is_kept_and_so_is_the_database() -> None:
    body = "mysql -uroot -pYOUR_PASSWORD mydb\nmysql -uroot -p<password> mydb\n"
    assert _out(body, "text/plain") == (body, ())


def test_a_password_after_mysqls_p_is_replaced_and_the_database_kept() -> None:
    """``-pMyPassword1`` is the letter ``p`` and its value, not a flag named for a
    password whose value is the next word."""
    out = stored(SANITIZER, served("mysql -uroot -pMyPassword1 mydb\n", "text/plain"))
    assert "MyPassword1" not in out
    assert out.startswith("mysql -uroot -p") and out.endswith(" mydb\n")


def test_a_one_dash_flag_named_for_a_password_still_takes_the_next_word() -> None:
    """``-pX`` is getopt's letter with its value; ``-password x`` (Go) and
    ``-Dpassword=x`` (Java) still name a field."""
    body = (
        "app -dbPassword S3cretPw9 -v\njava -Dpassword=S3cretPw8 -jar a.jar\n"
        "tool -xpassword=S3cretPw7 -v\n"
    )
    out = stored(SANITIZER, served(body, "text/plain"))
    assert "S3cretPw9" not in out and "S3cretPw8" not in out and "S3cretPw7" not in out


# -- version constraints in a package manifest --------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        "^0.1.0",
        "~1.2",
        ">=1.0 <2",
        "1.x",
        "*",
        "latest",
        "workspace:*",
        "npm:passport-token@^1",
        "1.2.3 - 2.0.0",
        "^1 || ^2",
        "file:../passport-token",
        "git+https://github.com/jaredhanson/passport-accesstoken.git#v0.1.0",
        "github:jaredhanson/passport-accesstoken#v0.1.0",
    ],
)
def test_a_dependency_named_for_a_secret_keeps_its_version(spec: str) -> None:
    body = _json(
        {
            "name": "app",
            "dependencies": {"passport-accesstoken": spec, "express": "^4.18.2"},
            "devDependencies": {"jest-secret-token": spec},
            "overrides": {"oauth-token": spec},
        }
    )
    assert _out(body, "application/json") == (body, ())


@pytest.mark.parametrize(
    "spec",
    [
        "git+https://ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com/acme/private.git",
        "https://deploy:S3cretPw9@git.acme.test/acme/private.git",
    ],
)
def test_a_token_in_a_dependencys_git_url_is_still_replaced(spec: str) -> None:
    out, redactions = _out(
        _json({"dependencies": {"passport-accesstoken": spec}}), "application/json"
    )
    assert "ghp_16C7e42F" not in out and "S3cretPw9" not in out
    assert redactions


def test_a_version_outside_a_dependency_map_under_a_secret_name_is_still_replaced() -> None:
    """A PIN is a version too: a version is kept only where keys are packages' names."""
    out, redactions = _out(
        _json({"settings": {"pin": "1234", "api_token": "^0.1.0"}}), "application/json"
    )
    assert "1234" not in out and "^0.1.0" not in out
    assert len(redactions) == 2


@pytest.mark.parametrize("secret", ["482913", "48213597", "20240101-Zk9Fj2LqP0aZx7WmQ3rTabcd", "7"])
def test_a_code_or_key_under_a_map_named_like_a_dependency_map_is_still_replaced(
    secret: str,
) -> None:
    """``overrides`` names settings in many APIs: a number alone, or digits and a tag,
    is a PIN, a one-time code or a key there, never a version a manifest would write."""
    body = _json({"user": {"overrides": {"otp": secret, "db_password": secret}}})
    out, redactions = _out(body, "application/json")
    assert secret not in out
    assert len(redactions) == 2


def test_a_file_of_many_labels_is_kept_not_dropped() -> None:
    """Each label kept is paid for as a replaced value is: a properties file or a YAML
    bundle of a thousand forms is kept whole, as it would be with their values
    replaced, not dropped as too dense."""
    properties = "".join(f"form{i}.password=Passwort\n" for i in range(1000))
    yaml = "".join(f"form{i}:\n  password: Password\n" for i in range(1000))
    for body, content_type in ((properties, "text/plain"), (yaml, "text/yaml")):
        assert _out(body, content_type) == (body, ())


def test_a_flag_or_a_mask_under_a_secret_name_in_a_json_response_is_kept() -> None:
    """What tables and text lines keep, JSON keeps too: a config dump's ``n/a``, ``none``,
    ``redacted`` or ``***`` says whether or where, not what (in a response only)."""
    body = _json({"otp_seed": "n/a", "cred": "none", "password": "redacted", "token": "***"})
    assert _out(body, "application/json") == (body, ())
