"""The Celery application of the distributed shape: broker settings and task names.

The API only sends tasks by name, and `hospital-bulk worker` registers their bodies
(`workers.tasks`), so the API never imports the task code. A task carries ids only, and
the job store contains everything else.
"""

from __future__ import annotations

from celery import Celery

from hospital_bulk.config import Settings

#: Task that creates one chunk's rows, then tries the job's final step: args (job_id, chunk).
PROCESS_CHUNK = "hospital_bulk.process_chunk"
#: Task that runs a job's final step (auto-activation) once every chunk is done: args (job_id,).
FINALIZE_JOB = "hospital_bulk.finalize_job"
#: Broker queue of both tasks, apart from other Celery apps on the same broker.
QUEUE = "hospital_bulk"

#: Creates a minute assumed when no cap is set: the public Directory's own limit.
_SLOWEST_CREATES_PER_MINUTE = 30
_MIN_VISIBILITY_TIMEOUT = 12 * 3600


def visibility_timeout(settings: Settings) -> int:
    """Return the broker's visibility timeout in seconds: twice the slowest chunk, at least 12 h.

    A chunk of `chunk_size` rows at the slowest create pace (the configured cap, or the public
    Directory's 30 a minute) bounds a task's run time. The timeout must be longer, because
    Redis hands an unacknowledged task to another worker once it passes, even while the first
    worker still runs it. That second copy would only be a no-op (the live lease makes its
    claim fail), but a long timeout costs nothing: tasks of dead workers are recovered by the
    store's sweeper after one lease, not by the broker.
    """
    pace = settings.directory_creates_per_minute or _SLOWEST_CREATES_PER_MINUTE
    slowest_chunk = settings.chunk_size * 60 / pace
    return int(max(_MIN_VISIBILITY_TIMEOUT, 2 * slowest_chunk))


def create_celery_app(settings: Settings) -> Celery:
    """Create the Celery app for the settings' broker (`HOSPITAL_BULK_BROKER_URL`)."""
    if not settings.broker_url:
        raise ValueError("HOSPITAL_BULK_BROKER_URL is not set; Celery needs a broker such as "
                         "redis://127.0.0.1:6379/0.")
    app = Celery("hospital_bulk", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_default_queue=QUEUE,
        # Acknowledge a task only after it ran, and put it back when its worker process
        # dies, so that a crash never drops work. The store's leases make reruns safe.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # A worker reserves no more tasks than it runs, so queued chunks go to idle workers.
        worker_prefetch_multiplier=1,
        # On a lost broker connection, terminate the running tasks, because they can no
        # longer be acknowledged (Celery 6 makes this the default). Their chunks are
        # claimed again once the leases run out.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        broker_connection_retry_on_startup=True,
        # Redis and SQS only; RabbitMQ redelivers when the consumer's connection closes.
        broker_transport_options={"visibility_timeout": visibility_timeout(settings)},
        # The CLI configures logging once; Celery must not replace the root handlers.
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    return app
