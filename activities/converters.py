"""URL converters: ids are at most 18 digits, so that no request can overflow a bigint
(a longer number is simply not a URL of ours: 404, not a database error)."""


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
