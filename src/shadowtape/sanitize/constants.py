"""Values under a secret-looking name that are plainly not secrets: constants and flags.

Under a name secret only as a whole or by a qualifier (``code``, ``key``, ``device_code``:
NameMatcher.whole_only), a table's column, a CSV export's column or an HTML form's
``state`` usually holds a constant: a country, currency, airport or ledger code (``DE``,
``USD``, ``BER``, ``ASSET``), an error code (``E0042``, ``E_AUTH``), a status (``200``), a
key combination (``Ctrl+S``) or a setting's name (names.is_symbol). A credential (an
OAuth code or state, a one-time or recovery code, an API key) is longer, mixes letters
and digits, or runs to eight capitals or more (``WDJBMJHT``, RFC 8628's user code).
Under any secret name, a cell saying yes or no (``true``, ``n``) says whether, not what,
and a placeholder (``n/a``, ``***``, ``$DB_PASSWORD``, ``YOUR_PASSWORD``) says where, not
what; a label (``Mot de passe``) says what the field is. In a package manifest's
dependency map the keys are packages' names, and a version constraint is no secret.
Under a name secret as a whole only, a storage path (``photos/2024/beach.jpg``:
object_path, what every format asks) says where a file is, not what a key is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import re2

from shadowtape.sanitize.names import is_symbol
from shadowtape.sanitize.names import words as name_words

#: A yes/no answer (``true``, ``No``, ``y``), or a placeholder where a value would be: none
#: set, a mask, a reference to where it is kept (``n/a``, ``-``, ``<nil>``, ``***``,
#: ``$DB_PASSWORD``, ``{{ token }}``).
_FLAG = (
    r"(?i:true|false|yes|no|y|n|none|null|nil|<nil>|n/a|na|unset|empty|optional|required"
    r"|redacted|masked|hidden)|-{1,3}|[*•]+|x{3,}|X{3,}"
)
#: A constant besides names.is_symbol's, in one pattern (a cell is read once): a number
#: below 1,000; codes in capitals (a word of up to seven letters is is_symbol's): words
#: joined by "_", up to four letters and five digits (``E0042``, ``TS2322``, ``F5``); a
#: key combination (``Ctrl+S``, ``Cmd+Shift+P``); a yes/no answer.
_CONSTANT = re.compile(
    r"[0-9]{1,3}|[A-Z]+(?:_[A-Z0-9]+)+|[A-Z]{1,4}[0-9]{1,5}"
    r"|(?i:(?:ctrl|control|cmd|command|alt|option|opt|shift|meta|super|win|fn) ?\+ ?)+"
    rf"[^\s+|]{{1,9}}|{_FLAG}"
)
_FLAGS = re.compile(_FLAG)
#: No constant is longer (names.is_symbol's bound).
_MAX = 64


def kept(value: str, *, whole: bool, paths: bool = False) -> bool:
    """Is ``value`` (a cell's or an attribute's text, under a secret name) a yes/no
    answer, or, under a name secret as a whole only (``whole``), a constant, or a
    storage path where ``paths`` (label_at: a response)?"""
    if whole and paths and object_path(value):
        return True
    if len(value) > _MAX:
        return False
    if reference(value):
        return True
    if whole:
        return _CONSTANT.fullmatch(value) is not None or is_symbol(value)
    return _FLAGS.fullmatch(value) is not None


def symbol_or_path(value: object, *, paths: bool) -> bool:
    """Is ``value``, under a name secret as a whole only (``key``, ``code``,
    ``storage_key``), a constant's name or small code (names.is_symbol) or a storage path
    (object_path), where ``paths`` (label_at: in a response, where a listing or an
    error code holds one; a client may send a password shaped like a path,
    ``hunter2/hunter2``)? What JSON, XML, text fields and GraphQL variables keep."""
    return is_symbol(value) or (paths and isinstance(value, str) and object_path(value))


def key_path(name: str, value: str, where: str, whole_only: Callable[[str], bool]) -> bool:
    """Is ``value``, at the location ``where``, a storage path under a name ending in
    ``key`` that is secret as a whole only (``key``, ``storage_key``: ``whole_only``)?
    What query strings, forms and multipart fields keep, in a response only (label_at:
    a client may send a password shaped like a path); there ``code`` and ``state`` are
    OAuth's, and constants are not told apart (params.py)."""
    return (
        label_at(where)
        and name_words(name)[-1:] == ("key",)
        and object_path(value)
        and whole_only(name)
    )


def reference(value: str) -> bool:
    """Does the value name a secret rather than hold one: a shell variable or command
    (``"$MYSQL_PASSWORD"``, ``${TOKEN}``, ``$(cat pw)``), a Windows variable (``%PW%``)
    or a template (``{{ password }}``)? Its own text is no secret."""
    value = value.strip("\"'")
    return value[:1] in "${%" and _REFERENCE.fullmatch(value) is not None


#: Whole references only: a password may well start with "$" (``$ecretP@ss99``) or
#: "{{". Bounded classes, no nesting: linear.
_REFERENCE = re.compile(
    r"\$(?:[A-Z_][A-Z0-9_]{0,127}|[a-z_]{1,128})"  # $MYSQL_PASSWORD, $password
    r"|\$\{[A-Za-z_][^{}\s]{0,127}\}"  # ${TOKEN}, ${DB_PW:-x}, ${env:PW}
    r"|\$\([^()]{0,256}\)?"  # $(cat /run/pw), or its first word on a command line
    r"|\{\{(?:[^{}]{1,128}\}\})?"  # {{ password }}, or its first word
    r"|%[A-Za-z_][A-Za-z0-9_]{0,127}%"  # %DB_PASSWORD%
)


#: The words for a secret that a form's label or an i18n file's message shows, by what
#: they name: (the words a label says, the words a field's name holding it says).
#: Password's words are English's and each language's of rules.DEFAULT_KEYS
#: (test_constants holds the two lists together).
_PASSWORD_WORDS = (
    "password", "passwort", "kennwort", "contraseña", "mot de passe", "senha",
    "wachtwoord", "hasło", "haslo", "lösenord", "passord", "adgangskode", "salasana",
    "heslo", "jelszó", "пароль", "密码", "密碼", "パスワード", "비밀번호",
)  # fmt: skip
_LABEL_KINDS = (
    (_PASSWORD_WORDS, (*_PASSWORD_WORDS, "passwd", "pwd", "pw", "pass", "motdepasse")),
    (("passphrase", "pass phrase"), ("passphrase", "pass phrase")),
    (("passcode",), ("passcode",)),
    (("secret", "secret key", "client secret"), ("secret",)),
    (("token", "access token", "api token", "auth token"), ("token",)),
    (("api key",), ("api key", "apikey")),
    (("pin", "pin code"), ("pin",)),
    (("credentials",), ("credentials", "creds")),
    (("private key",), ("private key",)),
)
#: What may end a label: a form's colon or asterisk, a question's mark.
_LABEL_ENDS = " :*?!.\u2026\uff1a\uff1f"  # and the ellipsis, full-width ":" and "?"
#: A label's words at most (``Enter your new password again``).
_LABEL_WORDS = 6


def _fold(text: str) -> str:
    """Lower case, accents off (``Contraseña`` -> ``contrasena``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


#: Folded, padded with blanks for a search by whole words: (label's, name's) words.
_LABEL_TERMS = tuple(
    (frozenset(f" {_fold(w)} " for w in says), frozenset(f" {_fold(w)} " for w in named))
    for says, named in _LABEL_KINDS
)


def label(value: str, name: str) -> bool:
    """Is ``value``, under the secret field ``name``, the label of what the field holds,
    not its value: the word for it in a language the name rules know, whole
    (``Password``, ``Mot de passe``, ``Пароль``, ``パスワード`` under ``password`` or
    ``mot_de_passe``; accents aside), or a short phrase holding that word in a label's
    case (``Enter your password``, ``Nouveau mot de passe :``)?

    What it lets through is a password that is the word for password, capitalised, or a
    sentence about one: the first guesses of any attacker. A word in lower case stays
    replaced (``password`` is the commonest password, and a passphrase of random words
    is written so: ``correct horse battery staple``), as does a word naming another
    secret (``Secret`` under ``password`` is a password), one with a digit or a symbol
    (``Password1!``), and anything longer than six words.
    """
    if len(value) > _MAX or not value.strip(_LABEL_ENDS):
        return False
    words = value.rstrip(_LABEL_ENDS).split(" ")
    if len(words) > _LABEL_WORDS or not all(map(_label_word, words)) or words[0][0].islower():
        return False
    if not all(word.islower() or word.isupper() or not word[0].isupper() for word in words[1:]):
        return False  # Title Case Words: a passphrase as often as a label
    said = f" {_fold(' '.join(words))} "
    named = f" {_fold(' '.join(name_words(name)))} "
    for says, names in _LABEL_TERMS:
        if any(term in named for term in names):
            if len(words) == 1 and said in says:
                return True
            if len(words) > 1 and any(term in said for term in says):
                return True
    return False


def _label_word(word: str) -> bool:
    """A word of a label: letters, maybe an apostrophe or hyphen inside (``l'utente``)."""
    return word.replace("'", "").replace("-", "").replace("\u2019", "").isalpha()


#: What a placeholder for a secret is made of: ``YOUR_PASSWORD``, ``your-api-key``,
#: ``your_token_here``, ``<password>``, ``<your api key>``, a mask (``xxxxxxxx``,
#: ``********``). Bounded quantifiers over classes only: no backtracking.
_PLACEHOLDER = re.compile(
    r"(?P<caps>YOUR[_-][A-Z][A-Z_-]{0,60})|(?P<lower>your[_-][a-z][a-z_-]{0,60})"
    r"|<(?P<angle>[A-Za-z][A-Za-z _.-]{0,60})>|\*{3,64}|x{3,64}|X{3,64}|•{3,64}"
)
#: The words a ``YOUR_...`` placeholder holds one of: what it stands for, or "here".
_PLACEHOLDER_WORDS = frozenset(
    {
        "password", "passwd", "pass", "pw", "pwd", "passphrase", "passcode", "secret",
        "token", "key", "api", "apikey", "credential", "credentials", "pin", "code",
        "here", "value", "auth", "access",
    }
)  # fmt: skip


def placeholder(value: str) -> bool:
    """Is ``value`` an obvious placeholder in docs or an example: ``YOUR_PASSWORD``,
    ``your_token_here``, ``<password>``, ``<your-api-key>``, ``xxxxxxxx``, ``********``?

    A password of such a shape would be letters and separators only, all one case,
    naming what it stands for (``YOUR_DB_PASSWORD``), or wrapped whole in angle
    brackets: a real password seldom is, and one with a digit or of mixed case never
    matches. Real weak defaults (``changeme``, ``admin``, ``password123``) are not
    placeholders: they are what a server would accept, and stay replaced.
    """
    found = _PLACEHOLDER.fullmatch(value)
    if found is None:
        return False
    named = found.group("caps") or found.group("lower")
    if named is None:
        return True
    return any(word in _PLACEHOLDER_WORDS for word in re.split(r"[_-]", named.lower()))


def stands_in(value: str, name: str, where: str) -> bool:
    """Does ``value`` stand where a secret would, under the secret field ``name``,
    without being one: a placeholder (``YOUR_PASSWORD``, ``n/a``, ``none``, ``***``,
    ``$DB_PASSWORD``: kept), a yes/no answer or a label (``Mot de passe``)? ``where``:
    the location; only in a response (label_at)."""
    return label_at(where) and (
        kept(value, whole=False) or placeholder(value) or label(value, name)
    )


def cell_kept(value: str, name: str, *, whole: bool, response: bool) -> bool:
    """Is a table's or a CSV file's cell under the secret column ``name`` none: a yes/no
    answer or a constant (kept; under a name secret as a whole only, ``whole``, the
    constants and, in a ``response``, a storage path), or in a response a placeholder or
    the column's label (a localised export's ``Mot de passe``)?"""
    return kept(value, whole=whole, paths=response) or (
        response and (placeholder(value) or label(value, name))
    )


def label_at(where: str) -> bool:
    """May a label or a placeholder stand at the location ``where``? Only in a response:
    what a client sends under ``password`` is what its user typed (``Password`` and
    ``xxxxxxxx`` are passwords there), and an error message may quote it; an i18n file,
    a form's markup or a page of docs comes in a response."""
    return where.startswith("response")


#: The maps of a package manifest whose keys are packages' names, not fields
#: (package.json; Composer's names hold a "/", which names.py reads as a path).
DEPENDENCY_MAPS = frozenset(
    {
        "dependencies", "devDependencies", "peerDependencies", "optionalDependencies",
        "bundleDependencies", "bundledDependencies", "resolutions", "overrides",
    }
)  # fmt: skip
#: A version constraint (npm's, Yarn's, pnpm's): ranges of versions (``^1.2.3``, ``~1.2``,
#: ``>=1.0 <2``, ``1.x``, ``*``, ``1.2.3 - 2.0.0``, ``^1 || ^2``), a dist-tag, a
#: workspace or alias (``workspace:*``, ``npm:pkg@^1``), a local path (``file:../x``).
#: A number alone is no version here (a PIN or a one-time code is one too), nor digits
#: with a tag (``20240101-Zk9F...``, an API key's shape): a version has a dot or an
#: operator, and a pre-release tag follows a whole ``major.minor.patch``.
_PART = r"(?:[0-9]{1,9}|[xX*])"
_OPERATOR = r"(?:[\^~]|[<>]=?|=)"
_RANGE = (
    rf"(?:{_OPERATOR}?v?[0-9]{{1,9}}\.[0-9]{{1,9}}\.[0-9]{{1,9}}(?:-[0-9A-Za-z.]{{1,32}})?"
    rf"|{_OPERATOR}v?{_PART}(?:\.{_PART}){{0,2}}"
    rf"|v?{_PART}(?:\.{_PART}){{1,2}})"
)
#: RE2 (linear in the value) over its UTF-8 bytes (the wrapper maps a str's offsets in
#: Python): ranges repeat, separated by blanks, "-" or "||".
_VERSION_SPEC = re2.compile(
    (
        rf"\*|latest|next|beta|alpha|canary|rc|stable|"
        rf"(?:workspace:)?(?:{_RANGE}(?: {{1,2}}(?:(?:-|\|\|) {{1,2}})?{_RANGE}){{0,7}}|[*^~])"
        rf"|npm:@?[a-z0-9][a-z0-9._/-]{{0,213}}@[^\s@]{{1,64}}"
        r"|(?:file|link|portal):[^\s@:]{1,256}"
    ).encode()
)
#: A git dependency: its URL, with no user information but ``git@`` (a token may be
#: one: ``https://ghp_...@github.com/...``), or GitHub's ``owner/repo#ref`` forms.
_GIT_SPEC = re2.compile(
    rb"(?:git\+)?(?:https?|ssh|git)://(?:git@)?[A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?"
    rb"[/:][^\s@]{1,512}"
    rb"|(?:git\+ssh://)?git@[A-Za-z0-9.-]{1,253}:[^\s@]{1,512}"
    rb"|(?:github|gitlab|bitbucket):[A-Za-z0-9_.-]{1,100}/[^\s@]{1,256}"
)


def version_spec(value: str) -> bool:
    """Is ``value`` what a package manifest's dependency map holds: a version
    constraint, a dist-tag, a workspace or alias, a local path or a git URL without a
    credential (see _VERSION_SPEC, _GIT_SPEC)?

    Kept only in DEPENDENCY_MAPS, whose keys are packages' names: a package named for a
    secret (``passport-accesstoken``) is no field. Not everywhere: a PIN or a one-time
    code (``"pin": "1234"``) is a version too. Nothing with ``@`` past a scheme but
    ``git@`` is kept, so a token in a git URL's user information is still replaced.
    """
    if len(value) > 1024:
        return False
    data = value.encode("utf-8", "surrogatepass")
    return _VERSION_SPEC.fullmatch(data) is not None or _GIT_SPEC.fullmatch(data) is not None


#: File extensions a file name ends with (case-insensitive): documents, images, audio,
#: video, archives and compressions, data, code and configuration.
_EXTENSIONS = frozenset(
    {
        "jpg", "jpeg", "jpe", "png", "gif", "webp", "avif", "heic", "heif", "bmp", "tif",
        "tiff", "svg", "svgz", "ico", "raw", "dng", "cr2", "nef", "psd", "ai", "eps",
        "pdf", "txt", "md", "rst", "rtf", "doc", "docx", "dot", "odt", "xls", "xlsx", "ods",
        "ppt", "pptx", "odp", "key", "pages", "numbers", "epub", "tex", "csv", "tsv", "json",
        "jsonl", "ndjson", "geojson", "xml", "html", "htm", "yaml", "yml", "toml", "ini",
        "cfg", "conf", "log", "parquet", "avro", "orc", "arrow", "feather", "h5", "hdf",
        "nc", "sql", "db", "sqlite", "mp3", "m4a", "aac", "wav", "flac", "ogg", "oga",
        "opus", "mid", "midi", "mp4", "m4v", "mov", "avi", "mkv", "webm", "wmv", "flv",
        "mpg", "mpeg", "3gp", "m3u8", "ts", "vtt", "srt", "zip", "tar", "gz", "tgz", "bz2",
        "xz", "zst", "7z", "rar", "br", "lz4", "js", "mjs", "css", "map", "wasm", "py",
        "rb", "go", "java", "jar", "war", "class", "c", "h", "cpp", "rs", "sh", "ps1",
        "exe", "dll", "so", "bin", "dmg", "pkg", "deb", "rpm", "apk", "ipa", "iso", "img",
        "vcf", "ics", "eml", "msg", "ttf", "otf", "woff", "woff2", "bak", "tmp", "dat",
        "whl", "gem", "crt", "cer", "pem", "pub",
    }
)  # fmt: skip
#: A token of a segment (see object_path): lower case or capitals with digits (``2024``,
#: ``a1b2c3``, ``IMG``, ``DSC01234``, a UUID's parts), a word in mixed case (``Beach``,
#: ``iPhone``, ``MacBook``, ``HTTPServer``: humps of a capital and three small letters
#: or more) with digits around it (``Photo1``), or a word with letters beyond
#: ASCII (``Müller``, ``写真``).
_TOKEN = (
    r"(?:[a-z0-9]+|[A-Z0-9]+|[0-9]*(?:[A-Z][a-z]+|(?:[a-z]+|[A-Z][a-z]+|[A-Z]{2,})"
    r"(?:[A-Z][a-z]{3,})+)[0-9]*"
    r"|[A-Za-z0-9]*(?:[^\x00-\x7f][A-Za-z0-9]*)+)"
)
#: A segment: tokens between separators (``IMG_2024-07-01``, ``Photo (1)``,
#: ``dt=2024-07-01``, ``icon@2x``, ``.env``); it never ends with ``=`` (base64's padding).
_SEGMENT = f"[\\-_.@,() ]*{_TOKEN}(?:[\\-_.=@,() ]+{_TOKEN})*[\\-_.@,() ]*"
#: Segments joined by "/", an absolute path's leading "/" and a folder's trailing one.
_PATH = re2.compile(f"/?{_SEGMENT}(?:/{_SEGMENT})*/?".encode())
#: S3's longest object key, in bytes; a longer value is not read as a path.
_PATH_MAX = 1024


#: A folder's name alone: letters, maybe joined by "-" or "_".
_FOLDER = re.compile(r"[A-Za-z][A-Za-z_-]{0,63}")


def object_path(value: str) -> bool:
    """Is ``value`` a storage path or a file name (``photos/2024/beach.jpg``,
    ``uploads/2024/07/a1b2c3.png``, ``auth/user-not-found``), not a credential?

    Plain segments (_SEGMENT) joined by "/", or one whose name ends with a file
    extension (_EXTENSIONS). Under a name secret only as a whole (``key``,
    ``storage_key``, ``code``), that is what an object store's listing, an upload form
    or an error code holds. It cannot let a credential through: API keys are one run of
    base64, base62, hex or a UUID (no "/", no file extension); the runs of a prefixed
    token, a JWT or a base64 key change case at random
    (``wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY``, ``sk_live_4eC39HqLyjWDarjtT1zdp7dc``),
    which no token here does (a mixed-case word is humps of a capital and three small
    letters or more); a PEM block spans lines; words and dots without a known extension
    (``correct.horse.battery.staple``) are no file name. One RE2 match, linear.
    """
    if len(value) > _PATH_MAX:
        return False
    folder, slash, name = value.rpartition("/")
    if not (folder.strip("/") or (slash and not name)):
        # No "/" between two segments nor after one: a file name, by its extension.
        stem, dot, extension = name.rpartition(".")
        if not (dot and stem and extension.lower() in _EXTENSIONS):
            return False
    elif not name and "/" not in folder.strip("/"):
        # One segment and a "/" (``photos/``): a folder is named by a word, while a
        # token with a "/" after it (``JBSWY3DPEHPK3PXP/``) is still a token.
        return _FOLDER.fullmatch(folder.strip("/")) is not None
    return _PATH.fullmatch(value.encode("utf-8", "surrogatepass")) is not None
