"""Composition root: create_app(settings) wires store, handlers, sweeps and routes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from taskdash import __version__
from taskdash.domain.errors import TaskDashError
from taskdash.messaging import http_ingest
from taskdash.messaging.handlers import MessageHandler
from taskdash.messaging.nsq_consumer import NsqConsumer
from taskdash.messaging.nsq_readiness import NsqReadiness
from taskdash.messaging.publisher import NsqPublisher
from taskdash.messaging.task_events import TaskEventPublisher
from taskdash.settings import Settings
from taskdash.store import open_store, redact_url
from taskdash.sync.metadata import MetadataPuller
from taskdash.sync.sweeps import Sweeper
from taskdash.web.body_limit import BodyLimits
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
        try:
            store = await open_store(settings.store_url)
        except TaskDashError as exc:
            # cli.py says this in one line; the traceback is for DEBUG.
            where = redact_url(settings.store_url)
            app.state.startup_error = f"cannot open the store {where}: {exc.detail or exc}"
            raise
        logger.info("store open: %s", redact_url(settings.store_url))
        handler = MessageHandler(store=store, settings=settings)
        consumer = NsqConsumer(settings=settings, handler=handler)
        sweeper = Sweeper(store=store, settings=settings)
        app.state.store = store
        app.state.message_handler = handler
        app.state.readiness_probes = {"store": StoreReadiness(store=store).check}
        publisher = NsqPublisher(settings)
        event_publisher = TaskEventPublisher(
            store=store, publisher=publisher, topic=settings.events_topic
        )
        if consumer.enabled:
            consumer.start()
            nsq_ready = NsqReadiness(settings=settings, readers=consumer.connected_by_topic)
            app.state.readiness_probes["nsq"] = nsq_ready.check
            if settings.events_topic:
                await publisher.start()
                event_publisher.start()
        sweeper.start()
        live = LiveFeed(store=store, settings=settings)
        app.state.live_feed = live
        await live.start()
        http = httpx.AsyncClient(timeout=settings.metadata_timeout_s, follow_redirects=False)
        puller = MetadataPuller(store=store, settings=settings, client=http)
        pulling = asyncio.create_task(puller.run(), name="metadata puller")
        try:
            yield
        finally:
            pulling.cancel()
            await asyncio.gather(pulling, return_exceptions=True)
            await puller.aclose()
            await http.aclose()
            await live.aclose()
            await event_publisher.aclose()
            await publisher.aclose()
            await consumer.aclose()
            await sweeper.aclose()
            await store.aclose()
            logger.info("store closed")

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
        BodyLimits, max_body_bytes=settings.max_body_bytes, paths=http_ingest.body_limits()
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
