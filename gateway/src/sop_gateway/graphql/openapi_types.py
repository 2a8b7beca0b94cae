"""GraphQL types derived from a service's OpenAPI document, never mirrored by hand.

The gateway's mutations take what the service's route takes and return what it answers, so their input and
record types are built from the service's own request and response schemas (its committed OpenAPI, kept
beside this module as `upstream/<service>.openapi.json` by `sop contract write`): every field, its
description, whether it is required, its enum values. A field the service adds shows up in GraphQL at the
next `make contracts`; a field it drops cannot linger here.

How a JSON Schema becomes GraphQL:

| schema | input | output |
|---|---|---|
| object with `properties` (a component or inline) | `<Name>Input` | `<Name>Record` (`In`/`Out` dropped) |
| `enum` (a component, or inline) | an enum, UPPER_CASE names (the shared one when it has all the values) | same |
| `string` with `format: uuid` / `date` / `date-time` | `ID` / `Date` / `DateTime` | same |
| `string`, `integer`, `number`, `boolean` | `String`, `Int`, `Float`, `Boolean` | same |
| `array` | a list of its items | same |
| `anyOf [X, null]` | `X`, optional | `X`, nullable |
| an object with no properties (a map), a union (`oneOf`), anything else | `JSON` | `JSON` |

A field is required (`!`, no default) when the schema requires it and does not allow null; every other input
field is optional and left out of the service's body when not given. Python keywords (`from`) get a trailing
underscore inside and keep their name in GraphQL and JSON."""

from __future__ import annotations

import datetime as dt
import keyword
import re
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, Literal

import strawberry
from strawberry.scalars import JSON

Direction = Literal["input", "output"]
SCALARS: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool}
FORMATS: dict[str, Any] = {"uuid": strawberry.ID, "date": dt.date, "date-time": dt.datetime}
SUFFIX = {"input": "Input", "output": "Record"}


def pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def python_name(json_name: str) -> str:
    name = re.sub(r"\W", "_", json_name)
    return f"{name}_" if keyword.iskeyword(name) or name[:1].isdigit() else name


class DerivedTypes:
    """The GraphQL types of one or more OpenAPI documents, built once and shared by name: a component is one
    type however many operations use it. `known_enums` are the schema's existing enums (by GraphQL name),
    reused when a service's enum has the same name and values, so a closed set is one enum everywhere."""

    def __init__(self, known_enums: Mapping[str, type[Enum]] = ()) -> None:  # type: ignore[assignment]
        self.known_enums: dict[str, type[Enum]] = dict(known_enums)
        self.types: dict[tuple[str, Direction], Any] = {}  # (GraphQL name, direction) -> type
        self.enums: dict[str, type[Enum]] = {}
        self.shapes: dict[str, Any] = {}  # GraphQL name -> the schema it was built from (to catch clashes)
        self.service = ""  # the service whose document is being read: it qualifies a name two services use

    # --- annotations ---------------------------------------------------------------------------------

    def annotation(
        self, document: dict[str, Any], schema: dict[str, Any], direction: Direction, hint: str
    ) -> tuple[Any, bool]:
        """The Python annotation for `schema` and whether it admits null."""
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return self.annotation(document, document["components"]["schemas"][name], direction, name)[0], False
        options = schema.get("anyOf")
        if options is not None:
            present = [o for o in options if o.get("type") != "null"]
            nullable = len(present) < len(options)
            if len(present) == 1:
                return self.annotation(document, {**present[0], **_meta(schema)}, direction, hint)[0], nullable
            return JSON, nullable
        if "enum" in schema:
            return self.enum(schema, hint), False
        kind = schema.get("type")
        if kind == "array":
            item, item_nullable = self.annotation(document, schema.get("items", {}), direction, f"{hint}Item")
            return list[item | None] if item_nullable else list[item], False  # type: ignore[valid-type]
        if kind == "object" and schema.get("properties"):
            return self.object_type(document, schema, direction, hint), False
        if kind == "string" and schema.get("format") in FORMATS:
            return FORMATS[schema["format"]], False
        if kind in SCALARS and "const" not in schema:
            return SCALARS[kind], False
        if kind == "string":
            return str, False
        return JSON, False

    def enum(self, schema: dict[str, Any], hint: str) -> type[Enum]:
        """One enum per closed set: the schema's own when its values include the service's (a service knows a
        part of the set, e.g. its alert kinds), else one made here under the component's name (or the field's
        it is inline in: `SignatureInDecision`), qualified by the service when another set has that name."""
        name = pascal(hint)
        values = [str(v) for v in schema["enum"]]
        known = self.known_enums.get(name)
        if known is not None and set(values) <= {str(m.value) for m in known}:
            return known
        for made in self.enums.values():
            if made.__name__.endswith(name) and [str(m.value) for m in made] == values:
                return made
        taken = self.enums.keys() | self.known_enums.keys()
        candidates = [name, pascal(self.service) + name]
        chosen = next((c for c in candidates if c not in taken), None)
        if chosen is None:
            chosen = next(f"{candidates[1]}{n}" for n in range(2, 100) if f"{candidates[1]}{n}" not in taken)
        members = {re.sub(r"\W", "_", v).upper() or "EMPTY": v for v in values}
        made_enum: type[Enum] = Enum(chosen, members)  # type: ignore[misc]  # a functional Enum, built from data
        created: type[Enum] = strawberry.enum(made_enum, description=schema.get("description"))
        self.enums[chosen] = created
        return created

    # --- object types --------------------------------------------------------------------------------

    def object_type(self, document: dict[str, Any], schema: dict[str, Any], direction: Direction, hint: str) -> Any:
        base = re.sub(r"(In|Out)$", "", pascal(schema.get("title") or hint)) or pascal(hint)
        name = base + SUFFIX[direction]
        key = (name, direction)
        if key in self.types:
            if self.shapes[name] == schema:
                return self.types[key]
            name = pascal(self.service) + name  # the same name for another shape (two services): qualify it
            key = (name, direction)
            if key in self.types:
                return self.types[key]
        self.shapes[name] = schema
        required = set(schema.get("required", []))
        annotations: dict[str, Any] = {}
        namespace: dict[str, Any] = {}
        json_keys: dict[str, str] = {}
        mandatory: set[str] = set()
        for json_name, field_schema in schema["properties"].items():
            attribute = python_name(json_name)
            json_keys[attribute] = json_name
            annotation, nullable = self.annotation(document, field_schema, direction, f"{base}{pascal(json_name)}")
            description = field_schema.get("description")
            graphql_name = json_name if attribute != json_name else None
            if json_name in required and not nullable:
                mandatory.add(attribute)
                annotations[attribute] = annotation
                namespace[attribute] = strawberry.field(description=description, name=graphql_name)
            else:
                annotations[attribute] = annotation | None
                namespace[attribute] = strawberry.field(default=None, description=description, name=graphql_name)
        # Required fields first: a dataclass puts fields without defaults before those with them.
        ordered = dict(sorted(annotations.items(), key=lambda item: item[0] not in mandatory))
        cls = type(name, (), {"__annotations__": ordered, **namespace, "__json_keys__": json_keys})
        decorate: Callable[..., Any] = strawberry.input if direction == "input" else strawberry.type
        built = decorate(cls, description=schema.get("description"))
        self.types[key] = built
        return built


def _meta(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k in ("title", "description")}


def record_from_json(annotation: Any, value: Any) -> Any:
    """A service's JSON answer as an instance of the derived output `annotation` (recursively)."""
    if value is None:
        return None
    origin = getattr(annotation, "__origin__", None)
    args: tuple[Any, ...] = getattr(annotation, "__args__", ())
    if origin is list:
        return [record_from_json(args[0], item) for item in value]
    if args and type(None) in args:  # X | None
        inner = next(a for a in args if a is not type(None))
        return record_from_json(inner, value)
    json_keys = getattr(annotation, "__json_keys__", None)
    if json_keys is not None:
        hints = annotation.__annotations__
        return annotation(
            **{attribute: record_from_json(hints[attribute], value.get(key)) for attribute, key in json_keys.items()}
        )
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return annotation(str(value))
    if annotation is dt.date:
        return dt.date.fromisoformat(value)
    if annotation is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if annotation is strawberry.ID:
        return strawberry.ID(str(value))
    return value
