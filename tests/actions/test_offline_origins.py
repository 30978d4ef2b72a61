"""Which origins count as offline, on a fake holding only the part of the port it reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from taskdash.actions.tasks import offline_origins
from taskdash.domain.models import Service
from taskdash.domain.ports import ServiceReads


@dataclass
class ListedServices:
    """An in-memory `ServiceReads`: the services the test lists, nothing else."""

    services: list[Service]

    async def all(self) -> list[Service]:
        return list(self.services)

    async def unknown_heartbeats(self) -> dict[str, int]:
        return {}


@dataclass
class ServicesOnly:
    """A store with services and nothing else: all that `offline_origins` reads."""

    services: ServiceReads = field(default_factory=lambda: ListedServices([]))


def service(url: str, origin: str, *, online: bool) -> Service:
    return Service(url=url, origin=origin, online=online)


async def test_an_origin_is_offline_only_when_every_service_of_it_is() -> None:
    store = ServicesOnly(
        ListedServices(
            [
                service("http://127.0.0.1:1/a", "satEdit", online=False),
                service("http://127.0.0.1:2/a", "satEdit", online=True),
                service("http://127.0.0.1:3/b", "vidEdit", online=False),
                service("http://127.0.0.1:4/b", "vidEdit", online=False),
                service("http://127.0.0.1:5/c", "audEdit", online=False),
            ]
        )
    )
    assert await offline_origins(store) == ("audEdit", "vidEdit")


async def test_no_services_means_no_offline_origin() -> None:
    assert await offline_origins(ServicesOnly()) == ()
