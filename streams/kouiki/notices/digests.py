"""The daily notice digest: one e-mail per consortium and day to its active secretariats with an
e-mail address, when the consortium has notices.

A digest is recorded in ``notice_digests`` (unique per consortium and day) in the same transaction
that sends it: the row is inserted first, so a second run the same day, or a concurrent one, finds
the row (or fails on the unique rule) and sends nothing; a failed send rolls the row back, so the
next run sends it. The store's writers wait for the SMTP exchange while the row is pending (at most
``mailer.TIMEOUT_S``, once a day per consortium). A mail that went out but whose commit then failed
is sent again next time: at least once, never silently lost.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from kouiki.config import Settings
from kouiki.identity import audit, store, users
from kouiki.identity.principal import SECRETARIAT
from kouiki.notices import digest_text, mailer
from kouiki.notices.listing import notices_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentDigest:
    consortium_code: str
    recipients: tuple[str, ...]
    notices: int


@dataclass
class DigestResult:
    """What one run did. ``configured`` is False when no SMTP server is set: nothing was tried."""

    day: date
    configured: bool = True
    sent: list[SentDigest] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)  # today's digest went out before
    failed: dict[str, str] = field(default_factory=dict)  # consortium -> why (retried next run)
    no_notices: list[str] = field(default_factory=list)  # consortia with recipients and nothing to say

    def lines(self) -> list[str]:
        if not self.configured:
            return ["notices: no SMTP server configured (KOUIKI_SMTP_HOST), no e-mail sent"]
        out = [f"sent {d.consortium_code}: {d.notices} notices to {', '.join(d.recipients)}" for d in self.sent]
        out += [f"already sent today: {code}" for code in self.already_sent]
        out += [f"failed {code}: {why} (retried next run)" for code, why in self.failed.items()]
        out.append(
            f"notices {self.day}: {len(self.sent)} digests sent, {len(self.already_sent)} already sent, "
            f"{len(self.failed)} failed, {len(self.no_notices)} consortia without notices"
        )
        return out


def recipients_by_consortium(settings: Settings) -> dict[str, list[str]]:
    """Each consortium's active secretariats' addresses (a person of two consortia is in both)."""
    found: dict[str, list[str]] = defaultdict(list)
    for user in users.list_users(settings, include_revoked=False):
        if user.kind == SECRETARIAT and user.email:
            for code in user.consortia:
                found[code].append(user.email)
    return {code: sorted(set(addresses)) for code, addresses in sorted(found.items())}


def send_digests(settings: Settings, today: date, *, actor: str | None = None) -> DigestResult:
    """Send today's digest to every consortium that has notices and someone to mail, once a day."""
    result = DigestResult(today)
    if not settings.smtp_host:
        result.configured = False
        return result
    who = actor or audit.local_actor()
    sent_today = _sent_on(settings, today)
    for code, recipients in recipients_by_consortium(settings).items():
        if code in sent_today:
            result.already_sent.append(code)
            continue
        notices = notices_for(settings, [code], today)
        if not notices:
            result.no_notices.append(code)
            continue
        mail = mailer.message(
            settings,
            recipients,
            digest_text.subject(code, today, len(notices)),
            digest_text.body(settings, code, today, notices),
        )
        try:
            with store.engine(settings).begin() as conn:
                conn.execute(
                    sa.insert(store.notice_digests).values(
                        consortium_code=code,
                        day=today,
                        sent_at=store.now(),
                        recipients=recipients,
                        notices=len(notices),
                    )
                )
                mailer.send(settings, mail)
                audit.record(
                    conn,
                    who,
                    "notice.digest",
                    code,
                    audit.LOCAL,
                    day=today.isoformat(),
                    recipients=recipients,
                    notices=len(notices),
                )
        except sa.exc.IntegrityError:  # a concurrent run sent it first
            result.already_sent.append(code)
        except mailer.MailError as exc:
            log.warning("notice digest for %s not sent (retried next run): %s", code, exc)
            result.failed[code] = str(exc)
        else:
            result.sent.append(SentDigest(code, tuple(recipients), len(notices)))
    return result


def _sent_on(settings: Settings, day: date) -> set[str]:
    t = store.notice_digests
    with store.engine(settings).connect() as conn:
        return set(conn.execute(sa.select(t.c.consortium_code).where(t.c.day == day)).scalars())
