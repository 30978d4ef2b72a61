"""MongoDB service registry (`services`) and heartbeats (`heartbeats`, latest per source).

A service's online/offline transitions travel in its own document (`health_transitions`,
pushed by the same conditional write that changes `online`), so instances sharing the
database never write one twice and a failure never keeps a change without its transition.
"""

from __future__ import annotations

import dataclasses

from bson.int64 import Int64
from pymongo.errors import DuplicateKeyError

from taskdash.domain.events import Heartbeat, ServiceRegistration
from taskdash.domain.models import Service, normalise_service_url, url_origin
from taskdash.domain.ports import HealthTransition, ServiceHealth
from taskdash.store.mongo.client import Collection, Database, Document, reading, writing

_INT_FIELDS = ("registered_ts", "last_beat_ts", "last_beat_time", "metadata_failures")
_SERVICE_FIELDS = frozenset(field.name for field in dataclasses.fields(Service)) - {"url"}
TRANSITIONS = "health_transitions"
# A flapping service's transitions stay bounded between prunes (sweeps.py keeps 30 days).
MAX_TRANSITIONS_KEPT = 5000
_WITHOUT_TRANSITIONS: Document = {TRANSITIONS: 0}


def _transition(*, at: float, online: bool) -> Document:
    """The update part that records a transition with the write changing `online`."""
    entry = {"at": at, "online": online}
    return {"$push": {TRANSITIONS: {"$each": [entry], "$slice": -MAX_TRANSITIONS_KEPT}}}


def _to_service(doc: Document) -> Service:
    fields = {key: value for key, value in doc.items() if key in _SERVICE_FIELDS}
    for key in _INT_FIELDS:
        if key in fields:
            fields[key] = int(fields[key])
    return Service(url=doc["_id"], **fields)


def _new_service_document(
    reg: ServiceRegistration, key: str, *, ts_ns: int, now: float
) -> Document:
    return {
        "_id": key,
        "name": reg.name,
        "reserved": reg.reserved,
        "origin": url_origin(key),
        "registered_ts": Int64(ts_ns),
        "last_beat_ts": Int64(0),
        "last_beat_time": Int64(0),
        "beat_reserved": "",
        "online": True,
        "clock_skew": False,
        "health_changed_at": now,
        "metadata_error": "",
        "metadata_synced_at": 0.0,
        "metadata_failures": 0,
        "metadata_next_at": 0.0,
        TRANSITIONS: [{"at": now, "online": True}],
    }


class MongoServiceRepo:
    def __init__(self, db: Database) -> None:
        self._services: Collection = db.services
        self._heartbeats: Collection = db.heartbeats

    async def prepare(self) -> None:
        """At start-up: a service kept from before transitions starts with its current state."""
        with writing():
            for doc in await self._services.find({TRANSITIONS: {"$exists": False}}).to_list():
                first = {"at": float(doc.get("health_changed_at", 0.0)), "online": doc["online"]}
                await self._services.update_one(
                    {"_id": doc["_id"], TRANSITIONS: {"$exists": False}},
                    {"$set": {TRANSITIONS: [first]}},
                )

    async def _get(self, url: str) -> Service | None:
        doc = await self._services.find_one({"_id": url}, _WITHOUT_TRANSITIONS)
        return _to_service(doc) if doc else None

    async def _match(self, url: str) -> Service | None:
        """The service a heartbeat URL belongs to: its normalised URL, else its one origin match."""
        service = await self._get(normalise_service_url(url))
        if service is not None:
            return service
        docs = (
            await self._services.find({"origin": url_origin(url)}, _WITHOUT_TRANSITIONS)
            .limit(2)
            .to_list()
        )
        return _to_service(docs[0]) if len(docs) == 1 else None

    async def register(self, *, reg: ServiceRegistration, ts_ns: int, now: float) -> Service:
        key = normalise_service_url(reg.url)
        with writing():
            try:
                await self._services.insert_one(
                    _new_service_document(reg, key, ts_ns=ts_ns, now=now)
                )
            except DuplicateKeyError:
                await self._services.update_one(
                    {"_id": key, "registered_ts": {"$lt": ts_ns}},
                    {
                        "$set": {
                            "name": reg.name,
                            "reserved": reg.reserved,
                            "registered_ts": Int64(ts_ns),
                        }
                    },
                )
            service = await self._get(key)
        assert service is not None  # services are never deleted
        return service

    async def record_heartbeat(
        self, *, hb: Heartbeat, ts_ns: int, now: float, timeout_s: float, max_skew_s: float
    ) -> Service | None:
        with writing():
            service = await self._match(hb.url)
            await self._note_heartbeat(hb, ts_ns=ts_ns, service=service.url if service else "")
            if service is None:
                return None
            fresh = now - ts_ns / 1e9 <= timeout_s
            if not fresh or ts_ns <= service.last_beat_ts:
                return service
            beat: Document = {
                "last_beat_ts": Int64(ts_ns),
                "last_beat_time": Int64(hb.time),
                "beat_reserved": hb.reserved,
                "clock_skew": abs(hb.time - ts_ns / 1e9) > max_skew_s,
                "online": True,
            }
            newer = {"_id": service.url, "last_beat_ts": {"$lt": ts_ns}}
            came_back = await self._services.update_one(
                {**newer, "online": False},
                {"$set": {**beat, "health_changed_at": now}, **_transition(at=now, online=True)},
            )
            if came_back.matched_count == 0:
                await self._services.update_one(newer, {"$set": beat})
            return await self._get(service.url)

    async def _note_heartbeat(self, hb: Heartbeat, *, ts_ns: int, service: str) -> None:
        """Count the beat; keep its time and reserved only if it is the newest from its source."""
        newer = await self._heartbeats.update_one(
            {"_id": hb.url, "ts": {"$lt": ts_ns}},
            {
                "$set": {
                    "time": Int64(hb.time),
                    "reserved": hb.reserved,
                    "ts": Int64(ts_ns),
                    "service": service,
                },
                "$inc": {"count": 1},
            },
        )
        if newer.matched_count:
            return
        older_or_first = {
            "$set": {"service": service},
            "$inc": {"count": 1},
            "$setOnInsert": {"time": Int64(hb.time), "reserved": hb.reserved, "ts": Int64(ts_ns)},
        }
        try:
            await self._heartbeats.update_one({"_id": hb.url}, older_or_first, upsert=True)
        except DuplicateKeyError:  # another instance inserted it first
            await self._heartbeats.update_one({"_id": hb.url}, older_or_first)

    async def all(self) -> list[Service]:
        with reading():
            found = self._services.find({}, _WITHOUT_TRANSITIONS).sort("_id", 1)
            return [_to_service(d) for d in await found.to_list()]

    async def sweep_health(self, *, now: float, timeout_s: float) -> list[Service]:
        cutoff_ns = int((now - timeout_s) * 1_000_000_000)
        changed = []
        with writing():
            stale = self._services.find(
                {
                    "online": True,
                    "last_beat_ts": {"$lt": cutoff_ns},
                    "registered_ts": {"$lt": cutoff_ns},
                },
                _WITHOUT_TRANSITIONS,
            )
            for service in [_to_service(doc) for doc in await stale.to_list()]:
                result = await self._services.update_one(
                    {
                        "_id": service.url,
                        "online": True,
                        "last_beat_ts": service.last_beat_ts,
                        "registered_ts": service.registered_ts,
                    },
                    {
                        "$set": {"online": False, "health_changed_at": now},
                        **_transition(at=now, online=False),
                    },
                )
                if result.matched_count == 1:
                    service.online = False
                    service.health_changed_at = now
                    changed.append(service)
        return changed

    async def record_metadata_sync(
        self, *, url: str, error: str, now: float, failures: int, next_at: float
    ) -> None:
        """The outcome of one metadata pull: its error ('' when it worked) and the next try."""
        outcome: Document = {
            "metadata_error": error,
            "metadata_failures": failures,
            "metadata_next_at": next_at,
        }
        update: Document = {"$set": outcome}
        if error:
            outcome.update(last_metadata_error=error, last_metadata_error_at=now)
            update["$inc"] = {"metadata_errors": 1}
        else:
            outcome["metadata_synced_at"] = now
        with writing():
            await self._services.update_one({"_id": url}, update)

    async def health_history(self, *, since: float, until: float) -> list[ServiceHealth]:
        with reading():
            docs = await self._services.find().sort("_id", 1).to_list()
        return [_health(doc, since=since, until=until) for doc in docs]

    async def prune_transitions(self, *, before: float) -> int:
        pruned = 0
        with writing():
            old = self._services.find({f"{TRANSITIONS}.at": {"$lt": before}}, {TRANSITIONS: 1})
            for doc in await old.to_list():
                times = [float(t["at"]) for t in doc[TRANSITIONS]]
                kept_from = max(at for at in times if at < before)  # the state since then
                older = sum(1 for at in times if at < kept_from)
                if older:
                    await self._services.update_one(
                        {"_id": doc["_id"]}, {"$pull": {TRANSITIONS: {"at": {"$lt": kept_from}}}}
                    )
                    pruned += older
        return pruned

    async def unknown_heartbeats(self) -> dict[str, int]:
        with reading():
            docs = await self._heartbeats.find({"service": ""}).sort("_id", 1).to_list()
        return {doc["_id"]: int(doc["count"]) for doc in docs}


def _health(doc: Document, *, since: float, until: float) -> ServiceHealth:
    """A service document's health: its last transition by `since`, then those to `until`."""
    transitions = sorted(
        (HealthTransition(float(t["at"]), bool(t["online"])) for t in doc.get(TRANSITIONS, [])),
        key=lambda t: t.at,
    )
    before = [t for t in transitions if t.at <= since][-1:]
    during = [t for t in transitions if since < t.at <= until]
    error_at = doc.get("last_metadata_error_at")
    return ServiceHealth(
        service=_to_service(doc),
        transitions=(*before, *during),
        metadata_errors=int(doc.get("metadata_errors", 0)),
        last_metadata_error=doc.get("last_metadata_error", ""),
        last_metadata_error_at=None if error_at is None else float(error_at),
    )
