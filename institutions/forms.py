"""The import upload form, and the upload handler that enforces its size limit."""

from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

from institutions.models import ImportKind

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_UPLOAD_WORDS = "50 MB"
# Enough of the file to tell a spreadsheet or other binary file from CSV text.
SNIFF_BYTES = 8192


class SizeLimitUploadHandler(FileUploadHandler):
    """Stops reading an uploaded file once it passes the limit, and says so.

    Without it Django would write the whole upload to a temporary file before the
    form could refuse it. The rest of the request is read and thrown away
    (connection_reset=False), so the browser still gets the page with the error.
    """

    def __init__(self, request: HttpRequest, limit: int | None = None) -> None:
        super().__init__(request)
        self.limit = MAX_UPLOAD_BYTES if limit is None else limit
        request.upload_too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


class ImportUploadForm(forms.Form):
    """What the administrator uploads. The columns are checked when the task reads
    the file: a file with the wrong headers fails there, with their names."""

    kind = forms.ChoiceField(
        label="What kind of file is it?",
        choices=ImportKind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select what kind of file this is",
            "invalid_choice": "Select what kind of file this is",
        },
    )
    # Not required here: clean_file tells "no file" from "a file too large to keep".
    file = forms.FileField(
        label="Upload a file",
        required=False,
        help_text=f"A CSV file as published, UTF-8 or Windows-1252, up to {MAX_UPLOAD_WORDS}",
        error_messages={
            "empty": "The selected file is empty",
            "invalid": "Select a CSV file",
            "max_length": "The selected file's name must be 100 characters or fewer",
        },
        max_length=100,
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )
    dry_run = forms.BooleanField(
        label="Dry run: check the file and report what would change, without saving anything",
        required=False,
    )

    def __init__(self, *args, too_large: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.too_large = too_large

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data.get("file")
        if self.too_large:
            raise forms.ValidationError(
                f"The selected file must be smaller than {MAX_UPLOAD_WORDS}"
            )
        if not upload:
            raise forms.ValidationError("Select a CSV file")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The selected file must be smaller than {MAX_UPLOAD_WORDS}"
            )
        if not upload.name.lower().endswith(".csv"):
            raise forms.ValidationError("The selected file must be a CSV")
        upload.seek(0)
        start = upload.read(SNIFF_BYTES)
        upload.seek(0)
        if not start.strip():
            raise forms.ValidationError("The selected file is empty")
        if b"\x00" in start:
            raise forms.ValidationError(
                "The selected file must be a CSV: this one holds binary data. If it is a "
                "spreadsheet, save it as CSV first"
            )
        return upload
