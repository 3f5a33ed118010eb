"""Content-Disposition for files sent to a browser: a name derived from the user's text,
never a header injection."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

#: What survives in the plain `filename`: letters, digits and a few marks, no quotes,
#: backslashes, semicolons or control characters.
_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()-]+")


def attachment(name: str, *, fallback: str, suffix: str) -> str:
    """`attachment` with an ASCII `filename` (accents dropped, the rest replaced) and an
    RFC 5987 `filename*` holding the name as written (percent-encoded UTF-8)."""
    cleaned = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()[:150]
    ascii_name = unicodedata.normalize("NFKD", cleaned).encode("ascii", "ignore").decode()
    ascii_name = _UNSAFE.sub("_", ascii_name).strip(" ._") or fallback
    header = f'attachment; filename="{ascii_name}{suffix}"'
    if cleaned and cleaned != ascii_name:
        header += f"; filename*=UTF-8''{quote(cleaned + suffix, safe='')}"
    return header
