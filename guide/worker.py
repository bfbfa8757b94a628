"""The task worker's entry point: `huey_consumer guide.worker.huey` (make run starts one).

It builds the app as a web process does (same environment: DATABASE_URL, REDIS_URL, keys), which
points the queue at the same storage and gives the tasks their app.
"""

from . import create_app
from .tasks import huey

app = create_app()

__all__ = ["app", "huey"]
