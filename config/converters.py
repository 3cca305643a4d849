class IdConverter:
    """A primary key in a URL. Bounded so a forged, huge number is a 404, not a database
    overflow."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
