"""Mail through Celery: the `mail` queue, retried with backoff by the worker."""

import aiosmtplib

from app.mail.sender import Mail, SmtpSender
from app.worker.async_task import backoff
from app.worker.celery_app import celery_app
from app.worker.state import worker_state


@celery_app.task(name="app.mail.tasks.send_mail", max_retries=8)
def send_mail(to: str, subject: str, text: str, html: str) -> None:
    """Send once; an SMTP or network failure is retried with backoff."""
    state = worker_state()
    sender = SmtpSender(state.settings)
    mail = Mail(to=to, subject=subject, text=text, html=html)

    async def send(_: object) -> None:
        await sender.send_once(mail)

    try:
        state.run(send)
    except (aiosmtplib.SMTPException, OSError) as error:
        # Raises `error` itself once the retries are spent.
        countdown = backoff(state.settings, send_mail.request.retries)
        raise send_mail.retry(exc=error, countdown=countdown) from error
