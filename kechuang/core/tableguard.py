"""Guards for reading untrusted tables: size limits, declared sheet sizes, a contained reader.

A 1.6 KB .xlsx can declare (or hold) a cell at XFD1048576, and the spreadsheet reader
then allocates a dense grid of 17 billion cells and aborts the whole process. So:

* :class:`Limits` — rows, columns and characters per cell an import accepts (settings);
* :func:`declared_sizes` — each worksheet's ``<dimension ref>`` read from the first
  bytes of its XML, so an absurd declared size is refused before anything is read;
* :func:`run_contained` — runs the read in a forked child with an address-space and
  CPU-time limit. A native abort, ``MemoryError`` or runaway loop kills the child,
  never the web process or the worker; the caller gets :class:`ReaderDied`.
  The read table comes back column by column (:func:`encode_table`), which costs a
  fraction of pickling a million cells one by one.
"""

from __future__ import annotations

import html
import os
import pickle
import posixpath
import re
import resource
import signal
import zipfile
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

# Excel's own limit for the text of one cell.
EXCEL_MAX_CELL_CHARS = 32_767
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref=\"([^\"]*)\"")
_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
_HEAD_BYTES = 64 * 1024  # the dimension element comes before sheetData
_PART_BYTES = 4 * 1024 * 1024  # workbook.xml and its relationships
# A start tag (local name in group 1) and its attributes; r:id keeps its usual prefix.
_ELEMENT = re.compile(r"<(?:[\w.-]+:)?(sheet|Relationship)\b[^>]*>")
_ATTRIBUTE = re.compile(r"([\w:.-]+)\s*=\s*\"([^\"]*)\"")


@dataclass(frozen=True)
class Limits:
    """How much of an uploaded table is read; anything larger is refused with a message."""

    max_rows: int
    max_columns: int
    max_cell_chars: int
    memory_mb: int
    cpu_seconds: int
    contained: bool

    @classmethod
    def from_settings(cls, max_rows: int | None = None) -> Limits:
        rows = getattr(settings, "TABULAR_MAX_ROWS", 200_000)
        return cls(
            max_rows=min(rows, max_rows) if max_rows else rows,
            max_columns=getattr(settings, "TABULAR_MAX_COLUMNS", 200),
            max_cell_chars=getattr(settings, "TABULAR_MAX_CELL_CHARS", EXCEL_MAX_CELL_CHARS),
            memory_mb=getattr(settings, "TABULAR_READ_MEMORY_MB", 2048),
            cpu_seconds=getattr(settings, "TABULAR_READ_CPU_SECONDS", 300),
            contained=getattr(settings, "TABULAR_READ_CONTAINED", True) and hasattr(os, "fork"),
        )

    @property
    def max_sheet_rows(self) -> int:
        """Rows a sheet may span: the data rows plus room for titles, notes and the header."""
        return self.max_rows + 100


# ---------------------------------------------------------------------------
# Declared worksheet sizes (.xlsx)
# ---------------------------------------------------------------------------


def _column_number(letters: str) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def parse_dimension(ref: str) -> tuple[int, int] | None:
    """``"A1:K1001"`` -> (1001 rows, 11 columns) counted from A1; None when unreadable."""
    end = ref.strip().split(":")[-1]
    match = _CELL_REF.match(end)
    if not match:
        return None
    return int(match.group(2)), _column_number(match.group(1))


def declared_sizes(archive: zipfile.ZipFile) -> dict[str, tuple[int, int]]:
    """Worksheet name -> (rows, columns) declared by its ``<dimension ref>`` (where it has one).

    Reads the workbook's sheet list and relationships with regular expressions, not an XML
    parser: nothing here expands entities or builds a tree from untrusted input.
    """
    try:
        workbook = _head(archive, "xl/workbook.xml", _PART_BYTES).decode("utf-8", "replace")
        rels = _head(archive, "xl/_rels/workbook.xml.rels", _PART_BYTES).decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError):
        return {}
    targets = {}
    for element in _ELEMENT.finditer(rels):
        if element.group(1) != "Relationship":
            continue
        attributes = _attributes(element.group(0))
        targets[attributes.get("Id")] = attributes.get("Target", "")
    sizes: dict[str, tuple[int, int]] = {}
    for element in _ELEMENT.finditer(workbook):
        if element.group(1) != "sheet":
            continue
        attributes = _attributes(element.group(0))
        target = targets.get(attributes.get("r:id") or attributes.get("id"), "")
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        try:
            head = _head(archive, posixpath.normpath(part), _HEAD_BYTES)
        except (KeyError, zipfile.BadZipFile, OSError, RuntimeError):
            continue
        match = _DIMENSION.search(head)
        size = parse_dimension(match.group(1).decode("ascii", "replace")) if match else None
        if size:
            sizes[html.unescape(attributes.get("name", ""))] = size
    return sizes


def _attributes(tag: str) -> dict[str, str]:
    """The attributes of one start tag, without namespace prefixes except ``r:id``."""
    found = {}
    for name, value in _ATTRIBUTE.findall(tag):
        found[name if name == "r:id" else name.rsplit(":", 1)[-1]] = value
    return found


def _head(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """At most ``limit`` decompressed bytes from the start of a zip member."""
    with archive.open(name) as member:
        return member.read(limit)


# ---------------------------------------------------------------------------
# The contained read
# ---------------------------------------------------------------------------


class ReaderDied(Exception):
    """The child reading the file was killed (memory or CPU limit, native crash)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "memory", "time" or "crash"


def _address_space_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _limit_child(limits: Limits) -> None:
    current = _address_space_bytes()
    if current is not None:
        wanted = current + limits.memory_mb * 1024 * 1024
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(
            resource.RLIMIT_AS,
            (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard),
        )
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime) + limits.cpu_seconds
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(
        resource.RLIMIT_CPU, (cpu if hard == resource.RLIM_INFINITY else min(cpu, hard), hard)
    )


def run_contained(read: Callable[[], Any], limits: Limits) -> Any:
    """Return ``read()`` run in a forked child under ``limits``; exceptions it raises are re-raised.

    ``read`` returns a picklable value (see :func:`encode_table`) or raises a picklable
    exception. A child that dies instead raises :class:`ReaderDied` here.
    """
    if not limits.contained:
        return read()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: read, send the outcome, leave without running any cleanup
        code = 1
        try:
            os.close(reader)
            _limit_child(limits)
            try:
                outcome: tuple[str, Any] = ("ok", read())
            except MemoryError:
                outcome = ("died", "memory")
            except Exception as exc:  # noqa: BLE001 - handed to the parent as it is
                outcome = ("raised", exc)
            try:
                payload = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # noqa: BLE001 - an unpicklable exception
                payload = pickle.dumps(("raised", RuntimeError(repr(exc))))
            with os.fdopen(writer, "wb") as out:
                out.write(payload)
            code = 0
        finally:
            os._exit(code)
    os.close(writer)
    with os.fdopen(reader, "rb") as source:
        payload = source.read()
    try:
        _pid, status = os.waitpid(pid, 0)
    except ChildProcessError:  # SIGCHLD ignored by the server: the child was reaped already
        status = 0
    if os.WIFSIGNALED(status) or not payload:
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
        raise ReaderDied("time" if sig in (signal.SIGXCPU, signal.SIGKILL) else "memory"
                         if sig == signal.SIGABRT else "crash")  # fmt: skip
    try:
        kind, value = pickle.loads(payload)  # noqa: S301 - written by our own child
    except (pickle.UnpicklingError, EOFError, ValueError):  # cut off mid-write
        raise ReaderDied("crash") from None
    if kind == "raised":
        raise value
    if kind == "died":
        raise ReaderDied(value)
    return value


# ---------------------------------------------------------------------------
# Handing a table back from the child: column by column
# ---------------------------------------------------------------------------

_SEP = "\x00"  # never in a cell read from XML; checked for other sources


def _encode_column(column: tuple[Any, ...]) -> tuple[str, Any]:
    kinds = set(map(type, column))
    if kinds <= {str, type(None)}:
        # Read cells are stripped text or None, never "": "" stands for None here.
        joined = _SEP.join([cell or "" for cell in column] if type(None) in kinds else column)
        if joined.count(_SEP) == len(column) - 1:
            return "s", joined.encode("utf-8", "surrogatepass")
    elif kinds == {int}:
        try:
            return "q", array("q", column).tobytes()
        except OverflowError:
            pass
    return "p", column


def _decode_column(kind: str, data: Any) -> list[Any] | array | tuple:
    if kind == "s":
        cells = data.decode("utf-8", "surrogatepass").split(_SEP)
        return [cell or None for cell in cells] if "" in cells else cells
    if kind == "q":
        values = array("q")
        values.frombytes(data)
        return values.tolist()
    return data


def encode_table(table: Any) -> dict[str, Any]:
    """A read Table as a few large strings and arrays instead of one object per cell."""
    rows = table.rows
    columns = list(zip(*(row.values for row in rows), strict=True)) if rows else []
    return {
        **{
            k: getattr(table, k)
            for k in ("headers", "kind", "header_row", "skipped_rows", "sheet_name", "encoding")
        },  # fmt: skip
        "numbers": array("q", [row.number for row in rows]).tobytes(),
        "columns": [_encode_column(column) for column in columns],
    }


def decode_table(encoded: dict[str, Any], table_class: type, row_class: type) -> Any:
    """The Table that :func:`encode_table` encoded."""
    numbers = array("q")
    numbers.frombytes(encoded.pop("numbers"))
    columns = [_decode_column(kind, data) for kind, data in encoded.pop("columns")]
    if not columns:
        return table_class(rows=[], **encoded)
    values = map(list, zip(*columns, strict=True))
    rows = list(map(row_class._make, zip(numbers.tolist(), values, strict=True)))
    # "p" columns come back as tuples; importers want lists they may index and scan.
    columns = [column if type(column) is list else list(column) for column in columns]
    return table_class(rows=rows, columns=columns, **encoded)
