"""Builders of upload files for tests and benchmarks (xlsx, csv in any encoding)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from kechuang.core.tabular import write_xlsx


def xlsx_bytes(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(buffer, headers, rows)
    return buffer.getvalue()


def csv_bytes(headers: Sequence[str], rows: Sequence[Sequence[Any]], encoding="utf-8") -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return text.getvalue().encode(encoding)


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")
