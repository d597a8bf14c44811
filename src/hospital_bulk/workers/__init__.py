"""Job runners: the in-process worker of the embedded shape, and Celery workers."""
