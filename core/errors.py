"""The error every deriver raises when it cannot produce its output."""


class DeriveError(Exception):
    """A deriver could not produce its output.

    `code` is one CamelCase word (`CorruptFile`, `NoPoints`); `str(error)` is a sentence a
    person can read. A permanent error is not retried until a re-sync or a new version of
    the deriver; a transient one is retried with backoff.
    """

    def __init__(self, message: str, *, code: str, permanent: bool) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent
