"""Thousands of malformed messages per topic through /pub: all dead-lettered (those over
nsqd's message size refused as nsqd refuses them), none stop ingest."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support import INGEST_TOKEN, LiveServer, run_on_store, task_body, task_id_of

MALFORMED_PER_TOPIC = 1000
VALID_EVERY = 10
WORKERS = 8
SEED = 20200731
SENT_AT = 1596174701
TOPICS = ("serviceRegister", "taskRegister", "updateStatus", "heartBeat")
MAX_ID_CHARS = 256
MAX_URL_CHARS = 2048
MAX_TEXT_CHARS = 65536
MAX_BODY_BYTES = 1024 * 1024
MAX_LETTER_BYTES = 64 * 1024
BAD_URLS = (
    "not a url",
    "ftp://127.0.0.1/x",
    "javascript:alert(1)",
    "http://",
    "http:///no-host",
    "//127.0.0.1:18081/no-scheme",
    "http://127.0.0.1:99999/port-out-of-range",
    "http://[::1/broken-ipv6",
    "127.0.0.1:18081",
    "mailto:someone@example.com",
)
NOT_STRINGS: tuple[Any, ...] = (1, -7, 2.5, True, False, [], ["a"], {}, {"a": 1})
NOT_INT64S: tuple[Any, ...] = ("1596174701", 1.5, 1e3, True, [], {}, 2**63, -(2**63) - 1)


@dataclass(frozen=True)
class Message:
    topic: str
    body: bytes
    valid: bool
    key: str = ""  # what a valid message stores: a task ID, a service URL or a heartbeat source


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def valid_object(topic: str, n: int) -> dict[str, Any]:
    """A well-formed body of `topic`, unique by `n` (the base the malformed ones are cut from)."""
    if topic == "serviceRegister":
        return {"URL": f"http://127.0.0.1:20000/svc{n}", "Name": f"svc{n}", "Reserved": f"r{n}"}
    if topic == "heartBeat":
        return {"url": f"http://127.0.0.1:30000/beat{n}", "time": SENT_AT, "reserved": f"r{n}"}
    status = "" if topic == "taskRegister" else "标注中"
    return task_body(f"{topic}-{n:05d}", status=status, EditInfo=f"edit {n}")


def valid_message(topic: str, n: int, rng: random.Random) -> Message:
    """A valid message, sometimes spelled the way Go still accepts (key case, unknown keys)."""
    obj = valid_object(topic, n)
    if rng.random() < 0.3:
        obj = {key.lower(): value for key, value in obj.items()}
    if rng.random() < 0.3:
        obj["SomethingNew"] = {"ignored": [1, 2, 3]}
    if topic == "serviceRegister":
        key = str(valid_object(topic, n)["URL"])
    elif topic == "heartBeat":
        key = str(valid_object(topic, n)["url"])
    else:
        key = task_id_of(valid_object(topic, n))
    return Message(topic, dumps(obj), valid=True, key=key)


def _fields(topic: str) -> dict[str, tuple[str, ...]]:
    """Which keys are required strings, optional strings, int64s and URLs for `topic`."""
    if topic == "serviceRegister":
        return {
            "required": ("URL",),
            "strings": ("URL", "Name", "Reserved"),
            "ints": (),
            "urls": ("URL",),
        }
    if topic == "heartBeat":
        return {
            "required": ("url",),
            "strings": ("url", "reserved"),
            "ints": ("time",),
            "urls": ("url",),
        }
    return {
        "required": ("ProjectID", "InstanceID", "TaskID", "TaskType"),
        "strings": (
            "ID",
            "ProjectID",
            "InstanceID",
            "TaskID",
            "Status",
            "TaskType",
            "URL",
            "EditInfo",
        ),
        "ints": ("CreateTime",),
        "urls": ("URL",),
    }


def _max_chars(key: str) -> int:
    if key.lower() == "url":
        return MAX_URL_CHARS
    if key in ("EditInfo", "Reserved", "reserved"):
        return MAX_TEXT_CHARS
    return MAX_ID_CHARS


def _invalid_json(rng: random.Random, base: bytes) -> bytes:
    text = base.decode()
    cuts: list[Callable[[], str]] = [
        lambda: text[:-1] + ",}",  # trailing comma
        lambda: text.replace(":", "=", 1),
        lambda: text.replace('"', "'"),
        lambda: "{" + text,
        lambda: text + "}",
        lambda: text + " " + text,  # two values
        lambda: text.replace('"', "", 1),  # unquoted key
        lambda: text[:-1] + ', "CreateTime": NaN}',
        lambda: text[:-1] + ', "x": Infinity}',
        lambda: text[:-1] + ', "x": 01}',
        lambda: text[:-1] + ', "x": tru}',
        lambda: text[:-1] + ', "x": "\\q"}',
        lambda: text[:-1] + ', "x": "a\nb"}',  # raw control character in a string
        lambda: "[" * rng.randint(100_000, 200_000),  # nested too deeply
    ]
    return rng.choice(cuts)().encode()


def _truncated(rng: random.Random, base: bytes) -> bytes:
    return base[: rng.randint(1, len(base) - 1)]


def _wrong_type(rng: random.Random, obj: dict[str, Any], topic: str) -> bytes:
    fields = _fields(topic)
    key = rng.choice(fields["strings"] + fields["ints"])
    obj[key] = rng.choice(NOT_INT64S if key in fields["ints"] else NOT_STRINGS)
    return dumps(obj)


def _missing_required(rng: random.Random, obj: dict[str, Any], topic: str) -> bytes:
    key = rng.choice(_fields(topic)["required"])
    how = rng.randrange(4)
    if how == 0:
        del obj[key]
    else:
        obj[key] = ("", "   ", None)[how - 1]
    return dumps(obj)


def _over_long(rng: random.Random, obj: dict[str, Any], topic: str) -> bytes:
    key = rng.choice(_fields(topic)["strings"])
    limit = _max_chars(key)
    if key.lower() == "url":
        obj[key] = "http://127.0.0.1:18081/" + "u" * limit
    else:
        obj[key] = "字" * (limit + 1 + rng.randrange(100))
    return dumps(obj)


def _too_big(rng: random.Random, obj: dict[str, Any], topic: str) -> bytes:
    body = dumps(obj)
    return body + b" " * (MAX_BODY_BYTES + 1 - len(body))  # valid JSON, but over the size limit


def _not_an_object(rng: random.Random, n: int) -> bytes:
    return dumps(rng.choice([[n], f"text {n}", n, n + 0.5, None, True, [{"TaskID": str(n)}]]))


def _random_bytes(rng: random.Random, n: int) -> bytes:
    while True:
        body = rng.randbytes(rng.randint(1, 300))
        try:
            value = json.loads(body.decode("utf-8", errors="replace"))
        except ValueError:
            return body
        if not isinstance(value, dict):
            return body


def _bad_url(rng: random.Random, obj: dict[str, Any], topic: str) -> bytes:
    key = rng.choice(_fields(topic)["urls"])
    obj[key] = rng.choice(BAD_URLS)
    return dumps(obj)


def malformed_body(topic: str, n: int, rng: random.Random) -> bytes:
    """One body of `topic` that must be refused, of a kind picked by `rng`."""
    obj = valid_object(topic, 100_000 + n)
    base = dumps(obj)
    kind = rng.choices(
        ["json", "truncated", "type", "missing", "long", "big", "array", "bytes", "url"],
        weights=[15, 15, 20, 15, 8, 0.3, 8, 10, 9],
    )[0]
    if kind == "json":
        return _invalid_json(rng, base)
    if kind == "truncated":
        return _truncated(rng, base)
    if kind == "array":
        return _not_an_object(rng, n)
    if kind == "bytes":
        return _random_bytes(rng, n)
    mutate = {
        "type": _wrong_type,
        "missing": _missing_required,
        "long": _over_long,
        "big": _too_big,
        "url": _bad_url,
    }[kind]
    return mutate(rng, obj, topic)


def generate(seed: int) -> list[Message]:
    """Per topic, MALFORMED_PER_TOPIC distinct malformed bodies with a valid one every few."""
    rng = random.Random(seed)
    messages: list[Message] = []
    for topic in TOPICS:
        seen: set[bytes] = set()
        valid = 0
        while len(seen) < MALFORMED_PER_TOPIC:
            body = malformed_body(topic, len(seen), rng)
            if body in seen:
                continue
            seen.add(body)
            messages.append(Message(topic, body, valid=False))
            if len(seen) % VALID_EVERY == 0:
                messages.append(valid_message(topic, valid, rng))
                valid += 1
    return messages


def send_all(server: LiveServer, messages: list[Message]) -> list[tuple[Message, int, str]]:
    """POST every message to /pub from WORKERS threads, one client each; the answers."""
    local = threading.local()
    headers = {"Authorization": f"Bearer {INGEST_TOKEN}"}

    def send(message: Message) -> tuple[Message, int, str]:
        client: httpx.Client | None = getattr(local, "client", None)
        if client is None:
            client = local.client = server.client()
        try:
            answer = client.post(
                f"/pub?topic={message.topic}", content=message.body, headers=headers
            )
        except httpx.TransportError as exc:
            local.client = None  # the server dropped the connection; the next send reconnects
            return message, 0, f"{type(exc).__name__}: {exc}"
        return message, answer.status_code, answer.text

    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(send, messages))


def dead_letters_in_store(server: LiveServer) -> list[Any]:
    async def all_letters(store: Any) -> list[Any]:
        letters: list[Any] = []
        cursor = None
        while True:
            page = await store.dead_letters.recent(limit=500, before_id=cursor)
            letters.extend(page)
            if len(page) < 500:
                return letters
            cursor = page[-1].id

    result: list[Any] = run_on_store(server.settings, all_letters)
    return result


def test_malformed_messages_are_dead_lettered_and_valid_ones_stored(server: LiveServer) -> None:
    server.add_user("root", "admin")
    started = time.perf_counter()
    messages = generate(SEED)
    generated_s = time.perf_counter() - started

    answers = send_all(server, messages)
    sent_s = time.perf_counter() - started - generated_s

    # A body over nsqd's message size is refused as nsqd refuses it, before it is read.
    too_big = {id(m) for m in messages if len(m.body) > MAX_BODY_BYTES}
    refused = [
        (m.topic, m.body[:60], status, text)
        for m, status, text in answers
        if (status, text)
        != ((413, '{"message":"MSG_TOO_BIG"}') if id(m) in too_big else (200, "OK"))
    ]
    assert not refused, f"{len(refused)} of {len(messages)} not answered OK, e.g. {refused[:3]}"
    assert server.client().get("/healthz").json() == {"status": "ok"}

    admin = server.login("root")
    malformed = [m for m in messages if not m.valid and id(m) not in too_big]
    letters = dead_letters_in_store(server)
    total = admin.get("/api/v1/dead-letters", params={"limit": 1}).json()["total"]
    assert total == len(letters) == len(malformed)
    assert all(letter.reason.strip() for letter in letters)
    # A letter keeps the start of its body, with the whole body's size and SHA-256.
    assert Counter((d.topic, d.size, d.sha256, bytes(d.body)) for d in letters) == Counter(
        (m.topic, len(m.body), hashlib.sha256(m.body).hexdigest(), m.body[:MAX_LETTER_BYTES])
        for m in malformed
    )
    per_topic = Counter(m.topic for m in messages if not m.valid)
    assert all(per_topic[topic] >= MALFORMED_PER_TOPIC for topic in TOPICS), per_topic

    valid = {topic: [m.key for m in messages if m.valid and m.topic == topic] for topic in TOPICS}
    services = admin.get("/api/v1/services").json()
    assert sorted(s["url"] for s in services["services"]) == sorted(valid["serviceRegister"])
    assert services["unknown_heartbeats"] == {url: 1 for url in valid["heartBeat"]}

    async def stored_tasks(store: Any) -> dict[str, str]:
        found = {}
        for task_id in valid["taskRegister"] + valid["updateStatus"]:
            task = await store.tasks.get(task_id)
            if task is not None:
                found[task_id] = task.status
        return found

    statuses = run_on_store(server.settings, stored_tasks)
    assert statuses == {
        **{task_id: "待领取" for task_id in valid["taskRegister"]},
        **{task_id: "标注中" for task_id in valid["updateStatus"]},
    }
    assert server.client().get("/healthz").json() == {"status": "ok"}
    print(
        f"\n{len(malformed)} malformed + {len(messages) - len(malformed)} valid messages via /pub"
        f" ({WORKERS} workers): generated in {generated_s:.1f} s, sent in {sent_s:.1f} s"
        f" ({len(messages) / sent_s:.0f} msg/s), whole test {time.perf_counter() - started:.1f} s;"
        f" kinds of reason: {len({d.reason.split(':')[0] for d in letters})}"
    )
