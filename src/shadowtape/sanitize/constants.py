"""Values under a secret-looking name that are plainly not secrets: constants and flags.

Under a name secret only as a whole or by a qualifier (``code``, ``key``, ``device_code``:
NameMatcher.whole_only), a table's column, a CSV export's column or an HTML form's
``state`` usually holds a constant: a country, currency, airport or ledger code (``DE``,
``USD``, ``BER``, ``ASSET``), an error code (``E0042``, ``E_AUTH``), a status (``200``), a
key combination (``Ctrl+S``) or a setting's name (names.is_symbol). A credential (an
OAuth code or state, a one-time or recovery code, an API key) is longer, mixes letters
and digits, or runs to eight capitals or more (``WDJBMJHT``, RFC 8628's user code).
Under any secret name, a cell saying yes or no (``true``, ``n``) says whether, not what,
and a placeholder (``n/a``, ``***``, ``$DB_PASSWORD``) says where, not what.
Under a name secret as a whole only, a storage path (``photos/2024/beach.jpg``:
object_path, what every format asks) says where a file is, not what a key is.
"""

from __future__ import annotations

import re

import re2

from shadowtape.sanitize.names import is_symbol

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


def kept(value: str, *, whole: bool) -> bool:
    """Is ``value`` (a cell's or an attribute's text, under a secret name) a yes/no
    answer, or, under a name secret as a whole only (``whole``), a constant?"""
    if whole and object_path(value):
        return True
    if len(value) > _MAX:
        return False
    if reference(value):
        return True
    if whole:
        return _CONSTANT.fullmatch(value) is not None or is_symbol(value)
    return _FLAGS.fullmatch(value) is not None


def symbol_or_path(value: object) -> bool:
    """Is ``value``, under a name secret as a whole only (``key``, ``code``,
    ``storage_key``), a constant's name or small code (names.is_symbol) or a storage path
    (object_path)? What JSON, XML, text fields and GraphQL variables keep there."""
    return is_symbol(value) or (isinstance(value, str) and object_path(value))


def key_path(name_words: tuple[str, ...], value: str, *, whole_only: bool) -> bool:
    """Is ``value`` a storage path under a name ending in ``key`` that is secret as a whole
    only (``key``, ``storage_key``: ``whole_only``), as the ``key`` field of an S3 upload
    form is? What query strings, forms and multipart fields keep: there ``code`` and
    ``state`` are OAuth's, and constants are not told apart (params.py)."""
    return whole_only and name_words[-1:] == ("key",) and object_path(value)


def reference(value: str) -> bool:
    """Does the value name a secret rather than hold one: a shell variable or command
    (``"$MYSQL_PASSWORD"``, ``${TOKEN}``, ``$(cat pw)``), a Windows variable (``%PW%``)
    or a template (``{{ password }}``)? Its own text is no secret."""
    value = value.strip("\"'")
    return value.startswith(("$", "{{")) or (
        len(value) > 2 and value[0] == "%" and value[-1] == "%"
    )


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
    return _PATH.fullmatch(value.encode("utf-8", "surrogatepass")) is not None
