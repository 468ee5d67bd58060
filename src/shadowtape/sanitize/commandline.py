"""Passwords given on a command line by a short option, judged by the program before it.

``--db-password=x`` and ``--password x`` are secret by their name (textfields.py), but
``-p`` is a port to many tools: only after a program that takes a password there is it
one. So each rule names its programs and their option: ``mysql -u root -pS3cret``
(MySQL and MariaDB clients: the password attached), ``sshpass -p S3cret ssh ...``,
``docker login -p S3cret`` (podman, nerdctl, buildah and skopeo too), ``curl -u
alice:S3cret`` and ``--user`` (the part after the first ``:``), ``htpasswd -b file user
S3cret``, ``redis-cli -a S3cret``, ``ldapsearch -w S3cret`` (and the other ldap tools),
``sqlplus scott/tiger@db``, ``mongosh -p S3cret`` (and the other MongoDB tools),
PuTTY's ``plink -pw S3cret``, ``zip -P S3cret`` and 7-Zip's ``-pS3cret``, ``openssl enc
-k S3cret``, ``smbclient -U bob%S3cret``, and OpenSSL's ``-passin pass:S3cret`` after
any program. MySQL's flags that take no argument may stand clustered before ``p``
(``-vpS3cret``).

One RE2 pass finds every invocation whose option has a value, and each match ends where
the value does: where the value starts is found from its end in C, by the rule the
program opens with. Arguments are words, quoted strings or both (``-p'my pw'``), and a
command ends at a line end, ``;``, ``|``, ``&``, ``<`` or ``>``.
"""

from __future__ import annotations

from collections.abc import Iterator

import re2

from shadowtape.sanitize import constants
from shadowtape.sanitize.beyondascii import without_surrogates

#: A shell word: plain characters and quoted strings, glued.
_WORD = r"""(?:"[^"\r\n]*"|'[^'\r\n]*'|[^ \t\r\n;|&<>"'`])+"""
#: A value: a word that does not open with a dash (``--password-stdin`` is no value).
_VALUE = (
    r"""(?:"[^"\r\n]*"|'[^'\r\n]*'|[^\- \t\r\n;|&<>"'`])"""
    + r"""(?:"[^"\r\n]*"|'[^'\r\n]*'|[^ \t\r\n;|&<>"'`])*"""
)
_BLANK = r"[ \t]+"
_LINES = r"[ \t\r\n]+"
_ARGS = rf"(?:{_BLANK}{_WORD})*?{_BLANK}"
#: A user name or password in Oracle's ``user/password@db``.
_LOGIN_PART = r"[^/@ \t\r\n;|&<>\"'`]+"
#: What may stand right before a program's name: a path, a quote, a shell operator.
_START = r"(?:^|[^A-Za-z0-9_.\-])"
_EXE = r"(?:\.exe)?"

_MYSQL = (
    r"(?:mysql(?:dump|admin|import|show|check|pump|slap)?"
    r"|mariadb(?:-?(?:dump|admin|import|show|check))?)"
)
#: MySQL's short options that take no argument, which may stand clustered before ``p``
#: (``-vpS3cret``); one that takes an argument (``-h``, ``-u``) would take the rest.
_MYSQL_FLAGS = "[vCsNBrtnqEfXHicAbGjkT]"
_RULES = (
    # mysql -u root -pS3cret db: "-p" alone prompts, and "-p db" names the database.
    rf"{_START}{_MYSQL}{_EXE}{_ARGS}-{_MYSQL_FLAGS}{{0,8}}p{_WORD}",
    # mongosh -u admin -p S3cret (and the other MongoDB tools), --password=S3cret
    rf"{_START}(?:mongosh|mongo|mongodump|mongorestore|mongoexport|mongoimport|mongostat|mongotop)"
    rf"{_EXE}{_ARGS}(?:-p{_BLANK}|--password(?:{_BLANK}|=)){_VALUE}",
    # PuTTY's plink, pscp and psftp: -pw S3cret
    rf"{_START}(?:plink|pscp|psftp){_EXE}{_ARGS}-pw{_BLANK}{_VALUE}",
    # zip -P S3cret (unzip, zipcloak) and 7-Zip's -pS3cret
    rf"{_START}(?:zip|unzip|zipcloak){_EXE}{_ARGS}-P{_BLANK}{_VALUE}",
    rf"{_START}7z[ar]?{_EXE}(?:{_BLANK}{_WORD})*?{_BLANK}-p{_WORD}",
    # openssl enc -k S3cret (a password given whole on the command line)
    rf"{_START}openssl{_EXE}{_ARGS}-k{_BLANK}{_VALUE}",
    # smbclient -U user%S3cret
    rf"{_START}smbclient{_EXE}{_ARGS}(?:-U|--user(?:name)?)(?:{_BLANK}|=)[^%\s\"'`;|&<>]{{1,256}}%{_WORD}",
    # sshpass [-e|-v|-f file|-d n|-P prompt] -p S3cret ssh ...: after the command, -p is ssh's.
    rf"{_START}sshpass{_EXE}(?:{_BLANK}-[evhV]+|{_BLANK}-[fdP](?:{_BLANK})?{_WORD})*{_BLANK}-p(?:{_BLANK})?{_VALUE}",
    # docker login -u bob -p S3cret registry
    rf"{_START}(?:docker|podman|nerdctl|buildah|skopeo){_EXE}{_BLANK}login{_ARGS}(?:-p(?:{_BLANK})?|--password(?:{_BLANK}|=)){_VALUE}",
    # curl -u alice:S3cret, -ualice:S3cret, --user alice:S3cret, --proxy-user, -U
    rf"{_START}curl{_EXE}{_ARGS}(?:-[A-Za-z]*[uU](?:{_BLANK})?|--(?:proxy-)?user(?:{_BLANK}|=)){_VALUE}",
    # htpasswd -b[cmBdsp] [-C cost] file user S3cret
    rf"{_START}htpasswd{_EXE}(?:{_BLANK}-[A-Za-z]+(?:{_BLANK}[0-9]+)?)*?{_BLANK}-[A-Za-z]*b[A-Za-z]*"
    rf"(?:{_BLANK}-[A-Za-z]+(?:{_BLANK}[0-9]+)?)*{_BLANK}{_VALUE}{_BLANK}{_VALUE}{_BLANK}{_VALUE}",
    # redis-cli -h host -a S3cret
    rf"{_START}redis-cli{_EXE}{_ARGS}-a{_BLANK}{_VALUE}",
    # ldapsearch -x -D cn=admin -w S3cret
    rf"{_START}ldap(?:search|add|modify|delete|whoami|passwd|compare|modrdn|exop){_EXE}{_ARGS}-w{_BLANK}{_VALUE}",
    # sqlplus scott/tiger@orcl (and Oracle's other tools): the word after the name.
    rf"{_START}(?:sqlplus|rman|expdp|impdp|sqlldr){_EXE}(?:{_BLANK}-[A-Za-z]+)*{_BLANK}"
    rf"{_LOGIN_PART}/{_LOGIN_PART}",
    # ~/.netrc: machine host login bob password S3cret (on one line or several)
    rf"{_START}machine{_LINES}{_WORD}(?:{_LINES}(?:login|account|port){_LINES}{_WORD})*"
    rf"{_LINES}password{_LINES}{_VALUE}",
    # openssl ... -passin pass:S3cret (-passout, -pass): "pass:" says it, whatever the program.
    rf"(?:^|[ \t])-pass(?:in|out)?{_BLANK}pass:{_WORD}",
)
_COMMANDS_TEXT = "|".join(f"(?:{rule})" for rule in _RULES)
#: ASCII text is searched as bytes (offsets are the same); other text as str, with lone
#: surrogates (which UTF-8 cannot hold) read as U+FFFD, one character for one.
_COMMANDS_BYTES = re2.compile(_COMMANDS_TEXT.encode())
_COMMANDS_STR = re2.compile(_COMMANDS_TEXT)
#: Literals one of which every rule's match holds (Detector hints).
HINTS = (
    "mysql",
    "mongo",
    "plink",
    "pscp",
    "psftp",
    # zip, unzip, zipcloak's option and 7-Zip's name with what follows them: not "zip"
    # ("gzip" in every Accept-Encoding) nor "7z" or "-P" alone (random base64 holds them).
    "-P ",
    "-P\t",
    *(f"7z{kind}{end}" for kind in ("", "a", "r") for end in (" ", "\t", ".exe")),
    "openssl",
    "smbclient",
    "mariadb",
    "sshpass",
    " login",
    "curl",
    "htpasswd",
    "redis-cli",
    "ldap",
    "sqlplus",
    "rman",
    "expdp",
    "impdp",
    "sqlldr",
    "pass:",
    "machine",
)
_QUOTES = "\"'"


def searchable(text: str) -> str | bytes:
    """What an RE2 pattern searches for ``text``: ASCII as bytes, other text as str;
    lone surrogates (which UTF-8 cannot hold) as U+FFFD, one character for one
    (only when there are some)."""
    if text.isascii():
        return text.encode("ascii")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return without_surrogates(text)
    return text


def command_spans(text: str) -> Iterator[tuple[int, int]]:
    """Where each password given on a command line is (see the module docstring)."""
    data = searchable(text)
    pattern = _COMMANDS_BYTES if isinstance(data, bytes) else _COMMANDS_STR
    found_all = pattern.finditer(data)
    for found in found_all:
        start, end = found.span()
        span = _value(text, start, end)
        if span is not None and span[0] < span[1] and not _reference(text, *span):
            yield span


def _reference(text: str, start: int, end: int) -> bool:
    """A variable (``-p$MYSQL_PWD``) or a placeholder in docs (``-pYOUR_PASSWORD``,
    ``-p<password>``): not a password. A label is one here: the command sends it."""
    value = text[start:end]
    return constants.reference(value) or constants.placeholder(value)


def _value(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The value a match ends with, by the rule its program names."""
    word = _last_word(text, start, end)
    head = text[start : start + 16].lstrip(" \t")
    program = _program(text, start, end)
    if head.startswith("-pass"):
        return _after(text, word, end, "pass:")
    if program.startswith(("mysql", "mariadb")):
        return _unquoted(text, text.index("p", word) + 1, end)  # -pS3cret, -vpS3cret
    if program.startswith("7z"):
        return _unquoted(text, word + 2, end)  # -pS3cret
    if program.startswith("smbclient"):
        return _unquoted(text, text.index("%", word) + 1, end)  # user%S3cret
    if program.startswith("curl"):
        value = _option_value(text, word, end, start)
        colon = text.find(":", value, end)
        return None if colon < 0 else _unquoted(text, colon + 1, end)
    if program.startswith(("sqlplus", "rman", "expdp", "impdp", "sqlldr")):
        slash = text.find("/", word, end)
        return None if slash < 0 else (slash + 1, end)
    if program.startswith(("sshpass", "docker", "podman", "nerdctl", "buildah", "skopeo", "mongo")):
        return _unquoted(text, _option_value(text, word, end, start), end)
    return _unquoted(text, word, end)  # htpasswd, redis-cli, ldap*: the last word


def _program(text: str, start: int, end: int) -> str:
    """The name of the program a match opens with (lower-cased, its path left out)."""
    head = text[start : min(end, start + 256)]
    if head and not (head[0].isalnum() or head[0] == "/"):
        head = head[1:]
    first = head.split(None, 1)[0] if head.strip() else ""
    return first.replace("\\", "/").rsplit("/", 1)[-1].lower()


def _last_word(text: str, start: int, end: int) -> int:
    """Where the last word of ``text[start:end]`` starts: after the last blank outside
    quotes (a quoted value may hold blanks)."""
    at = end
    while True:
        blank = max(text.rfind(" ", start, at), text.rfind("\t", start, at))
        quote = max(text.rfind('"', start, at), text.rfind("'", start, at))
        if quote <= blank:
            return blank + 1
        opening = text.rfind(text[quote], start, quote)
        if opening < 0:
            return blank + 1
        at = opening


def _option_value(text: str, word: int, end: int, start: int) -> int:
    """Where the value starts: the last word when the word before it is the option
    alone, else after the option the last word opens with (``-pS3cret``, ``--user=x``)."""
    before = text[max(start, word - 24) : word].rstrip(" \t")
    option = before[before.rfind(" ") + 1 :].rsplit("\t", 1)[-1]
    alone = option in ("-p", "--password", "--user", "--proxy-user", "-a", "-w") or (
        option[1:2] != "-" and option[-1:] in "uU"
    )
    if alone and option.startswith("-") and word > start and text[word - 1] in " \t":
        return word
    eq = text.find("=", word, end)
    if text.startswith("--", word) and eq >= 0:
        return eq + 1
    if text.startswith("-", word):
        return word + 2
    return word


def _after(text: str, word: int, end: int, marker: str) -> tuple[int, int] | None:
    at = text.find(marker, word, end)
    return None if at < 0 else _unquoted(text, at + len(marker), end)


def _unquoted(text: str, start: int, end: int) -> tuple[int, int]:
    """``text[start:end]`` without the quotes around it, if it is quoted whole."""
    if end - start >= 2 and text[start] in _QUOTES and text[end - 1] == text[start]:
        return start + 1, end - 1
    return start, end
