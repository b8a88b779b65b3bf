"""check.py reads msgspec's error message text: the JSON path after `` - at `...` `` and the phrase
"Expected `int`, got `float`" (a fraction written in an integer field, the one case where only the
gate refuses and the schema cannot say where). Pinned against the installed msgspec, so an upgrade
that rewords them fails here instead of silently losing the located, bilingual message."""

from __future__ import annotations

import copy
import json

import msgspec
import pytest

from kouiki.contract import model
from kouiki.contract.check import check_bytes
from kouiki.sample.generator import generate

REPORT = generate(seed=13, quarters=1).reports[0]


class _Line(msgspec.Struct):
    amount: int


class _Doc(msgspec.Struct):
    lines: list[_Line]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"lines": [{"amount": 1}, {"amount": 2.0}]}', "Expected `int`, got `float` - at `$.lines[1].amount`"),
        (b'{"lines": [{"amount": "1"}]}', "Expected `int`, got `str` - at `$.lines[0].amount`"),
        (b'{"lines": [{}]}', "Object missing required field `amount` - at `$.lines[0]`"),
    ],
)
def test_msgspec_words_its_errors_as_check_py_reads_them(raw: bytes, message: str) -> None:
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.json.decode(raw, type=_Doc)
    assert str(caught.value) == message


def test_a_fraction_in_an_integer_field_is_located_and_explained() -> None:
    doc = copy.deepcopy(REPORT)
    doc["funding"][0]["amount_jpy"] = 2.0  # an integer to JSON Schema, so only the gate's message locates it
    raw = json.dumps(doc, ensure_ascii=False).encode()
    with pytest.raises(model.GateError, match=r"^Expected `int`, got `float` - at `\$\.funding\[0\]\.amount_jpy`$"):
        model.decode(raw)
    checked = check_bytes(raw)
    assert checked.error_class == "SchemaViolation"
    assert [(v.path, v.message, v.message_ja) for v in checked.violations] == [
        (
            "$.funding[0].amount_jpy",
            "Expected `int`, got `float`",
            "契約に違反しています（整数の項目に小数表記は使えません）",
        )
    ]
