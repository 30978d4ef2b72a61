"""The one rule for user names (CLI, REST and /rpost/task alike) and the key they are unique by."""

from __future__ import annotations

import unicodedata

from taskdash.domain.errors import BadRequest

MAX_USER_NAME_CHARS = 64
# NFKC never makes a name more than a few times shorter, so anything this long is refused
# before it is normalised (a 1 MB name costs nothing).
_MAX_RAW_CHARS = 4 * MAX_USER_NAME_CHARS
# Control, format (zero-width, bidi), private-use, surrogate, unassigned, line/paragraph
# separators: characters that are invisible or render differently from what they are.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
_REFUSED_CHARS = frozenset("/\\")  # names appear in URL paths (/api/v1/users/{name})


def user_name(raw: str) -> str:
    """The canonical form of a user name (NFKC, trimmed); BadRequest when it breaks the rule."""
    if len(raw) > _MAX_RAW_CHARS:
        raise BadRequest(f"user name is longer than {MAX_USER_NAME_CHARS} characters")
    name = unicodedata.normalize("NFKC", raw).strip()
    if not name:
        raise BadRequest("user name is empty")
    if len(name) > MAX_USER_NAME_CHARS:
        raise BadRequest(f"user name is longer than {MAX_USER_NAME_CHARS} characters")
    for char in name:
        if (
            unicodedata.category(char) in _REFUSED_CATEGORIES
            or char.isspace()
            or char in _REFUSED_CHARS
        ):
            raise BadRequest(
                f"user name must not contain U+{ord(char):04X}"
                " (spaces, slashes, control and invisible characters are refused)"
            )
    return name


def user_name_key(name: str) -> str:
    """What names are unique by and looked up by: NFKC of the case-folded NFKC form."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
