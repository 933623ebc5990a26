"""The one exception type for bad user input."""

from __future__ import annotations


class ValidationError(ValueError):
    """Bad user input, reported on one line that names the field path.

    ``ValidationError("tasks[1].internal.port", "70000 is not a port (1-65535)")`` reads
    ``tasks[1].internal.port: 70000 is not a port (1-65535)``.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.reason = " ".join(message.split())
        super().__init__(f"{field}: {self.reason}" if field else self.reason)
