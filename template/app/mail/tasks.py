"""Mail through Celery: the `mail` queue, retried with backoff by the worker."""

import aiosmtplib

from app.core.settings import get_settings
from app.mail.sender import Mail, SmtpSender
from app.worker.async_task import worker_loop
from app.worker.celery_app import celery_app


# The options are spelled out, not unpacked from a dict: that would make the task `Any`,
# and mypy would no longer check how it is called.
@celery_app.task(
    name="app.mail.tasks.send_mail",
    autoretry_for=(aiosmtplib.SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def send_mail(to: str, subject: str, text: str, html: str) -> None:
    """Send once; an SMTP failure raises, and Celery retries it with backoff."""
    sender = SmtpSender(get_settings())
    mail = Mail(to=to, subject=subject, text=text, html=html)

    async def send(_: object) -> None:
        await sender.send_once(mail)

    worker_loop.run(send)
