"""Text of an uploaded plan: .txt in any common Chinese encoding, .docx, or .pdf with a text layer.

Word tables are rendered as tab-separated rows in document order, so the same table
logic reads a .docx and a text copy of it.
"""

from __future__ import annotations

import io
from pathlib import Path


class SourceError(ValueError):
    """The file cannot be read as plan text; the message says why and what to do."""


TEXT_SUFFIXES = {".txt", ".text", ".md", ".csv", ""}


def decode_text(data: bytes) -> str:
    """Decode bytes from UTF-8 (with or without BOM), UTF-16 with BOM, or GBK/GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise SourceError(
            "The text file is neither UTF-8 nor GBK/GB18030; save it as UTF-8 and upload again."
        ) from exc


def _docx_text(data: bytes) -> str:
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for a damaged file
        raise SourceError(
            f"The .docx file cannot be opened ({exc}); is it a Word 2007+ file?"
        ) from exc
    lines: list[str] = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(block, document).text)
        elif tag == "tbl":
            for row in Table(block, document).rows:
                cells = []
                previous = None
                for cell in row.cells:
                    # A horizontally merged cell is returned once per grid column.
                    if previous is not None and cell._tc is previous:
                        continue
                    previous = cell._tc
                    cells.append(" ".join(cell.text.split()))
                lines.append("\t".join(cells))
            lines.append("")
    return "\n".join(lines)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except PdfReadError as exc:
        raise SourceError(f"The PDF cannot be read ({exc}).") from exc
    text = "\n".join(pages)
    if len("".join(text.split())) < 20:
        raise SourceError(
            "The PDF has no text layer (it is a scan); run OCR on it or upload the .docx/.txt version."
        )
    return text


def read_source(path_or_bytes: str | Path | bytes, filename: str | None = None) -> str:
    """Plan text from a path or from uploaded bytes; filename gives the type when bytes are passed."""
    if isinstance(path_or_bytes, bytes | bytearray):
        data = bytes(path_or_bytes)
        name = filename or ""
    else:
        path = Path(path_or_bytes)
        data = path.read_bytes()
        name = filename or path.name
    suffix = Path(name).suffix.lower()
    if suffix == ".docx" or (not suffix and data.startswith(b"PK")):
        text = _docx_text(data)
    elif suffix == ".pdf" or (not suffix and data.startswith(b"%PDF")):
        text = _pdf_text(data)
    elif suffix == ".doc":
        raise SourceError(
            "Old .doc files are not supported; save the file as .docx and upload again."
        )
    elif suffix in TEXT_SUFFIXES:
        text = decode_text(data)
    else:
        raise SourceError(f"Unsupported file type {suffix!r}: upload a .txt, .docx or .pdf file.")
    return text.replace("\r\n", "\n").replace("\r", "\n")
