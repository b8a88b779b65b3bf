"""`make demo` prints a working secretariat login for the portal, on the first run and every later one."""

from pathlib import Path

from kouiki.identity import users
from kouiki.identity.principal import Principal
from kouiki.services.local_stack import DEMO_SECRETARIAT, demo_secretariat
from tests.support.identity import identity_settings


def test_the_demo_secretariat_can_log_in_after_every_demo(tmp_path: Path) -> None:
    settings = identity_settings(tmp_path)
    first = demo_secretariat(settings, "KR-TOH-01")
    again = demo_secretariat(settings, "KR-TOH-01")
    assert users.authenticate_password(settings, DEMO_SECRETARIAT, first) is None
    assert users.authenticate_password(settings, DEMO_SECRETARIAT, again) == Principal(
        DEMO_SECRETARIAT, "secretariat", ("KR-TOH-01",)
    )
