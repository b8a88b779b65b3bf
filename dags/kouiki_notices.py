"""
### kouiki_notices

Every morning at 08:00 (Asia/Tokyo), after `kouiki_quality`, e-mails each consortium's secretariats
one digest of what they must act on: documents dead-lettered in the last days, quarterly reports due
within `KOUIKI_NOTICE_DUE_DAYS` and overdue ones (the same notices as the portal's お知らせ page).
One e-mail per consortium per day: a retry or a second run the same day sends nothing more, and a
consortium whose mail failed is sent on the next run. Without `KOUIKI_SMTP_HOST` the task sends
nothing and succeeds. Secretariats get mail once an operator set their address
(`kouiki users set-email NAME ADDRESS`).
"""

import pendulum
from airflow.sdk import dag, task

from kouiki.orchestration.defaults import dag_arguments


@dag(schedule="0 8 * * *", doc_md=__doc__, **dag_arguments("notices", retry_delay=pendulum.duration(minutes=10)))
def kouiki_notices() -> None:
    @task
    def send_notice_digests() -> list[str]:
        from kouiki.config import Settings
        from kouiki.notices.digests import send_digests
        from kouiki.notices.notice import today

        result = send_digests(Settings.from_env(), today(), actor="airflow:kouiki_notices")
        if result.failed:  # the others went out; failing the task alerts and retries the rest
            raise RuntimeError("; ".join(result.lines()))
        return result.lines()

    send_notice_digests()


kouiki_notices()
