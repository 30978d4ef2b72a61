"""Which task IDs a service may give: every one must be usable as one segment of a URL path.

A task ID is a path segment of the REST API (`/api/v1/tasks/{id}`) and of the front end's
detail page, so an ID given by a service must survive being percent-encoded into a path and
decoded back by every client and server on the way, and must look like what it is. Derived IDs
(md5 hex) always do.
"""

from __future__ import annotations

import unicodedata

from taskdash.domain.errors import InvalidMessage

# `/` and `\` split a path (servers and browsers decode %2F, browsers read `\` as `/`); `?` and
# `#` end it where a client forgets to encode; `%` is decoded twice by some proxies.
URL_SPECIAL_CHARS = frozenset("/\\?#%")
# Clients resolve these as "this" and "parent" path segments, even percent-encoded.
DOT_SEGMENTS = frozenset({".", ".."})
# Controls, format characters (zero-width space, bidi overrides, BOM, tags), separators.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})
# Letters and marks that are drawn as nothing (Unicode's default-ignorable code points).
_BLANK_CHARS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0")
_ZWJ = "\u200d"
_VARIATION_SELECTORS = frozenset("\ufe0e\ufe0f")
_KEYCAP = "\u20e3"
_KEYCAP_BASES = frozenset("0123456789#*")


def _is_symbol(ch: str) -> bool:
    return bool(ch) and unicodedata.category(ch) in ("So", "Sk")


def _emoji_glue(text: str, index: int) -> bool:
    """Whether the joiner or selector at `index` is part of an emoji sequence (👩‍💻, ❤️, 1️⃣)."""
    ch = text[index]
    before = text[index - 1] if index else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    if ch == _ZWJ:
        return (_is_symbol(before) or before in _VARIATION_SELECTORS) and _is_symbol(after)
    if ch in _VARIATION_SELECTORS:
        return _is_symbol(before) or (before in _KEYCAP_BASES and after == _KEYCAP)
    return False


def _describe(ch: str, *, visible: bool) -> str:
    name = unicodedata.name(ch, "")
    code = f"U+{ord(ch):04X}"
    if not visible:
        return f"{code} {name}".strip()
    return f"{ch!r} ({code} {name})" if name else f"{ch!r} ({code})"


def refused_char(text: str) -> tuple[int, str] | None:
    """The first character that may not be in a task ID and why, or None when all may."""
    for index, ch in enumerate(text):
        if ch in URL_SPECIAL_CHARS:
            return index, "has a meaning in URLs"
        if ch.isspace():
            return index, "is whitespace"
        if ch == _ZWJ or ch in _VARIATION_SELECTORS:
            if not _emoji_glue(text, index):
                return index, "is invisible outside an emoji"
            continue
        category = unicodedata.category(ch)
        if category == "Cc":
            return index, "is a control character"
        if category in _INVISIBLE_CATEGORIES or ch in _BLANK_CHARS:
            return index, "is invisible"
    return None


def check_given_task_id(task_id: str, *, field: str) -> None:
    """Refuse (InvalidMessage) an ID that could not be opened or would not show as it is."""
    if task_id in DOT_SEGMENTS:
        raise InvalidMessage(
            f"field {field}: {task_id!r} cannot be a task ID (URLs read it as a path step)"
        )
    refused = refused_char(task_id)
    if refused is not None:
        index, why = refused
        shown = _describe(task_id[index], visible=task_id[index] in URL_SPECIAL_CHARS)
        raise InvalidMessage(
            f"field {field}: {shown} at character {index + 1} {why}; not allowed in a task ID"
        )
