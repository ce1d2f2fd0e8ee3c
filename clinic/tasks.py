from celery import shared_task


@shared_task(name="clinic.ping")
def ping() -> str:
    """Proves the wiring: web -> broker -> worker -> result backend."""
    return "pong"
