"""An authenticated person and what they may read and write."""

from __future__ import annotations

from dataclasses import dataclass

OPERATOR = "operator"  # runs the platform; may register consortia
CABINET = "cabinet"  # Cabinet Office: reads everything, submits nothing
SECRETARIAT = "secretariat"  # of one or more consortia: their projects and reports
KINDS = (OPERATOR, CABINET, SECRETARIAT)


@dataclass(frozen=True)
class Principal:
    username: str
    kind: str  # one of KINDS
    consortia: tuple[str, ...] = ()  # a secretariat's; empty for the other kinds

    def may_read(self, consortium_code: str) -> bool:
        return self.kind in (OPERATOR, CABINET) or consortium_code in self.consortia

    def may_write(self, kind: str, consortium_code: str) -> bool:
        """``kind`` is the document's (``consortium``, ``project``, ``report``), as in
        :meth:`kouiki.identity.keys.SigningKey.may_write`: an operator anything, a secretariat its own
        consortia's projects and reports but never a consortium registration, Cabinet Office nothing."""
        if self.kind == OPERATOR:
            return True
        if self.kind == SECRETARIAT:
            return kind != "consortium" and consortium_code in self.consortia
        return False
