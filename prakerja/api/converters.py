from prakerja.inputs import MAX_ID


class IdConverter:
    """A row id in a path: digits within the database's range, so a huge
    number is a 404 like any other unknown id, not a database error."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(value)
        return number

    def to_url(self, value) -> str:
        return str(value)


class CodeConverter:
    """An invoice or voucher code in a path: short, printable, no slash."""

    regex = "[A-Za-z0-9._-]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)
