"""The fast path of task message bodies: a body in canonical form decoded by msgspec (C).

A Go service marshals a task message with exactly its struct's keys, each once, no null, a
string where a string belongs and an int64 for CreateTime. Such a body means the same under Go's
encoding/json rules and under plain JSON, so msgspec can decode it straight into a struct. Every
body that is not so plain (another key or another spelling of one, a null, a wrong type, a
number that is not an int64, invalid UTF-8, a lone surrogate, trailing bytes) is refused here,
and the careful parser in `events` decides it. A repeated key may pass: msgspec, as Go, keeps
the last value and checks the type of every one.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
Int64 = Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)]
UNSET = msgspec.UNSET


class CanonicalTask(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A taskRegister / updateStatus body under its Go field names; UNSET: key not carried."""

    ID: str = ""
    ProjectID: str = ""
    InstanceID: str = ""
    TaskID: str = ""
    Status: str = ""
    TaskType: str = ""
    URL: str | msgspec.UnsetType = UNSET
    EditInfo: str | msgspec.UnsetType = UNSET
    CreateTime: Int64 | msgspec.UnsetType = UNSET


_decode_task = msgspec.json.Decoder(CanonicalTask).decode


def decode_canonical_task(body: bytes) -> CanonicalTask | None:
    """The body's fields when it is in canonical form; None when only the careful parser can say."""
    try:
        return _decode_task(body)
    except ValueError:  # msgspec's DecodeError and ValidationError, UnicodeDecodeError
        return None
