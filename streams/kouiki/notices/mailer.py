"""Sending one e-mail through the configured SMTP server (``KOUIKI_SMTP_*``): STARTTLS and login when
configured. Failures raise ``MailError`` with a one-line reason."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from kouiki.config import Settings

TIMEOUT_S = 20.0


class MailError(RuntimeError):
    """The SMTP server could not be reached or refused the message."""


def message(settings: Settings, recipients: list[str], subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 message from ``smtp_from``, marked as sent automatically (RFC 3834), so
    auto-responders do not answer it."""
    mail = EmailMessage()
    mail["From"] = settings.smtp_from
    mail["To"] = ", ".join(recipients)
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(body, charset="utf-8")
    return mail


def send(settings: Settings, mail: EmailMessage) -> None:
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(mail)
    except (smtplib.SMTPException, OSError) as exc:  # OSError: refused, unreachable, timed out, TLS
        raise MailError(f"{settings.smtp_host}:{settings.smtp_port}: {type(exc).__name__}: {exc}") from exc
