"""Mail: rendered from templates, sent over real SMTP, and never an error for the caller."""

import uuid

import pytest
from fastapi import BackgroundTasks

from app.core.settings import Settings
from app.mail.sender import Mail, SmtpSender
from app.mail.service import MailService
from app.mail.templates import render
from tests.smtp_helpers import SmtpCatcher, free_port


@pytest.fixture
def catcher(smtp: SmtpCatcher) -> SmtpCatcher:
    smtp.inbox.messages.clear()
    return smtp


async def test_templates_render_text_and_escaped_html() -> None:
    mail = await render(
        "welcome",
        to="ada@example.com",
        subject="Hi",
        name="<Ada>",
        email="ada@example.com",
        service="Shop",
    )

    assert "Hello <Ada>," in mail.text
    assert "Hello &lt;Ada&gt;," in mail.html
    assert "ada@example.com" in mail.html


async def test_a_mail_reaches_the_smtp_server(settings: Settings, catcher: SmtpCatcher) -> None:
    mail = Mail(to="ada@example.com", subject="Hi", text="plain", html="<p>rich</p>")

    delivered = await SmtpSender(settings).send(mail)

    (message,) = await catcher.inbox.wait_for(1)
    assert delivered is True
    assert message["To"] == "ada@example.com"
    assert message["From"] == settings.mail_from
    assert message.get_body(("plain",)).get_content().strip() == "plain"  # type: ignore[union-attr]
    assert "<p>rich</p>" in message.get_body(("html",)).get_content()  # type: ignore[union-attr]


@pytest.mark.usefixtures("mail_delivery")
async def test_the_service_sends_its_mail_once_the_response_is_sent(
    settings: Settings, catcher: SmtpCatcher
) -> None:
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    background = BackgroundTasks()

    await MailService(settings, background).send_welcome(email, "Ada")
    sent_before_the_response = [m for m in catcher.inbox.messages if m["To"] == email]
    await background()

    (message,) = await catcher.inbox.wait_for(1, to=email)
    assert sent_before_the_response == []
    assert message["Subject"] == "Welcome"
    assert "Hello Ada," in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def test_an_unreachable_server_is_retried_then_given_up_quietly(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    unreachable = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    mail = Mail(to="ada@example.com", subject="Hi", text="t", html="h")

    delivered = await SmtpSender(unreachable, retry_delays=(0.01, 0.02)).send(mail)

    logs = capsys.readouterr().out
    assert delivered is False
    assert logs.count("mail_failed") == 3
    assert "mail_given_up" in logs
