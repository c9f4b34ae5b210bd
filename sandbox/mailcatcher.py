"""A mail catcher for the demo and the tests: a real SMTP server (aiosmtpd) on loopback that keeps every message
it receives as an ``.eml`` file, so a person can open what partners would have been sent."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


class _Keep:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.count += 1
        rcpt = envelope.rcpt_tos[0].replace("@", "_at_")  # type: ignore[attr-defined]
        (self.folder / f"{self.count:04d}-{rcpt}.eml").write_bytes(envelope.original_content)  # type: ignore[attr-defined]
        return "250 Message accepted for delivery"


class MailCatcher:
    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.handler = _Keep(folder)
        self.controller = Controller(self.handler, hostname=host, port=port or _free_port(host))

    @property
    def port(self) -> int:
        return self.controller.port

    def __enter__(self) -> MailCatcher:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(self.folder.glob("*.eml"))
        ]


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
