"""User-facing errors: one line, naming file, line and field where known; exit code 2."""

from __future__ import annotations


class StoryreelError(Exception):
    """A problem with the user's input or environment, shown as one line without a traceback."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None, field: str | None = None):
        self.message, self.file, self.line, self.field = message, file, line, field
        super().__init__(self.format())

    def format(self) -> str:
        where = ""
        if self.file:
            where = str(self.file)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"
