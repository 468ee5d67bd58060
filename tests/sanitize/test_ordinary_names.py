"""Ordinary traffic a review of this stop's name rules found replaced: package names,
HTML attributes, settings that name a constant, code, and commands that name a password
instead of holding one. Each stays; the secret beside it still goes."""

from __future__ import annotations

import json

import pytest

from shadowtape.sanitize import Sanitizer
from tests.sanitize.adversarial import _response_body

SANITIZER = Sanitizer(key=b"ordinary-names-test")


def stored(body: str, content_type: str) -> str:
    out = SANITIZER.sanitize(_response_body(content_type)(body))
    assert out.response is not None
    return out.response.body.decode()


@pytest.mark.parametrize(
    "document",
    [
        {"dependencies": {"jsonwebtoken": "^9.0.2", "passport": "^0.7.0"}},
        {"node_modules/passport-accesstoken": {"version": "0.1.0", "integrity": "sha512-x"}},
        {"invalid_code": "That code is not valid", "order_code": "ORD-2024-0001"},
        {"template_key": "welcome_email_v3", "code": "DE", "key": "ASSET"},
        {"signing_key_id": "kid-7", "client_key_id": "kid-8"},
        {"jwt": {"enabled": True, "algorithm": "RS256", "ttl": 3600}},
    ],
)
def test_ordinary_json_stays(document: dict[str, object]) -> None:
    body = json.dumps(document)
    assert json.loads(stored(body, "application/json")) == document


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('<a href="/k" accesskey="k">K</a>', "text/html"),
        ("user_key: email\nwebhook_key: order.created\napp_key: storefront-web\n", "text/yaml"),
        ("user_key=email\nreset_code=404\n", "text/plain"),
        ("INFO client_key_id=kid-7 rotated=false\n", "text/plain"),
        ('\tapiKey := os.Getenv("API_KEY")\n\tsecret := viper.GetString("x")\n', "text/plain"),
        ('mysqldump -u backup -p"$BACKUP_PASSWORD" db\nmysql -p${DB_PW} shop\n', "text/plain"),
        ('redis-cli -a "$REDIS_PASSWORD" ping\nsshpass -p "$SSH_PASS" ssh host\n', "text/plain"),
        (
            'curl -u "$USER:$TOKEN" https://x\ncurl --user alice:$(cat /run/pw) https://x\n',
            "text/plain",
        ),
        ("docker login -p %REGISTRY_PW% r.example\nmysql -p{{ db_password }} x\n", "text/plain"),
        ("PGPASSWORD=$PGPASS psql -h db\ntoken=${API_TOKEN}\n", "text/plain"),
        ("GET session:web:9f8e7d6c:expires\ntoken:web:4f1c:owner\n", "text/plain"),
        ("cache:1000:user:42:profile\n*:*:*:postgres:*\n", "text/plain"),
        ("cfg: &{User:app Token:<nil> APIKey:*** Mode:prod}\n", "text/plain"),
        (
            "| user | password | token |\n|---|---|---|\n| bob | none | - |\n| eve | N/A | *** |\n",
            "text/markdown",
        ),
    ],
)
def test_ordinary_text_stays(body: str, content_type: str) -> None:
    assert stored(body, content_type) == body


@pytest.mark.parametrize(
    ("body", "secret"),
    [
        ("APP_KEY=base64:8dQ7xw1kK3pL9mN2vB5cX0zQ\nuser_key=email\n", "8dQ7xw1kK3pL9mN2vB5cX0zQ"),
        ("app_key: k3pL9mN2vB5c\n", "k3pL9mN2vB5c"),
        ("mysql -uroot -pS3cretPw db\n", "S3cretPw"),
        ("db.internal:5432:app:app:Pg8Wq2Lm7Zx\n", "Pg8Wq2Lm7Zx"),
        ("cfg: &{User:app Token:Tk9Qw2Er7Ty APIKey:*** Mode:prod}\n", "Tk9Qw2Er7Ty"),
        ("curl -u alice:Up8Kd3Vw7Qs2 https://x\n", "Up8Kd3Vw7Qs2"),
        ('{"accesstoken": "Zq8vR2mK9xLp4TnW7bYc"}', "Zq8vR2mK9xLp4TnW7bYc"),
        ('{"user_code": "WDJB-MJHT", "device_code": "GmRhmhcxhwAzkoEq"}', "WDJB-MJHT"),
        # A password that starts like a variable or a template is none.
        ("login user=bob password=$ecretP@ss99 ok\n", "ecretP@ss99"),
        ("db.password=$ecret99\n", "ecret99"),
        ("export DB_PASSWORD={{Hunter2xyz\n", "Hunter2xyz"),
        ("PGPASSWORD=%Hunter2 xyz% psql\n", "Hunter2"),
        ("mysql -p$DbPass99 shop\n", "DbPass99"),
        # An .env or properties line's value runs to a blank, ";" and "&" and all.
        ("DB_PASSWORD=Tr0ub;4dor&3x\nDEBUG=1\n", "4dor&3x"),
        ("export API_TOKEN=Ab9&cd;Ef7\n", "cd;Ef7"),
        ("db.password=Tr0ub;4dor\n", "4dor"),
    ],
)
def test_the_secret_beside_them_still_goes(body: str, secret: str) -> None:
    content_type = "application/json" if body.startswith("{") else "text/plain"
    assert secret not in stored(body, content_type)
