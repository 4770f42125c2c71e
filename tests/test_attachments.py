"""Evidence attachments: judged by content, stored under random names, downloaded only
by signed-in users with a role, as attachments with the type found and `nosniff`."""

import io
import re
import struct
import zipfile
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import Resolver404, resolve

from interventions.attachments import (
    CSV,
    DOCX,
    JPEG,
    PDF,
    PNG,
    TEXT,
    XLSX,
    attachment_type,
    safe_filename,
)
from interventions.models import Evidence
from tests.factories import make_evidence, make_user

pytestmark = pytest.mark.django_db

URL = "/institutions/eltham/evidence/"
HTMX = {"HTTP_HX_REQUEST": "true"}
RANDOM_NAME = re.compile(r"^evidence/[0-9a-f]{32}(\.[a-z]+)?$")


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# Small but real files of each kind -------------------------------------------------


def pdf_bytes() -> bytes:
    return b"%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
EXCEL_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
SLIDES_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
WORD_MACROS_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


def ooxml_bytes(main_type: str, main_part: str, extra: dict[str, bytes] | None = None) -> bytes:
    """A ZIP laid out as Office Open XML: [Content_Types].xml naming the main part."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{main_part}" ContentType="{main_type}"/></Types>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr(main_part, "<document/>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    return ooxml_bytes(WORD_MAIN, "word/document.xml")


def xlsx_bytes() -> bytes:
    return ooxml_bytes(EXCEL_MAIN, "xl/workbook.xml")


def plain_zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


def exe_bytes() -> bytes:
    return (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 50 + b"This program cannot be run in DOS"
    )


HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def upload(name: str, content: bytes, content_type: str = "application/pdf"):
    """What a browser sends; the content type it claims is ignored by design."""
    return SimpleUploadedFile(name, content, content_type)


# What is accepted, judged by content ---------------------------------------------


ACCEPTED = [
    ("visit-note.pdf", pdf_bytes(), PDF),
    ("SCAN.PDF", pdf_bytes(), PDF),
    ("corridor.png", png_bytes(), PNG),
    ("photo.jpg", jpeg_bytes(), JPEG),
    ("photo.jpeg", jpeg_bytes(), JPEG),
    ("notes.txt", b"Calmer corridors, said the head.\r\n", TEXT),
    ("notes.txt", b"\xef\xbb\xbfUTF-8 with a byte order mark\n", TEXT),
    ("return.csv", b"term,rate\nautumn,12.5\nspring,11.0\n", CSV),
    ("return.csv", "pupil,\u00a3 owed,caf\u00e9\n".encode("cp1252"), CSV),
    ("plan.docx", docx_bytes(), DOCX),
    ("figures.xlsx", xlsx_bytes(), XLSX),
    ("scan", pdf_bytes(), PDF),
    ("notes", b"no ending at all\n", TEXT),
]


@pytest.mark.parametrize(
    ("name", "content", "expected"), ACCEPTED, ids=[row[0] for row in ACCEPTED]
)
def test_allowed_types_are_recognised_by_their_content(name, content, expected):
    assert attachment_type(upload(name, content, "application/octet-stream"), name) == expected


REFUSED = [
    ("setup.exe", exe_bytes(), "is a Windows program"),
    ("report.pdf", exe_bytes(), "is not a PDF: its content is a Windows program"),
    ("report.pdf", HTML, "is not a PDF: its content is a web page (HTML)"),
    ("notes.txt", HTML, "is a web page (HTML) or other markup"),
    ("image.png", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "is not a PNG image"),
    ("plan.docx", plain_zip_bytes(), "is a ZIP archive"),
    ("slides.docx", ooxml_bytes(SLIDES_MAIN, "ppt/presentation.xml"), "of another kind"),
    ("plan.docx", ooxml_bytes(WORD_MACROS_MAIN, "word/document.xml"), "with macros"),
    (
        "plan.docx",
        ooxml_bytes(WORD_MAIN, "word/document.xml", {"word/vbaProject.bin": b"\x00"}),
        "with macros",
    ),
    ("plan.docx", b"PK\x03\x04 not really a zip", "damaged or encrypted ZIP"),
    ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old-format"),
    ("data.csv", b"a,b\n1,\x002\n", "does not recognise"),
    ("run.sh", b"#!/bin/sh\nrm -rf /\n", "is a script"),
    ("plan.pdf", docx_bytes(), "is not a PDF: its content is a Word document"),
    ("photo.png", jpeg_bytes(), "is not a PNG image: its content is a JPEG image"),
    (
        "return.xlsx",
        b"term,rate\n",
        "is not an Excel spreadsheet (.xlsx): its content is plain text",
    ),
    ("notes.html", b"just words\n", "is not a .html file: its content is plain text"),
]


@pytest.mark.parametrize(("name", "content", "words"), REFUSED, ids=[row[0] for row in REFUSED])
def test_anything_else_or_a_lying_name_is_refused_saying_what_it_really_is(name, content, words):
    with pytest.raises(ValidationError) as refused:
        attachment_type(upload(name, content), name)
    assert words in refused.value.messages[0]


def test_the_limit_is_10_mb_exactly():
    limit = 10 * 1024 * 1024
    fits = b"%PDF-" + b" " * (limit - 5)
    assert attachment_type(upload("big.pdf", fits), "big.pdf") == PDF
    with pytest.raises(ValidationError, match="must be smaller than 10 MB"):
        attachment_type(upload("big.pdf", fits + b" "), "big.pdf")


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("visit-note.pdf", PDF, "visit-note.pdf"),
        ("../../etc/passwd.txt", TEXT, "passwd.txt"),
        ("C:\\Users\\lena\\Desktop\\plan.docx", DOCX, "plan.docx"),
        ('a"; filename="evil.html\r\n.pdf', PDF, "a__ filename=_evil.html.pdf"),
        ("scan", PDF, "scan.pdf"),
        ("photo.JPEG", JPEG, "photo.jpeg"),
        ("...", PDF, "attachment.pdf"),
        ("\u202egnp.exe.pdf", PDF, "gnp.exe.pdf"),
        (
            "Rapport d\u2019inspection \u00e9t\u00e9.pdf",
            PDF,
            "Rapport d\u2019inspection \u00e9t\u00e9.pdf",
        ),
        ("x" * 300 + ".pdf", PDF, "x" * 100 + ".pdf"),
    ],
)
def test_the_name_kept_for_the_download_is_made_harmless(name, kind, expected):
    assert safe_filename(name, kind) == expected


# Through the log-evidence form -----------------------------------------------------


def observation(**overrides) -> dict:
    data = {
        "evidence_type": "observation",
        "direction": "positive",
        "summary": "Calmer corridors at lunchtime",
        "observed_on_day": "15",
        "observed_on_month": "1",
        "observed_on_year": "2025",
    }
    data.update(overrides)
    return data


def error_summary(html: str) -> list[tuple[str, str]]:
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', html, re.S)
    assert summary, "no error summary on the page"
    return re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', summary.group(0))


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_a_lead_attaches_a_pdf_stored_under_a_random_name(client, lead, institution, settings):
    client.force_login(lead)
    response = client.post(URL, observation(attachment=upload("Visit note.pdf", pdf_bytes())))

    evidence = Evidence.objects.get()
    assert response.status_code == 302
    assert RANDOM_NAME.match(evidence.attachment.name)
    assert evidence.attachment.name.endswith(".pdf")
    assert "Visit" not in evidence.attachment.name
    assert evidence.attachment_name == "Visit note.pdf"
    assert [path.name for path in stored_files(settings)] == [evidence.attachment.name[9:]]


def test_two_uploads_with_the_same_name_never_share_a_file(client, lead, institution):
    client.force_login(lead)
    client.post(URL, observation(attachment=upload("note.pdf", pdf_bytes())))
    client.post(URL, observation(attachment=upload("note.pdf", pdf_bytes() + b"%v2")))

    first, second = Evidence.objects.order_by("pk")
    assert first.attachment.name != second.attachment.name
    assert first.attachment_name == second.attachment_name == "note.pdf"


@pytest.mark.parametrize(
    ("name", "content", "stored_ending", "download_name"),
    [
        ("photo.jpeg", jpeg_bytes(), ".jpg", "photo.jpeg"),
        ("scan", pdf_bytes(), ".pdf", "scan.pdf"),
        ("return.csv", b"term,rate\n", ".csv", "return.csv"),
        ("../../../etc/cron.d/job.txt", b"words\n", ".txt", "job.txt"),
    ],
)
def test_the_stored_ending_is_the_detected_types(
    client, lead, institution, name, content, stored_ending, download_name
):
    client.force_login(lead)
    client.post(URL, observation(attachment=upload(name, content)))

    evidence = Evidence.objects.get()
    assert RANDOM_NAME.match(evidence.attachment.name)
    assert evidence.attachment.name.endswith(stored_ending)
    assert evidence.attachment_name == download_name


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "report.pdf",
            exe_bytes(),
            "The attachment “report.pdf” is not a PDF: its content is a Windows program",
        ),
        ("report.pdf", HTML, "The attachment “report.pdf” is not a PDF: its content is a web page"),
        (
            "setup.exe",
            exe_bytes(),
            "The attachment must be a PDF, PNG, JPEG, plain text (.txt), CSV, Word (.docx) or "
            "Excel (.xlsx) file: “setup.exe” is a Windows program",
        ),
        (
            "big.pdf",
            b"%PDF-" + b"x" * (10 * 1024 * 1024),
            "The attachment must be smaller than 10 MB",
        ),
    ],
    ids=["lying-exe", "lying-html", "wrong-type", "oversized"],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_a_refused_upload_is_a_form_error_in_the_summary_and_nothing_is_saved(
    client, lead, institution, settings, name, content, message, htmx
):
    client.force_login(lead)
    headers = HTMX if htmx else {}

    response = client.post(URL, observation(attachment=upload(name, content)), **headers)

    html = response.content.decode()
    assert response.status_code == 200
    [(anchor, shown)] = error_summary(html)
    assert anchor == "observation_attachment"
    assert shown.startswith(message)
    assert 'id="observation_attachment-error"' in html
    assert not Evidence.objects.exists()
    assert stored_files(settings) == []


def test_the_browsers_claimed_type_counts_for_nothing(client, lead, institution):
    client.force_login(lead)
    client.post(URL, observation(attachment=upload("note.pdf", HTML, "application/pdf")))
    client.post(URL, observation(attachment=upload("note.pdf", pdf_bytes(), "text/html")))

    assert Evidence.objects.get().attachment_name == "note.pdf"


def test_the_admin_checks_uploads_by_content_too(admin_client, institution, settings):
    """The model's validator, so an upload in the admin passes the same checks."""
    response = admin_client.post(
        "/admin/interventions/evidence/add/",
        {
            "institution": institution.pk,
            "observed_on": "2025-01-15",
            "direction": "positive",
            "summary": "From the admin",
            "attachment": upload("minutes.pdf", HTML),
        },
    )

    assert response.status_code == 200
    assert "is not a PDF: its content is a web page (HTML)" in response.content.decode()
    assert not Evidence.objects.exists()
    assert stored_files(settings) == []


def test_the_admin_stores_a_good_upload_under_a_random_name(admin_client, institution):
    admin_client.post(
        "/admin/interventions/evidence/add/",
        {
            "institution": institution.pk,
            "observed_on": "2025-01-15",
            "direction": "positive",
            "summary": "From the admin",
            "attachment": upload("minutes.pdf", pdf_bytes()),
        },
    )

    assert RANDOM_NAME.match(Evidence.objects.get().attachment.name)


# Downloading ------------------------------------------------------------------------


def with_attachment(institution, name: str = "Visit note.pdf", content: bytes | None = None):
    evidence = make_evidence(institution, attachment_name=name)
    evidence.attachment.save(name, ContentFile(content or pdf_bytes()))
    return evidence


def download_url(evidence) -> str:
    return f"/evidence/{evidence.pk}/attachment/"


@pytest.mark.parametrize("persona", ["officer", "lead", "other_lead", "administrator"])
def test_every_role_downloads_it_as_an_attachment_with_the_type_found(
    client, institution, persona, request
):
    evidence = with_attachment(institution)
    client.force_login(request.getfixturevalue(persona))

    response = client.get(download_url(evidence))

    assert response.status_code == 200
    assert response.streaming
    assert b"".join(response.streaming_content) == pdf_bytes()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Visit note.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_signed_out_is_sent_to_sign_in_and_gets_no_bytes(client, institution):
    evidence = with_attachment(institution)

    response = client.get(download_url(evidence))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert b"PDF" not in response.content


def test_signed_in_without_a_role_is_refused(client, institution):
    evidence = with_attachment(institution)
    client.force_login(make_user())

    assert client.get(download_url(evidence)).status_code == 403


def test_missing_evidence_no_attachment_or_a_lost_file_is_404(client, officer, institution):
    without = make_evidence(institution)
    lost = with_attachment(institution)
    lost.attachment.storage.delete(lost.attachment.name)
    client.force_login(officer)

    assert client.get("/evidence/999999/attachment/").status_code == 404
    assert client.get(download_url(without)).status_code == 404
    assert client.get(download_url(lost)).status_code == 404


def test_only_get_is_answered(client, officer, institution):
    evidence = with_attachment(institution)
    client.force_login(officer)

    assert client.post(download_url(evidence)).status_code == 405


def test_retracted_evidence_keeps_its_attachment(client, officer, lead, institution):
    evidence = with_attachment(institution)
    evidence.retract(lead, "Wrong school")
    client.force_login(officer)

    assert client.get(download_url(evidence)).status_code == 200


def test_a_name_outside_ascii_is_sent_as_rfc_5987(client, officer, institution):
    evidence = with_attachment(institution, name="Rapport été.pdf")
    client.force_login(officer)

    disposition = client.get(download_url(evidence))["Content-Disposition"]

    assert disposition == "attachment; filename*=utf-8''Rapport%20%C3%A9t%C3%A9.pdf"


def test_a_stored_name_cannot_break_out_of_the_header(client, officer, institution):
    evidence = with_attachment(institution, name='x.pdf"\r\nSet-Cookie: a=b')
    client.force_login(officer)

    response = client.get(download_url(evidence))

    assert response["Content-Disposition"] == 'attachment; filename="x.pdf_Set-Cookie_ a=b.pdf"'
    assert "a" not in response.cookies


def test_a_file_stored_before_these_checks_goes_out_by_its_content_not_its_name(
    client, officer, institution
):
    """Rows logged before names were random: a page saved as .pdf is sent as bytes."""
    good = make_evidence(institution)
    good.attachment.save("evidence/2024/05/visit.pdf", ContentFile(pdf_bytes()), save=True)
    bad = make_evidence(institution)
    bad.attachment.name = "evidence/2024/05/evil.pdf"
    bad.attachment.storage.save(bad.attachment.name, ContentFile(HTML))
    bad.save()
    client.force_login(officer)

    good_response = client.get(download_url(good))
    bad_response = client.get(download_url(bad))

    assert good_response["Content-Type"] == "application/pdf"
    assert good_response["Content-Disposition"] == f'attachment; filename="evidence-{good.pk}.pdf"'
    assert bad_response["Content-Type"] == "application/octet-stream"
    assert bad_response["Content-Disposition"] == f'attachment; filename="evidence-{bad.pk}"'
    assert bad_response["X-Content-Type-Options"] == "nosniff"


def test_media_files_are_never_served_directly(client, officer, institution, settings):
    evidence = with_attachment(institution)
    client.force_login(officer)

    assert client.get(f"/{settings.MEDIA_URL}{evidence.attachment.name}").status_code == 404
    assert client.get(f"/{evidence.attachment.name}").status_code == 404
    with pytest.raises(Resolver404):
        resolve(f"/{settings.MEDIA_URL}{evidence.attachment.name}")


# Listed where evidence is shown -----------------------------------------------------


def test_the_timeline_and_the_intervention_page_link_to_the_download(client, officer, institution):
    from tests.factories import make_intervention

    intervention = make_intervention(institution)
    evidence = with_attachment(institution)
    evidence.intervention = intervention
    evidence.save(update_fields=["intervention"])
    client.force_login(officer)

    link = (
        f'<a class="govuk-link" href="/evidence/{evidence.pk}/attachment/" download>'
        "Visit note.pdf<span"
    )
    for url in ["/institutions/eltham/", f"/interventions/{intervention.pk}/"]:
        html = client.get(url).content.decode()
        assert link in html, url
        assert "/media/" not in html, url


def test_the_download_link_never_shows_the_stored_random_name(client, officer, institution):
    evidence = with_attachment(institution)
    client.force_login(officer)

    html = client.get("/institutions/eltham/").content.decode()

    assert evidence.attachment.name.rsplit("/", 1)[-1] not in html
