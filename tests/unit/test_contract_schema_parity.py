"""The msgspec Structs are hand-written mirrors of schemas/v1/*.json: held to them exactly, both ways.

Walking each schema object alongside its Struct, every property must be a field and every field a
property; the required ones must match (and so the duplicate-key check's derived colon counts); every
``enum``/``const`` must equal the field's Literal values and every ``pattern`` the regex of the
field's ``Pattern``. A new enum value, a changed pattern or a new required field in either place
fails here, not in production. Comparing was chosen over generating the Structs from the schemas
at import time: generated Structs would be invisible to mypy and to readers.
"""

from __future__ import annotations

import copy
import json
import typing
from collections.abc import Iterator
from importlib import resources
from typing import Any

import msgspec
import pytest

from kouiki.contract import duplicate_keys, model
from kouiki.contract.check import DOCUMENT_KINDS
from kouiki.sample.generator import generate

FOLDER = resources.files("kouiki.contract").joinpath("schemas", "v1")
SCHEMAS = {
    name: json.loads(FOLDER.joinpath(f"{name}.schema.json").read_text(encoding="utf-8"))
    for name in ("common", *DOCUMENT_KINDS)
}
TOP = {"consortium": model.Consortium, "project": model.Project, "report": model.Report}


def resolve(node: Any) -> Any:
    """Follow ``$ref`` into common.schema.json's ``$defs`` (the only kind of reference used)."""
    while isinstance(node, dict) and "$ref" in node:
        target = node["$ref"].split("#/$defs/")[1]
        node = SCHEMAS["common"]["$defs"][target]
    return node


def alternatives(node: Any) -> list[Any]:
    """A property schema and, through ``$ref``/``anyOf``/``items``, the schemas that constrain its values."""
    node = resolve(node)
    out = [node]
    if isinstance(node, dict):
        for member in node.get("anyOf", []):
            out += alternatives(member)
        if "items" in node:
            out += alternatives(node["items"])
    return out


def properties_and_required(schema: dict[str, Any], top: bool) -> tuple[dict[str, Any], set[str]]:
    props, required = dict(schema["properties"]), set(schema.get("required", []))
    if top:  # the envelope comes in through allOf; its properties are `true` placeholders here
        (envelope,) = (resolve(part) for part in schema["allOf"])
        props.update(envelope["properties"])
        required |= set(envelope["required"])
    return props, required


def pairs() -> Iterator[tuple[str, type[msgspec.Struct], dict[str, Any], bool]]:
    """(where, Struct, schema object, is a top-level document) for every object in the contract."""
    todo = [(kind, cls, SCHEMAS[kind], True) for kind, cls in TOP.items()]
    while todo:
        where, cls, schema, top = todo.pop()
        yield where, cls, schema, top
        props, _ = properties_and_required(schema, top)
        for field in msgspec.inspect.type_info(cls).fields:
            child = _struct_in(field.type)
            if child is not None:
                objects = [a for a in alternatives(props[field.name]) if isinstance(a, dict) and "properties" in a]
                todo.append((f"{where}.{field.name}", child, objects[0], False))


def _struct_in(info: msgspec.inspect.Type) -> type[msgspec.Struct] | None:
    if isinstance(info, msgspec.inspect.StructType):
        return info.cls
    if isinstance(info, msgspec.inspect.ListType):
        return _struct_in(info.item_type)
    if isinstance(info, msgspec.inspect.UnionType):
        found = [c for t in info.types if (c := _struct_in(t)) is not None]
        return found[0] if found else None
    return None


def literal_values(info: msgspec.inspect.Type) -> set[Any]:
    if isinstance(info, msgspec.inspect.LiteralType):
        return set(info.values)
    if isinstance(info, msgspec.inspect.ListType):
        return literal_values(info.item_type)
    if isinstance(info, msgspec.inspect.UnionType):
        return set().union(*(literal_values(t) for t in info.types))
    return set()


def model_patterns(annotation: Any) -> set[str]:
    """The regexes of the ``model.Pattern`` objects anywhere in an annotation (Annotated metadata)."""
    found = {m.regex for m in getattr(annotation, "__metadata__", ()) if isinstance(m, model.Pattern)}
    for arg in typing.get_args(annotation):
        found |= model_patterns(arg)
    return found


def schema_values(prop: Any, keyword: str) -> set[Any]:
    found: set[Any] = set()
    for node in alternatives(prop):
        if isinstance(node, dict):
            if keyword == "enum":
                found |= set(node.get("enum", []))
                if "const" in node:
                    found.add(node["const"])
            elif "pattern" in node:
                found.add(node["pattern"])
    return found


PAIRS = list(pairs())


def test_every_object_of_the_schemas_has_its_struct() -> None:
    assert sorted(where for where, *_ in PAIRS) == [
        "consortium",
        "consortium.members",
        "project",
        "project.areas",
        "project.kpis",
        "report",
        "report.funding",
        "report.kpis",
        "report.progress",
        "report.progress.milestones",
    ]
    for where, _, schema, top in PAIRS:
        assert top or schema.get("additionalProperties") is False, where  # else the colon count is off


@pytest.mark.parametrize(("where", "cls", "schema", "top"), PAIRS, ids=[p[0] for p in PAIRS])
def test_fields_and_required_fields_match_the_schema(
    where: str, cls: type[msgspec.Struct], schema: dict[str, Any], top: bool
) -> None:
    props, required = properties_and_required(schema, top)
    fields = msgspec.structs.fields(cls)
    assert {f.name for f in fields} == set(props)
    assert {f.name for f in fields if f.required} == required
    # The duplicate-key check's colon count follows the schema's required list.
    assert duplicate_keys.required_colons(cls) == len(required)


@pytest.mark.parametrize(("where", "cls", "schema", "top"), PAIRS, ids=[p[0] for p in PAIRS])
def test_enums_and_patterns_match_the_schema_exactly(
    where: str, cls: type[msgspec.Struct], schema: dict[str, Any], top: bool
) -> None:
    props, _ = properties_and_required(schema, top)
    hints = typing.get_type_hints(cls, include_extras=True)
    for field in msgspec.inspect.type_info(cls).fields:
        prop = props[field.name]
        assert literal_values(field.type) == schema_values(prop, "enum"), f"{where}.{field.name} enum"
        assert model_patterns(hints[field.name]) == schema_values(prop, "pattern"), f"{where}.{field.name} pattern"


# --- patterns_hold checks every annotated pattern ------------------------------------------------------


def full_documents() -> list[dict[str, Any]]:
    """One sample document of each kind with every optional field present."""
    sample = generate(seed=13, quarters=3)
    consortium = copy.deepcopy(next(d for d in sample.registry if d["entity"] == "consortium"))
    consortium["name_en"] = "A consortium"
    project = copy.deepcopy(next(d for d in sample.registry if d["entity"] == "project"))
    project["title_en"] = "A project"
    report = copy.deepcopy(sample.reports[0])
    report["progress"]["summary_ja"] = "順調"
    report["progress"]["milestones"] = [
        {"milestone_code": "M01", "title_ja": "着手", "planned_date": "2026-04-01", "status": "done"},
        {"milestone_code": "M02", "title_ja": "完了", "planned_date": "2026-06-01", "status": "done"},
    ]
    report["progress"]["milestones"][0]["actual_date"] = "2026-04-02"
    report["progress"]["milestones"][1]["actual_date"] = None
    report["funding"][0]["pref_code"] = consortium["prefectures"][0]
    report["kpis"][0]["pref_code"] = consortium["prefectures"][0]
    return [consortium, project, report]


def optional_fields_present(cls: type[msgspec.Struct], doc: Any) -> set[str]:
    """``Struct.field`` for every optional field present somewhere in a parsed document."""
    found = {f"{cls.__name__}.{f.name}" for f in msgspec.structs.fields(cls) if not f.required and f.name in doc}
    for field in msgspec.inspect.type_info(cls).fields:
        child = _struct_in(field.type)
        if child is not None and field.name in doc:
            for item in doc[field.name] if isinstance(doc[field.name], list) else [doc[field.name]]:
                found |= optional_fields_present(child, item)
    return found


def test_the_full_documents_have_every_optional_field() -> None:
    every = {f"{cls.__name__}.{f.name}" for _, cls, *_ in PAIRS for f in msgspec.structs.fields(cls) if not f.required}
    present = set().union(*(optional_fields_present(TOP[model.kind_of_bytes(_raw(d))], d) for d in full_documents()))
    assert present == every


def _raw(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def pattern_paths(cls: type[msgspec.Struct], doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every string in a parsed document that its Struct annotation gives a pattern."""
    hints = typing.get_type_hints(cls, include_extras=True)
    for field in msgspec.inspect.type_info(cls).fields:
        value = doc.get(field.name)
        if isinstance(value, str) and model_patterns(hints[field.name]):
            yield (*path, field.name)
        elif isinstance(value, list) and value and isinstance(value[0], str) and model_patterns(hints[field.name]):
            yield (*path, field.name, len(value) - 1)
        child = _struct_in(field.type)
        if child is not None and value is not None:
            for index, item in enumerate(value) if isinstance(value, list) else [(None, value)]:
                yield from pattern_paths(
                    child, item, (*path, field.name) if index is None else (*path, field.name, index)
                )


def test_every_annotated_pattern_is_checked() -> None:
    broken = []
    checked = 0
    for doc in full_documents():
        raw = _raw(doc)
        cls = TOP[model.kind_of_bytes(raw)]
        assert model.patterns_hold(msgspec.json.decode(raw, type=cls))
        for path in pattern_paths(cls, doc):
            bad = copy.deepcopy(doc)
            target = bad
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = "no match"  # matches none of the contract's patterns
            checked += 1
            if model.patterns_hold(msgspec.json.decode(_raw(bad), type=cls)):
                broken.append(path)
    assert broken == []
    assert checked >= 20  # the walk is not vacuous: ids, codes, dates in every nested object


# --- the duplicate-key check's colon count is exact ---------------------------------------------------


def colons_of(value: Any) -> int:
    """An independent count from the parsed JSON: one colon per key, plus those inside strings."""
    if isinstance(value, dict):
        return sum(1 + colons_of(v) for v in value.values())
    if isinstance(value, list):
        return sum(map(colons_of, value))
    return value.count(":") if isinstance(value, str) else 0


def with_colons_in_free_text(cls: type[msgspec.Struct], doc: Any) -> None:
    """Add colons to every string the Struct gives neither a pattern nor a Literal (free text)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    for field in msgspec.inspect.type_info(cls).fields:
        value = doc.get(field.name)
        if isinstance(value, str) and not model_patterns(hints[field.name]):
            if not isinstance(field.type, msgspec.inspect.LiteralType):
                doc[field.name] = f"{value[:30]}: a:b"
        child = _struct_in(field.type)
        if child is not None and value is not None:
            for item in value if isinstance(value, list) else [value]:
                with_colons_in_free_text(child, item)


def test_the_count_is_exact_with_every_optional_field_and_colons_in_every_free_text() -> None:
    for doc in full_documents():
        cls = TOP[model.kind_of_bytes(_raw(doc))]
        with_colons_in_free_text(cls, doc)
        raw = _raw(doc)
        decoded = model.decode(raw)  # still valid
        assert duplicate_keys.expected_colons(decoded) == colons_of(doc) == raw.count(b":")
        assert duplicate_keys.cleared_by_count(raw, decoded)
