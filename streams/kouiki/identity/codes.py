"""Names the directory accepts: consortium codes (the contract's pattern), usernames and e-mail
addresses."""

from __future__ import annotations

import re

from kouiki.contract.model import CONSORTIUM_CODE
from kouiki.identity.errors import IdentityError

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
# A plain address (no display name, no list): it goes into an e-mail header as it is.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@" + _LABEL + r"(?:\." + _LABEL + r")+")  # fullmatch
# Superset's own admin login keeps its name; the directory never creates or changes it.
RESERVED_USERNAMES = frozenset({"admin"})


def consortium_code(code: str) -> str:
    if not isinstance(code, str) or not CONSORTIUM_CODE.matches(code):
        raise IdentityError(
            f"{code!r} is not a consortium code: expected the pattern {CONSORTIUM_CODE.regex} (e.g. KR-TOHOKU-01)"
        )
    return code


def username(name: str) -> str:
    if not USERNAME.match(name):
        raise IdentityError(
            f"{name!r} is not a usable username: lowercase letters, digits and . _ @ - (at most 64, "
            "starting with a letter or digit)"
        )
    if name in RESERVED_USERNAMES:
        raise IdentityError(f"{name!r} is reserved for the platform's admin login")
    return name


def email(address: str) -> str:
    if not isinstance(address, str) or len(address) > 254 or not EMAIL.fullmatch(address):
        raise IdentityError(f"{address!r} is not a usable e-mail address (such as jimukyoku@example.jp)")
    return address
