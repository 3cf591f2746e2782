"""What reading, mapping and writing tables share: the error type and column letters."""

EXCEL_MAX_ROWS = 1_048_576


class TableError(ValueError):
    """The upload cannot be read as a table; ``str(error)`` is the user-facing message."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def column_letter(index: int) -> str:
    """Spreadsheet column letter of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters
