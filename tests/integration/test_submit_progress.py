"""Progress while sending counts against the number of documents in the submission, in the
streaming mode as well as after a whole-submission check."""

from __future__ import annotations

from pathlib import Path

import pytest

from kouiki.config import Settings
from kouiki.intake.submit import submit
from kouiki.sample.generator import generate
from tests.support.signing import signed

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("all_or_nothing", [False, True])
def test_progress_counts_against_every_document_read(
    shared_broker: Settings, tmp_path: Path, all_or_nothing: bool
) -> None:
    settings = shared_broker
    sample = generate(seed=47, quarters=2)
    files = sample.write(tmp_path / "sample")
    documents = len(sample.registry) + len(sample.reports)
    calls: list[tuple[int, int]] = []
    outcome = submit(
        files, signed(settings), all_or_nothing=all_or_nothing, progress=lambda done, total: calls.append((done, total))
    )
    assert not outcome.problems
    assert len(outcome.receipts) == documents
    assert calls, "no progress reported"
    assert {total for _, total in calls} == {documents}
    assert calls[-1] == (documents, documents)
