"""Build the FastAPI application and the resources it shares: store, client, job backend."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from hospital_bulk import __version__
from hospital_bulk.api.deps import Services
from hospital_bulk.api.limits import BodySizeLimit
from hospital_bulk.api.problems import install_problem_handlers
from hospital_bulk.api.routes import bulk, docs, export, health, metrics, status, validate, web
from hospital_bulk.config import Settings
from hospital_bulk.directory.client import DirectoryClient
from hospital_bulk.jobs.backend import JobBackend
from hospital_bulk.jobs.context import CreateSlots, PipelineContext
from hospital_bulk.store.engine import create_store_engine
from hospital_bulk.store.migrate import prepare_store
from hospital_bulk.store.repository import JobRepository

logger = logging.getLogger(__name__)

#: Path under which `serve` mounts the bundled Directory when no other one is configured.
BUNDLED_DIRECTORY_PATH = "/directory"


def create_app(
    settings: Settings | None = None, *, bundled_directory: FastAPI | None = None
) -> FastAPI:
    """Create the service's app.

    Args:
        settings: configuration; read from the environment when None.
        bundled_directory: a Directory app to mount at `/directory` and run with this app.
    """
    settings = settings or Settings()
    app = FastAPI(
        title="hospital-bulk",
        version=__version__,
        description="Load hospitals from a CSV file into a Hospital Directory, safely.",
        lifespan=_lifespan(settings, bundled_directory),
        # The docs come from api/routes/docs.py, which serves Swagger UI without a CDN.
        docs_url=None,
        redoc_url=None,
    )
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    for module in (validate, bulk, status, export, health, metrics, web, docs):
        app.include_router(module.router)
    docs.mount_docs_assets(app)
    if bundled_directory is not None:
        app.mount(BUNDLED_DIRECTORY_PATH, bundled_directory)
    return app


def _lifespan(settings: Settings, bundled_directory: FastAPI | None):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if bundled_directory is not None:
                # Starlette does not run the lifespan of a mounted app, so run it here.
                await stack.enter_async_context(
                    bundled_directory.router.lifespan_context(bundled_directory)
                )
            services = await _start_services(settings, stack)
            app.state.services = services
            yield

    return lifespan


async def _start_services(settings: Settings, stack: AsyncExitStack) -> Services:
    engine = create_store_engine(settings.job_store_url)
    stack.callback(engine.dispose)
    prepare_store(engine)
    repository = JobRepository(engine)

    if not settings.directory_url:
        raise RuntimeError("HOSPITAL_DIRECTORY_URL is not set and no bundled Directory was given.")
    client = build_directory_client(settings)
    stack.push_async_callback(client.aclose)
    context = PipelineContext(
        settings=settings, repository=repository, client=client, slots=build_create_slots(settings)
    )
    logger.info("Using the Hospital Directory at %s", settings.directory_url)

    backend = build_backend(settings, context)
    await backend.start()
    stack.push_async_callback(backend.stop)
    return Services(settings=settings, repository=repository, context=context, backend=backend)


def build_directory_client(settings: Settings) -> DirectoryClient:
    """Create the Directory client the settings describe (shared limits in the distributed shape)."""
    from hospital_bulk.directory.pacing import CreatePacer, LocalPacer

    assert settings.directory_url is not None
    pacer: CreatePacer
    if settings.uses_celery:
        from hospital_bulk.directory.shared_limits import RedisPacer

        pacer = RedisPacer.from_settings(settings)
    else:
        pacer = LocalPacer(settings.directory_creates_per_minute)
    return DirectoryClient(
        settings.directory_url,
        timeout=settings.directory_timeout,
        warmup_timeout=settings.directory_warmup_timeout,
        retry_attempts=settings.directory_retry_attempts,
        rate_limit_wait=settings.directory_rate_limit_wait,
        pacer=pacer,
        max_connections=settings.concurrency + 10,
    )


def build_create_slots(settings: Settings) -> CreateSlots:
    """Create the cap on creates in flight: shared through Redis when a broker is set."""
    if settings.uses_celery:
        from hospital_bulk.directory.shared_limits import RedisCreateSlots

        return RedisCreateSlots.from_settings(settings)
    return asyncio.Semaphore(settings.concurrency)


def build_backend(settings: Settings, context: PipelineContext) -> JobBackend:
    """Create the job backend: Celery when a broker is set, else the in-process worker."""
    if settings.uses_celery:
        from hospital_bulk.workers.celery_backend import CeleryBackend

        return CeleryBackend(context)
    from hospital_bulk.workers.inprocess import InProcessBackend

    return InProcessBackend(context)
