"""CSV however it is labelled: the other CSV types, a file named ``.csv`` sent untyped
(a download or an upload), and a ``text/plain`` body shaped as a table with a header."""

from __future__ import annotations

import pytest

from shadowtape.sanitize import Sanitizer
from tests.sanitize.posted import posted
from tests.sanitize.served import served, stored

SANITIZER = Sanitizer(key=b"k")
CSV = "id,email_verified,password\r\n1,yes,hunter2hunter2X\r\n2,no,s3cr3tzzQ\r\n"


def _download(body: str, headers: tuple[tuple[str, str], ...]) -> str:
    return stored(SANITIZER, served(body, headers=headers))


@pytest.mark.parametrize(
    "headers",
    [
        (("Content-Type", "application/vnd.ms-excel"),),
        (("Content-Type", "text/x-csv"),),
        (("Content-Type", "text/comma-separated-values"),),
        (("Content-Type", "application/x-csv"),),
        (
            ("Content-Type", "application/octet-stream"),
            ("Content-Disposition", 'attachment; filename="users.csv"'),
        ),
        (("Content-Disposition", "attachment; filename*=UTF-8''users%20Q1.CSV"),),
        (("Content-Type", "text/plain; charset=utf-8"),),
    ],
    ids=[
        "ms-excel",
        "x-csv",
        "comma-separated-values",
        "x-csv app",
        "octet-stream",
        "untyped",
        "plain",
    ],
)
def test_a_secret_column_is_replaced_however_csv_is_labelled(
    headers: tuple[tuple[str, str], ...],
) -> None:
    stored = _download(CSV, headers)
    assert "hunter2hunter2X" not in stored and "s3cr3tzzQ" not in stored
    assert stored.startswith("id,email_verified,password\r\n1,yes,")


def test_an_uploaded_csv_file_sent_untyped_is_read_as_csv() -> None:
    body = (
        "--b\r\n"
        'Content-Disposition: form-data; name="file"; filename="users.csv"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
        f"{CSV}\r\n--b--\r\n"
    )
    out = SANITIZER.sanitize(posted(body, "multipart/form-data; boundary=b"))
    assert b"hunter2hunter2X" not in out.request.body and b"s3cr3tzzQ" not in out.request.body
    assert b"1,yes," in out.request.body


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        # Prose with commas, a key/value file, a log: not a table with a header.
        (
            "Dear user, your password\nhas been reset, thanks\n",
            (("Content-Type", "text/plain"),),
        ),
        ("password,hunter2hunter2X\n", (("Content-Type", "text/plain"),)),
        ("id,note\n1,hunter2hunter2X\n", (("Content-Type", "text/plain"),)),
        # A .csv name on a body typed as something else is not read as CSV.
        (
            "id;password\n1;hunter2hunter2X\n",
            (
                ("Content-Type", "application/pdf"),
                ("Content-Disposition", 'attachment; filename="a.csv"'),
            ),
        ),
    ],
    ids=["prose", "one row", "no secret column", "typed otherwise"],
)
def test_text_that_is_not_csv_with_a_secret_column_is_kept(
    body: str, headers: tuple[tuple[str, str], ...]
) -> None:
    assert _download(body, headers) == body
