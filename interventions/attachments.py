"""Evidence attachments: which files may be uploaded, where they are stored, how
they are served.

A file is judged by its CONTENT, never by its name or the type the browser claims:
its first bytes are matched against a short table of signatures, a ZIP is opened to
see whether it is really a Word or Excel file ([Content_Types].xml naming the main
part), and anything else must be plain text from end to end. A name whose ending
says something else than the content ("report.pdf" that is a program or a web page)
is refused. Accepted files are stored under a random name with the extension of
the type found; the name they were uploaded with is kept on the row
(Evidence.attachment_name) for the download only.

Why a table of our own rather than the `filetype` package: we accept seven types
whose signatures are fixed and short, `filetype` does not recognise plain text or
CSV at all, and its Word/Excel test only looks at the first bytes of the ZIP; the
check that matters here, [Content_Types].xml inside the archive, needs zipfile anyway.

MEDIA_ROOT is never served as static files: attachments go out through
`attachment_response` (interventions/views.py `evidence_attachment`), to signed-in
users with a role, as downloads, with the content type found and `nosniff`.
"""

from __future__ import annotations

import codecs
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO
from uuid import uuid4

from django.core.exceptions import ValidationError
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# [Content_Types].xml is a few KB; more than this is not an Office file we want to
# decompress (a ZIP bomb would make it gigabytes).
MAX_CONTENT_TYPES_BYTES = 512 * 1024
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class AttachmentType:
    """A kind of file evidence may carry. The first extension is the one it is stored with."""

    label: str
    content_type: str
    extensions: tuple[str, ...]

    @property
    def extension(self) -> str:
        return self.extensions[0]

    @property
    def named(self) -> str:
        """The label with its article: "a PDF", "an Excel spreadsheet (.xlsx)"."""
        return f"{'an' if self.label[0] in 'AEIOU' else 'a'} {self.label}"


PDF = AttachmentType("PDF", "application/pdf", (".pdf",))
PNG = AttachmentType("PNG image", "image/png", (".png",))
JPEG = AttachmentType("JPEG image", "image/jpeg", (".jpg", ".jpeg"))
TEXT = AttachmentType("plain text file", "text/plain", (".txt",))
CSV = AttachmentType("CSV file", "text/csv", (".csv",))
DOCX = AttachmentType(
    "Word document (.docx)",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
)
XLSX = AttachmentType(
    "Excel spreadsheet (.xlsx)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    (".xlsx",),
)
ALLOWED_TYPES = (PDF, PNG, JPEG, TEXT, CSV, DOCX, XLSX)
ALLOWED_IN_WORDS = "a PDF, PNG, JPEG, plain text (.txt), CSV, Word (.docx) or Excel (.xlsx) file"


@dataclass(frozen=True)
class Sniffed:
    """What a file's content is: in words for an error message, and the allowed
    types it may be (plain text may be called .txt or .csv; none if refused)."""

    description: str
    types: tuple[AttachmentType, ...] = ()


# Signatures of the binary types accepted, and of some refused ones, so the error
# can say what the file really is.
SIGNATURES: tuple[tuple[bytes, Sniffed], ...] = (
    (b"%PDF-", Sniffed("a PDF", (PDF,))),
    (b"\x89PNG\r\n\x1a\n", Sniffed("a PNG image", (PNG,))),
    (b"\xff\xd8\xff", Sniffed("a JPEG image", (JPEG,))),
    (b"MZ", Sniffed("a Windows program")),
    (b"\x7fELF", Sniffed("a Linux program")),
    (b"\xcf\xfa\xed\xfe", Sniffed("a macOS program")),
    (b"\xce\xfa\xed\xfe", Sniffed("a macOS program")),
    (b"\xca\xfe\xba\xbe", Sniffed("a macOS or Java program")),
    (b"#!", Sniffed("a script")),
    (b"GIF8", Sniffed("a GIF image")),
    (b"{\\rtf", Sniffed("a Rich Text Format (RTF) document")),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        Sniffed("an old-format or password-protected Office file (.doc, .xls or .ppt)"),
    ),
    (b"Rar!", Sniffed("a RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", Sniffed("a 7-Zip archive")),
    (b"\x1f\x8b", Sniffed("a gzip archive")),
)
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")

# The main part's content type in [Content_Types].xml says what an OOXML file is.
OOXML_MAIN_PARTS = {
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
}

# Control characters never found in text (tab, line feed, form feed and carriage
# return are); the same single bytes in UTF-8 and Windows-1252.
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# Markup that browsers would render as a page if they sniffed it (the WHATWG sniffing
# rules' HTML signatures, plus SVG and XML): refused even when called .txt.
MARKUP_START = re.compile(
    rb"^<(?:!doctype\s+html|html|head|body|script|iframe|h1|div|font|table|a|style|title"
    rb"|b|br|p|svg|img|object|embed|meta|link|form)[\s/>]|^<!--|^<\?xml",
    re.IGNORECASE,
)


def _read_at(file: IO[bytes], offset: int, size: int) -> bytes:
    file.seek(offset)
    return file.read(size)


def _sniff_zip(file: IO[bytes]) -> Sniffed:
    """A ZIP is acceptable only as a Word or Excel file without macros."""
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names:
                return Sniffed("a ZIP archive")
            if archive.getinfo("[Content_Types].xml").file_size > MAX_CONTENT_TYPES_BYTES:
                return Sniffed("a damaged Office file")
            with archive.open("[Content_Types].xml") as part:
                content_types = part.read(MAX_CONTENT_TYPES_BYTES)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, ValueError, OSError):
        # RuntimeError: an encrypted member; the others: a damaged archive.
        return Sniffed("a damaged or encrypted ZIP archive")
    if b"macroEnabled" in content_types or any(n.endswith("vbaProject.bin") for n in names):
        return Sniffed("an Office file with macros")
    for main_part, kind in OOXML_MAIN_PARTS.items():
        if main_part in content_types:
            return Sniffed(kind.named, (kind,))
    return Sniffed("an Office file of another kind (not .docx or .xlsx)")


def _is_text(file: IO[bytes]) -> bool:
    """Plain text from end to end: no control characters, and UTF-8 or Windows-1252."""
    for encoding in ("utf-8", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        file.seek(0)
        try:
            while chunk := file.read(CHUNK_BYTES):
                if CONTROL_BYTES.search(chunk):
                    return False
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return True
    return False


def sniff(file: IO[bytes]) -> Sniffed:
    """What the file's bytes are, whatever it is called. Leaves it at its start."""
    try:
        head = _read_at(file, 0, 1024)
        if head.startswith(ZIP_SIGNATURES):
            return _sniff_zip(file)
        for signature, sniffed in SIGNATURES:
            if head.startswith(signature):
                return sniffed
        if _is_text(file):
            start = head.removeprefix(codecs.BOM_UTF8).lstrip()
            if MARKUP_START.match(start):
                return Sniffed("a web page (HTML) or other markup")
            return Sniffed("plain text", (TEXT, CSV))
        return Sniffed("a kind of file failwell does not recognise")
    finally:
        file.seek(0)


def extension_of(name: str) -> str:
    """The ending of a file name, lower case, with its dot ("" if there is none)."""
    return os.path.splitext(os.path.basename(name.replace("\\", "/")))[1].lower()


def attachment_type(file: IO[bytes], name: str) -> AttachmentType:
    """The allowed type of an uploaded file, or a ValidationError saying why not.

    The content decides. A name without an ending is fine (the stored file gets
    the right one); an ending that names another type is refused, with what the
    content really is.
    """
    size = getattr(file, "size", None)
    if size is None:
        size = file.seek(0, os.SEEK_END)
    if size == 0:
        raise ValidationError("The attachment is empty", code="empty")
    if size > MAX_ATTACHMENT_BYTES:
        raise ValidationError("The attachment must be smaller than 10 MB", code="too_big")
    sniffed = sniff(file)
    shown = safe_filename(name) or "unnamed"
    ending = extension_of(name)
    if not ending and sniffed.types:
        return sniffed.types[0]
    for kind in sniffed.types:
        if ending in kind.extensions:
            return kind
    claimed = next((kind for kind in ALLOWED_TYPES if ending in kind.extensions), None)
    if not sniffed.types and claimed is None:
        raise ValidationError(
            f"The attachment must be {ALLOWED_IN_WORDS}: “{shown}” is {sniffed.description}",
            code="type_not_allowed",
        )
    # The name claims one type and the content is another: the person (or whoever
    # sent them the file) believes it is something it is not.
    claim = claimed.named if claimed else f"a {ending} file"
    if sniffed.types:
        endings = " or ".join(ext for kind in sniffed.types for ext in kind.extensions)
        advice = f"Choose the original file, or one whose name ends in {endings}"
    else:
        advice = f"Choose the original file. It must be {ALLOWED_IN_WORDS}"
    raise ValidationError(
        f"The attachment “{shown}” is not {claim}: its content is {sniffed.description}. {advice}",
        code="extension_mismatch",
    )


def validate_attachment(value: FieldFile) -> None:
    """Model field validator: every new upload passes the same checks as the form's,
    the admin's included. A file already stored was checked when it came in."""
    if not value or getattr(value, "_committed", True):
        return
    attachment_type(value.file, value.name or "")


FORBIDDEN_IN_NAMES = re.compile(r'[\\/:*?"<>|;]')


def safe_filename(name: str, kind: AttachmentType | None = None) -> str:
    """An uploaded file's name made harmless for a download header and a page.

    No folders, control or format characters, quotes or characters Windows refuses;
    at most 100 characters before the ending; with `kind`, an ending that is one of
    that type's (added when missing). Empty if nothing of the name is left.
    """
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    name = " ".join(FORBIDDEN_IN_NAMES.sub("_", name).split()).strip(". ")
    stem, ending = os.path.splitext(name)
    if kind is not None and ending.lower() not in kind.extensions:
        stem, ending = name, kind.extension
    stem = stem[:100].rstrip(". ")
    if not stem:
        return f"attachment{ending}" if kind is not None else ""
    return f"{stem}{ending.lower()}"


def evidence_upload_to(instance, filename: str) -> str:
    """A random name under evidence/, keeping only an ending from the allow-list.

    The form names the upload after the type its content was found to be (see
    `EvidenceForm.clean_attachment`), and the model's validator refuses any upload
    whose ending disagrees with its content, so the ending kept is the detected
    type's. Nothing a person typed becomes part of a path.
    """
    ending = extension_of(filename)
    kind = next((kind for kind in ALLOWED_TYPES if ending in kind.extensions), None)
    return f"evidence/{uuid4().hex}{kind.extension if kind else ''}"


def attachment_response(evidence) -> FileResponse:
    """The evidence's attachment as a download, streamed from storage.

    The content type is found again from the stored bytes (never from the name), a
    file that no longer passes the checks goes out as application/octet-stream, and
    `nosniff` stops a browser from guessing otherwise. 404 when there is none.
    """
    if not evidence.attachment:
        raise Http404("This evidence has no attachment.")
    try:
        stored = evidence.attachment.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("The attachment's file is missing.") from None
    sniffed = sniff(stored)
    stored_ending = extension_of(evidence.attachment.name)
    kind = next((k for k in sniffed.types if stored_ending in k.extensions), None)
    if kind is None and sniffed.types and not stored_ending:
        kind = sniffed.types[0]
    # The name it was uploaded with, if it has one and the content still agrees;
    # otherwise one made from the evidence's id, so a stale ending is never repeated.
    if evidence.attachment_name and kind is not None:
        download_name = safe_filename(evidence.attachment_name, kind)
    else:
        download_name = f"evidence-{evidence.pk}{kind.extension if kind else ''}"
    response = FileResponse(
        stored,
        as_attachment=True,
        filename=download_name,
        content_type=kind.content_type if kind else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Evidence is for signed-in staff only: no shared cache may keep a copy.
    response["Cache-Control"] = "private, no-store"
    return response
