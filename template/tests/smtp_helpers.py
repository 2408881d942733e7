"""A real SMTP server for the tests (aiosmtpd), catching what the service sends."""

import asyncio
import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class Inbox:
    """Mail the server received. The server runs in its own thread, hence the condition."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted"

    async def wait_for(
        self, count: int = 1, within: float = 20, to: str | None = None
    ) -> list[EmailMessage]:
        """The messages (to `to`, if given) once `count` arrived, or whatever arrived
        within `within` seconds."""

        def matching() -> list[EmailMessage]:
            return [m for m in self.messages if to is None or m["To"] == to]

        def wait() -> list[EmailMessage]:
            with self._arrived:
                self._arrived.wait_for(lambda: len(matching()) >= count, timeout=within)
                return matching()

        return await asyncio.to_thread(wait)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class SmtpCatcher:
    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
