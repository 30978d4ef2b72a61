"""Composition root: create_app(settings) wires store, handlers, sweeps and routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
from fastapi import FastAPI

from taskdash import __version__
from taskdash.domain.errors import TaskDashError
from taskdash.domain.ports import Store
from taskdash.loops import cancel_all
from taskdash.messaging import http_ingest
from taskdash.messaging.handlers import MessageHandler
from taskdash.messaging.live_feed import LiveFeedSource
from taskdash.messaging.nsq_consumer import NsqConsumer
from taskdash.messaging.nsq_readiness import NsqReadiness
from taskdash.messaging.publisher import NsqPublisher
from taskdash.messaging.task_events import TaskEventPublisher
from taskdash.settings import Settings
from taskdash.store import open_store, redact_url
from taskdash.sync.metadata import MetadataPuller
from taskdash.sync.sweeps import Sweeper
from taskdash.web.body_limit import BodyLimit, BodyLimits
from taskdash.web.errors import install_error_handlers
from taskdash.web.live import LiveFeed
from taskdash.web.openapi import install_openapi
from taskdash.web.readiness import StoreReadiness
from taskdash.web.request_metrics import RequestMetrics
from taskdash.web.routes import (
    admin,
    auth,
    compat,
    events,
    health,
    services,
    stats,
    stats_activity,
    stats_services,
    tasks,
    ui_settings,
)
from taskdash.web.routes.docs import install_docs
from taskdash.web.routes.pages import install_pages
from taskdash.web.schemas import error_responses
from taskdash.web.security_headers import SecurityHeaders
from taskdash.web.server_errors import ServerErrors

logger = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    """A TaskDash app; its lifespan opens the store and background work, and closes them."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Whatever fails, each resource that started is closed, in reverse order.
        async with AsyncExitStack() as started:
            await _start(app, settings, started)
            yield

    app = FastAPI(
        title="TaskDash",
        version=__version__,
        summary="The hub between annotation task services and the people who do the work.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        responses=error_responses(400, 500),
    )
    app.state.settings = settings
    install_error_handlers(app)

    # The last added runs first: RequestMetrics outermost, then SecurityHeaders (even a 1011
    # answer carries them), then ServerErrors, then BodyLimits (its refusals get all three).
    app.add_middleware(
        BodyLimits,
        max_body_bytes=settings.max_body_bytes,
        paths={path: BodyLimit(*limit) for path, limit in http_ingest.body_limits().items()},
    )
    app.add_middleware(ServerErrors)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestMetrics)

    for router in (
        compat.router,
        auth.router,
        tasks.router,
        ui_settings.router,
        services.router,
        stats.router,
        stats_activity.router,
        stats_services.router,
        events.router,
        admin.router,
        health.router,
        http_ingest.router,
    ):
        app.include_router(router)
    install_openapi(app)
    install_docs(app)
    install_pages(app)
    return app


async def _start(app: FastAPI, settings: Settings, started: AsyncExitStack) -> None:
    """Open the store, then start the background work, each pushed to `started` to close."""
    store = await _open_store(app, settings)
    started.push_async_callback(_close_store, store)
    app.state.store = store
    app.state.readiness_probes = {"store": StoreReadiness(store=store).check}
    sweeper = Sweeper(store=store, settings=settings)
    sweeper.start()
    started.push_async_callback(sweeper.aclose)
    handler = MessageHandler(store=store, settings=settings)
    app.state.message_handler = handler
    await _start_nsq(app, settings, started, store=store, handler=handler)
    live = LiveFeed(store=store)
    app.state.live_feed = live
    source = LiveFeedSource(
        store=store,
        settings=settings,
        on_task_events=live.fan_out,
        on_service_change=live.service_changed,
    )
    started.push_async_callback(source.aclose)
    await source.start()
    http = await started.enter_async_context(
        httpx.AsyncClient(timeout=settings.metadata_timeout_s, follow_redirects=False)
    )
    puller = MetadataPuller(store=store, settings=settings, client=http)
    started.push_async_callback(puller.aclose)
    pulling = asyncio.create_task(puller.run(), name="metadata puller")
    started.push_async_callback(cancel_all, [pulling])


async def _start_nsq(
    app: FastAPI,
    settings: Settings,
    started: AsyncExitStack,
    *,
    store: Store,
    handler: MessageHandler,
) -> None:
    """When NSQ is configured: the consumer, and the task events' publisher."""
    consumer = NsqConsumer(settings=settings, handler=handler)
    if not consumer.enabled:
        return
    started.push_async_callback(consumer.aclose)
    consumer.start()
    nsq_ready = NsqReadiness(settings=settings, readers=consumer.connected_by_topic)
    app.state.readiness_probes["nsq"] = nsq_ready.check
    if settings.events_topic:
        publisher = NsqPublisher(settings)
        started.push_async_callback(publisher.aclose)
        await publisher.start()
        event_publisher = TaskEventPublisher(
            store=store, publisher=publisher, topic=settings.events_topic
        )
        event_publisher.start()
        started.push_async_callback(event_publisher.aclose)


async def _open_store(app: FastAPI, settings: Settings) -> Store:
    try:
        store = await open_store(settings.store_url)
    except TaskDashError as exc:
        # cli.py says this in one line; the traceback is for DEBUG.
        where = redact_url(settings.store_url)
        app.state.startup_error = f"cannot open the store {where}: {exc.detail or exc}"
        raise
    logger.info("store open: %s", redact_url(settings.store_url))
    return store


async def _close_store(store: Store) -> None:
    await store.aclose()
    logger.info("store closed")
