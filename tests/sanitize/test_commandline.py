"""Passwords on command lines, judged by the program that takes them (commandline.py)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from shadowtape.sanitize import Sanitizer
from shadowtape.sanitize.commandline import command_spans
from shadowtape.sanitize.rules import Rules
from tests.sanitize.posted import posted

SANITIZER = Sanitizer(key=b"k")


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("mysql -u root -pS3cretPw9 shop", "S3cretPw9"),
        ("/usr/bin/mysqldump -uroot -p'S3cret Pw9' shop > shop.sql", "S3cret Pw9"),
        ("mariadb -h db -P 3306 -pS3cretPw9", "S3cretPw9"),
        ("curl -u alice:S3cretPw9 https://api.test/x", "S3cretPw9"),
        ("curl -sSu alice:S3cretPw9 https://api.test/x", "S3cretPw9"),
        ("curl https://api.test/x -ualice:S3cretPw9", "S3cretPw9"),
        ("curl --user alice:S3cretPw9 https://api.test/x", "S3cretPw9"),
        ("curl -x proxy:8080 --proxy-user bob:S3cretPw9 https://api.test", "S3cretPw9"),
        ("sshpass -p S3cretPw9 ssh -p 2222 root@host", "S3cretPw9"),
        ("sshpass -e -pS3cretPw9 scp a host:", "S3cretPw9"),
        ("docker login -u bob -p S3cretPw9 registry.test", "S3cretPw9"),
        ("podman login registry.test -pS3cretPw9", "S3cretPw9"),
        ("htpasswd -b /etc/nginx/htpasswd bob S3cretPw9", "S3cretPw9"),
        ("htpasswd -bcB -C 10 .htpasswd bob S3cretPw9", "S3cretPw9"),
        ("redis-cli -h cache -a S3cretPw9 ping", "S3cretPw9"),
        ('ldapsearch -x -D "cn=admin" -w S3cretPw9 -b dc=test', "S3cretPw9"),
        ("sqlplus scott/S3cretPw9@orcl", "S3cretPw9"),
        ("openssl pkcs12 -in a.p12 -passin pass:S3cretPw9 -nodes", "S3cretPw9"),
        ("machine api.test login bob password S3cretPw9", "S3cretPw9"),  # ~/.netrc
        ("machine api.test\n  login bob\n  password S3cretPw9\n", "S3cretPw9"),
        ("mysql -vpS3cretPw9 shop", "S3cretPw9"),  # flags clustered before p
        ("mysqldump -CpS3cretPw9 db > db.sql", "S3cretPw9"),
        ("mongosh -u admin -p S3cretPw9 --authenticationDatabase admin", "S3cretPw9"),
        ("mongodump --password=S3cretPw9 --db shop", "S3cretPw9"),
        ("plink -ssh -pw S3cretPw9 root@host", "S3cretPw9"),
        ("zip -P S3cretPw9 a.zip b.txt", "S3cretPw9"),
        ("unzip -P S3cretPw9 a.zip", "S3cretPw9"),
        ("7z x -pS3cretPw9 a.7z", "S3cretPw9"),
        ("openssl enc -aes-256-cbc -k S3cretPw9 -in a -out b", "S3cretPw9"),
        ("smbclient //srv/share -U bob%S3cretPw9", "S3cretPw9"),
    ],
)
def test_the_password_and_nothing_else_is_found(line: str, secret: str) -> None:
    spans = list(command_spans(line))
    assert [line[start:end] for start, end in spans] == [secret]


@pytest.mark.parametrize(
    "line",
    [
        "docker run -p 8080:80 nginx",  # a port
        "ssh -p 2222 root@host",
        "mysql -u root -p shop",  # -p alone prompts; "shop" is the database
        "mysql -u root -P 3306 shop",
        "curl -o out.json https://api.test/x",
        "curl -u alice https://api.test/x",  # no password: curl asks for it
        "docker login --password-stdin -u bob registry.test",
        "htpasswd -c .htpasswd bob",  # no -b: htpasswd asks for the password
        "sshpass -f pwfile ssh -p 2222 root@host",
        "python -m http.server -p 8000",
        "mysql -hpostgres -u root shop",  # -h takes the rest: a host named "postgres"
        "7z a -p a.7z b",  # -p alone: 7-Zip asks
        "smbclient -U bob //srv/share",
        "openssl enc -kfile pw.txt -in a",
        "mongosh --port 27017",
        "zip -r a.zip dir",
        "kubectl port-forward svc/db -p 5432",
        "sqlplus / as sysdba",
        "tar -xpf archive.tar",
        "machine api.test login bob",  # a netrc entry without a password
        "the machine learning team",
    ],
)
def test_ordinary_command_lines_are_kept(line: str) -> None:
    assert list(command_spans(line)) == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("#!/bin/sh\nmysql -u root -pS3cretPw9 shop < dump.sql\n", "text/x-sh"),
        (json.dumps({"cmd": "sshpass -p S3cretPw9 ssh root@host"}), "application/json"),
        (
            "cmd=" + quote("curl -u alice:S3cretPw9 https://a.test"),
            "application/x-www-form-urlencoded",
        ),
        ("RUN htpasswd -b /etc/h bob S3cretPw9 && echo ok\r\n", "text/plain"),
    ],
)
def test_a_command_line_password_never_reaches_the_tape(body: str, content_type: str) -> None:
    out = SANITIZER.sanitize(posted(body, content_type))
    stored = out.request.body.decode()
    assert "S3cretPw9" not in stored
    assert quote("S3cretPw9") not in stored
    assert any(r.endswith(":command") or "$" in r or ".form." in r for r in out.redactions)


def test_the_password_is_replaced_wherever_it_is_echoed() -> None:
    body = "mysql -u root -pS3cretPw9 shop\nlast login used S3cretPw9\n"
    out = SANITIZER.sanitize(posted(body)).request.body.decode()
    assert "S3cretPw9" not in out
    assert out.startswith("mysql -u root -p") and " shop\n" in out


def test_an_ordinary_script_is_kept_byte_for_byte() -> None:
    body = "docker run -p 8080:80 nginx\nssh -p 2222 host\nmysql -u root -p shop\n"
    out = SANITIZER.sanitize(posted(body))
    assert out.request.body == body.encode()
    assert out.redactions == ()


def test_the_detector_can_be_switched_off() -> None:
    sanitizer = Sanitizer(key=b"k", rules=Rules.from_toml("[detectors]\ncommand = false"))
    out = sanitizer.sanitize(posted("mysql -u root -pS3cretPw9 shop\n"))
    assert b"S3cretPw9" in out.request.body
