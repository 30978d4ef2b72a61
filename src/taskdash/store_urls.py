"""Store URLs: which backend a URL names, its path or database, and its redacted form.

Used by the settings (to refuse a bad URL early) and by the store package (to open one);
neither has to import the other for it.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

MONGODB_SCHEMES = ("mongodb", "mongodb+srv")
_BAD_DATABASE_CHARS = frozenset('/\\. "$*<>:|?')


def redact_url(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def sqlite_path(url: str) -> str:
    """`sqlite:///relative/path.db` or `sqlite:////absolute/path.db` → a filesystem path."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not a sqlite URL: {url!r} (expected sqlite:///path/to.db)")
    path = url[len("sqlite:///") :]
    if not path:
        raise ValueError(f"sqlite URL has no path: {url!r}")
    return path


def mongodb_database(url: str) -> str:
    """The database a `mongodb://host:port/dbname` URL names; ValueError if it names none."""
    parts = urlsplit(url)
    if parts.scheme not in MONGODB_SCHEMES:
        raise ValueError(
            f"not a MongoDB URL: {redact_url(url)!r} (expected mongodb://host:port/dbname)"
        )
    name = unquote(parts.path.removeprefix("/"))
    if not name:
        raise ValueError(
            f"MongoDB URL names no database: {redact_url(url)!r} (mongodb://host:port/dbname)"
        )
    if _BAD_DATABASE_CHARS.intersection(name) or len(name.encode()) >= 64:
        raise ValueError(f"{name!r} is not a valid MongoDB database name")
    return name
