"""Validate contract documents: the compiled gate (``model``) for the common case, the JSON Schemas in
``schemas/v1`` for located messages when the gate rejects, then the rules a schema cannot express
(``rules``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol

from kouiki.contract import model, rules
from kouiki.contract.messages import Violation, japanese_for_schema_error
from kouiki.contract.strict_json import loads

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

__all__ = ["NOT_AUTHORIZED", "Checked", "Signer", "Violation", "check_bytes", "kind_of", "validate"]
SCHEMA_VERSION = "v1"
DOCUMENT_KINDS = ("consortium", "project", "report")
NOT_AUTHORIZED = "not_authorized"  # the error class of a document its signer may not write


class Signer(Protocol):
    """Who signed a document (``identity.keys.SigningKey``): what it may write, by kind and consortium."""

    @property
    def key_id(self) -> str: ...

    def may_write(self, kind: str, consortium_code: str) -> bool: ...


def kind_of(doc: Any) -> str:
    """Which contract document this is: registry documents name their ``entity``, reports do not."""
    if isinstance(doc, dict) and doc.get("entity") in ("consortium", "project"):
        return str(doc["entity"])
    return "report"


@cache
def _schema_texts() -> dict[str, dict[str, Any]]:
    folder = resources.files("kouiki.contract").joinpath("schemas", SCHEMA_VERSION)
    return {
        name: json.loads(folder.joinpath(f"{name}.schema.json").read_text(encoding="utf-8"))
        for name in ("common", *DOCUMENT_KINDS)
    }


@cache
def _validator(kind: str) -> Draft202012Validator:
    # Imported here: JSON Schema only explains a document msgspec refused, and importing it costs
    # about a quarter of a second of every `kouiki submit`.
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource

    texts = _schema_texts()
    registry: Registry[Any] = Registry().with_resources(
        (f"{name}.schema.json", Resource.from_contents(text)) for name, text in texts.items()
    )
    registry = registry.with_resources((text["$id"], Resource.from_contents(text)) for text in texts.values())
    return Draft202012Validator(texts[kind], registry=registry, format_checker=FormatChecker())


def json_path(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def schema_violations(doc: Any) -> list[Violation]:
    """Every JSON Schema violation of a parsed document, in document order."""
    if not isinstance(doc, dict):
        return [Violation("$", f"expected a JSON object, got {type(doc).__name__}", "JSONオブジェクトが必要です")]
    errors = sorted(_validator(kind_of(doc)).iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    return [Violation(json_path(e.absolute_path), _english(e), japanese_for_schema_error(e)) for e in errors]


def _english(error: Any) -> str:
    if error.validator == "pattern":
        return f"{error.instance!r} does not match the required format {error.validator_value}"
    return str(error.message)


@dataclass(frozen=True)
class Checked:
    """The verdict on one document. ``error_class`` names the kind of failure for dead letters:
    NotUtf8, InvalidJson, SchemaViolation, not_authorized (signer), RuleViolation or UnknownCode (registry)."""

    kind: str
    doc: model.Document | None
    violations: list[Violation]
    error_class: str | None = None

    @property
    def ok(self) -> bool:
        return not self.violations


def check_bytes(raw: bytes, registry: rules.Registry | None = None, signer: Signer | None = None) -> Checked:
    """Check one serialised document: gate, then (with ``signer``) whether its signer may write it,
    then rules; on rejection, the located reasons."""
    kind = model.kind_of_bytes(raw)
    try:
        doc = model.decode(raw, kind)
    except model.GateError as gate:
        error_class, violations = _explain(raw, str(gate))
        return Checked(kind, None, violations, error_class)
    if signer is not None:
        refused = unauthorized(doc, kind, signer, registry)
        if refused is not None:
            return Checked(kind, doc, [refused], NOT_AUTHORIZED)
    violations = rules.check_local(doc)
    if violations:
        return Checked(kind, doc, violations, "RuleViolation")
    if registry is not None:
        violations = rules.check_registry(doc, registry)
        if violations:
            return Checked(kind, doc, violations, "UnknownCode")
    return Checked(kind, doc, [])


def unauthorized(
    doc: model.Document, kind: str, signer: Signer, registry: rules.Registry | None = None
) -> Violation | None:
    """Why ``signer`` may not write ``doc``, naming the consortium; None when it may. A project
    registration or a report needs a key of the consortium it names and, once the project is
    registered, of the consortium that owns it; a consortium registration needs an operator key."""
    code = doc.consortium_code
    if not signer.may_write(kind, code):
        if kind == "consortium":
            return Violation(
                "$.consortium_code",
                f"key {signer.key_id} may not write for consortium {code}: "
                "registering or changing a consortium needs an operator key",
                f"鍵 {signer.key_id} は連携体 {code} を登録・変更できません（運用者の鍵が必要です）",
            )
        return Violation(
            "$.consortium_code",
            f"key {signer.key_id} may not write for consortium {code}",
            f"鍵 {signer.key_id} は連携体 {code} の文書を書き込めません",
        )
    if registry is not None and not isinstance(doc, model.Consortium):
        owner = registry.projects.get(doc.project_code)
        if owner is not None and not signer.may_write(kind, owner.consortium_code):
            return Violation(
                "$.project_code",
                f"key {signer.key_id} may not write for consortium {owner.consortium_code}, "
                f"which project {doc.project_code} belongs to",
                f"鍵 {signer.key_id} は連携体 {owner.consortium_code} の事業 {doc.project_code} に書き込めません",
            )
    return None


def _explain(raw: bytes, gate_message: str) -> tuple[str, list[Violation]]:
    try:
        parsed = loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return "NotUtf8", [Violation("$", f"not UTF-8: {exc}", "UTF-8 ではありません（Shift_JIS などは使えません）")]
    except RecursionError:
        return "InvalidJson", [Violation("$", "JSON nested too deeply", "JSONの入れ子が深すぎます")]
    except ValueError as exc:
        return "InvalidJson", [Violation("$", f"invalid JSON: {exc}", "JSONとして読めません")]
    located = re.search(r" - at `(\$[^`]*)`$", gate_message)
    fallback = Violation(
        located.group(1) if located else "$",
        gate_message.split(" - at `")[0],
        "契約に違反しています（整数の項目に小数表記は使えません）"
        if "Expected `int`, got `float`" in gate_message
        else "契約（スキーマ）に違反しています",
    )
    return "SchemaViolation", schema_violations(parsed) or [fallback]


def validate(doc: Any, registry: rules.Registry | None = None, signer: Signer | None = None) -> list[Violation]:
    """All violations of a parsed document (tests and tools; the hot paths use check_bytes)."""
    return check_bytes(json.dumps(doc, ensure_ascii=False).encode("utf-8"), registry, signer).violations
