"""User-facing errors: one line, naming file, line and field where known; and the exit codes the CLI returns."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What `storyreel` returns to the shell."""

    OK = 0
    NOT_STORYREEL = 1  # `verify`: the video carries no storyreel provenance
    USER_ERROR = 2  # bad input or environment: a StoryreelError, one line on stderr


class StoryreelError(Exception):
    """A problem with the user's input or environment, shown as one line without a traceback."""

    exit_code = ExitCode.USER_ERROR

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


class StoryreelWarning(UserWarning):
    """Something that works but should change (a deprecated storyboard key); the CLI prints it as one line."""
