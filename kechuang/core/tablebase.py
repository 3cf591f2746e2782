"""What reading, mapping and writing tables share: the error type and column letters."""

import re

EXCEL_MAX_ROWS = 1_048_576


class TableError(ValueError):
    """The upload cannot be read as a table; ``str(error)`` is the user-facing message."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __reduce__(self):
        # Keeps ``code`` when the error crosses a process boundary (the contained reader).
        return (self.__class__, (self.message,), {"code": self.code})


def column_letter(index: int) -> str:
    """Spreadsheet column letter of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


# A quoted value inside a message: “…” (Chinese and English messages both use these quotes).
_QUOTED = re.compile(r"“([^”]*)”")


def clip(text: str, limit: int = 100) -> str:
    """``text`` cut to ``limit`` characters with "…" when longer (values echoed in messages)."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shorten_message(message: str, *, value_chars: int = 100, total: int = 500) -> str:
    """A stored message with every quoted value clipped and the whole kept under ``total``.

    Problems echo the cell they are about; a 400 MB cell must not become a 400 MB message.
    """
    message = str(message)
    if len(message) <= value_chars:
        return message
    message = _QUOTED.sub(lambda m: f"“{clip(m.group(1), value_chars)}”", message)
    return clip(message, total)
