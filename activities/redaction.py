"""Secrets out of logged URLs: every query parameter whose name says it carries one
(access_token, client_secret, refresh_token, code, password, signature, api_key, …) has
its value replaced, whatever else the line holds."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

#: A parameter name that carries a secret: matched anywhere in the (decoded) name, so
#: that `hub.verify_token`, `X-Amz-Signature` and `api_key` are caught too.
SECRET_NAME = re.compile(
    r"token|secret|passw|pwd|signature|sig$|key|code|credential|auth(?!or)|session|otp",
    re.IGNORECASE)
#: One name=value pair of a query string (after `?`, `&` or `;`).
_PARAM = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;#\s]+)=(?P<value>[^&;#\s]*)")
HIDDEN = "[redacted]"


def redact(text: str) -> str:
    """A request line, URL or query string with every secret-bearing value hidden."""
    if "=" not in text:
        return text
    # A bare query string (gunicorn's %(q)s) has no `?` before its first pair.
    bare = "?" not in text and " " not in text
    hidden = _PARAM.sub(_hide, "?" + text if bare else text)
    return hidden[1:] if bare else hidden


def _hide(pair: re.Match) -> str:
    if not SECRET_NAME.search(unquote_plus(pair["name"])):
        return pair[0]
    return f"{pair['lead']}{pair['name']}={HIDDEN}"
