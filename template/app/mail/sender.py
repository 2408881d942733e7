"""Sending one message over SMTP (aiosmtplib), with retries and backoff.

Failures never reach the request that asked for the mail: it was sent after the response,
and here each attempt that fails is logged, retried after a growing delay, and finally
logged as given up.
"""

import asyncio
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib
import structlog

from app.core.settings import Settings

log = structlog.get_logger(__name__)

# Seconds to wait before each retry; the length is the number of retries.
RETRY_DELAYS = (1.0, 4.0, 15.0)


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str

    def message(self, sender: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = self.to
        message["Subject"] = self.subject
        message.set_content(self.text)
        message.add_alternative(self.html, subtype="html")
        return message


class SmtpSender:
    def __init__(self, settings: Settings, retry_delays: tuple[float, ...] = RETRY_DELAYS) -> None:
        self.settings = settings
        self.retry_delays = retry_delays

    async def send_once(self, mail: Mail) -> None:
        password = self.settings.smtp_password
        # An empty value (SMTP_USERNAME= in .env) means no login, like an absent one.
        await aiosmtplib.send(
            mail.message(self.settings.mail_from),
            hostname=self.settings.smtp_host,
            port=self.settings.smtp_port,
            username=self.settings.smtp_username or None,
            password=password.get_secret_value() or None if password else None,
            start_tls=self.settings.smtp_starttls,
            timeout=10,
        )

    async def send(self, mail: Mail) -> bool:
        """Send, retrying with backoff; True once delivered to the server, else False."""
        for attempt, delay in enumerate((*self.retry_delays, None), start=1):
            try:
                await self.send_once(mail)
            except (aiosmtplib.SMTPException, OSError) as exc:
                log.warning("mail_failed", attempt=attempt, error=type(exc).__name__)
                if delay is None:
                    log.error("mail_given_up", subject=mail.subject, attempts=attempt)
                    return False
                await asyncio.sleep(delay)
            else:
                log.info("mail_sent", subject=mail.subject, attempts=attempt)
                return True
        return False
