"""One declaration per endpoint: a msgspec ``Struct`` validates the body and is its OpenAPI schema.

A hot endpoint declares its request (and response) as a :class:`Contract`. The same class

- decodes and validates the raw JSON body (:func:`decode`, :func:`convert`), far faster than a DRF
  serializer, with a failure rendered in the API's error format (``validation_error`` with the field's
  path in ``details``, ``malformed_json`` for a body that is not JSON);
- is the component drf-spectacular serves at ``/api/schema/``: pass the class to ``extend_schema`` as
  ``request=`` or in ``responses=``; :class:`ContractExtension` turns ``msgspec.json.schema_components``
  into components (nested Structs become their own components, ``$defs`` references are rewritten to
  ``#/components/schemas/...``, and JSON Schema's ``null`` unions become OpenAPI 3.0's ``nullable``).

So what is documented is, by construction, what runs.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any, ClassVar, TypeVar

import msgspec
from django.http import HttpResponse
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import exceptions

from adplatform.core.api.errors import DomainError

REF_TEMPLATE = "#/components/schemas/{name}"
MAX_ID = 2**63 - 1  # PostgreSQL bigint: Roblox ids and our primary keys

T = TypeVar("T", bound="Contract")


class Contract(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Base of every request and response declaration.

    Unknown fields are ignored (API.md: the project may add fields, and clients of a newer SDK may send
    some); a declaration that must refuse them says ``forbid_unknown_fields=True``. ``schema_extra`` is
    merged into the generated component (for rules JSON Schema can say but a Struct's type cannot).
    """

    schema_extra: ClassVar[dict[str, Any]] = {}
    schema_includes: ClassVar[tuple[type, ...]] = ()  # more types to publish as components (Raw-decoded items)


class ErrorDetail(Contract, kw_only=True):
    """The ``error`` object of shared/API.md's error body (inside batch answers, one per failed item)."""

    code: str
    message: str
    details: dict[str, Any]


# --------------------------------------------------------------------------- decoding

_PATH = re.compile(r"^(?P<message>.*?)(?: - at `(?P<path>\$[^`]*)`)?$", re.S)
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def validation_details(exc: msgspec.ValidationError) -> dict[str, Any]:
    """msgspec's ``"Expected `int`, got `str` - at `$.player.id`"`` as ``{"player": {"id": ["Expected ..."]}}``.

    The nesting is a serializer's (API.md: ``{"field": ["message"]}``); a list index stays in the message.
    """
    match = _PATH.match(str(exc))
    message, path = (match.group("message"), match.group("path") or "$") if match else (str(exc), "$")
    names = [m.group(1) for m in _STEP.finditer(path) if m.group(1)]
    missing = _MISSING.match(message)
    if missing:
        names.append(missing.group("field"))
        message = "This field is required."
    elif "[" in path:
        message = f"{message} (at {path[1:].lstrip('.')})"
    if not names:
        return {"non_field_errors": [message]}
    details: dict[str, Any] = {names[-1]: [message]}
    for name in reversed(names[:-1]):
        details = {name: details}
    return details


def validation_message(exc: msgspec.ValidationError) -> str:
    """msgspec's message as one line that names the field first: ``player_id: Expected `int`, got `str```."""
    match = _PATH.match(str(exc))
    if not match or not match.group("path"):
        missing = _MISSING.match(str(exc))
        return f"{missing.group('field')}: This field is required." if missing else str(exc)
    return f"{match.group('path')[2:] or '$'}: {match.group('message')}"


def all_errors(data: Any, type_: Any, exc: msgspec.ValidationError) -> dict[str, Any]:
    """Every field's error, as a serializer reports them (msgspec stops at the first).

    Runs only once a body has failed, so the valid hot path pays nothing for it: each field of the Struct is
    checked on its own by its own declared type (nested Structs field by field), then the Struct as a whole
    (``__post_init__`` rules, reported as ``"field: message"``).
    """
    if not (isinstance(type_, type) and issubclass(type_, msgspec.Struct) and isinstance(data, dict)):
        return validation_details(exc)
    details: dict[str, Any] = {}
    for field in msgspec.structs.fields(type_):
        if field.encode_name not in data:
            if field.required:
                details[field.encode_name] = ["This field is required."]
            continue
        value = data[field.encode_name]
        try:
            msgspec.convert(value, field.type)
        except msgspec.ValidationError as field_exc:
            inner = _struct_in(field.type)
            if inner is not None and isinstance(value, dict):
                details[field.encode_name] = all_errors(value, inner, field_exc)
            else:
                details[field.encode_name] = [_message_only(field_exc, field.encode_name)]
    if details:
        return details
    message = _message_only(exc)
    name, sep, rest = message.partition(": ")
    if sep and name.isidentifier():  # a __post_init__ rule that names its field
        return {name: [rest]}
    return validation_details(exc)


def _message_only(exc: msgspec.ValidationError, field: str = "") -> str:
    match = _PATH.match(str(exc))
    message = match.group("message") if match else str(exc)
    path = (match.group("path") if match else None) or "$"
    return f"{message} (at {field}{path[1:]})" if "[" in path else message


def _struct_in(annotation: Any) -> type | None:
    for found in _types_in(annotation):
        if issubclass(found, msgspec.Struct):
            return found
    return None


def decode(raw: bytes, type_: type[T], *, decoder: msgspec.json.Decoder | None = None) -> T:
    """Decode and validate a raw JSON body, or raise the API's 400 (``validation_error`` / ``malformed_json``)."""
    try:
        return (decoder or _decoder(type_)).decode(raw)
    except msgspec.ValidationError as exc:
        try:
            data = msgspec.json.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):  # bad UTF-8 or depth the typed decode skipped
            raise _malformed() from None
        raise DomainError("validation_error", "Invalid input.", details=all_errors(data, type_, exc)) from None
    except msgspec.DecodeError:
        raise _malformed() from None
    except RecursionError:  # msgspec's own depth limit, on a body nested thousands deep
        raise DomainError("malformed_json", "The JSON is nested too deeply.") from None


def _malformed() -> DomainError:
    return DomainError("malformed_json", "The body is not valid JSON.")


def convert(data: Any, type_: type[T]) -> T:
    """Validate already-parsed JSON (e.g. one item of a batch) by the same declaration."""
    try:
        return msgspec.convert(data, type_)
    except msgspec.ValidationError as exc:
        raise DomainError("validation_error", "Invalid input.", details=all_errors(data, type_, exc)) from None


_decoders: dict[type, msgspec.json.Decoder] = {}
_decoders_lock = threading.Lock()


def _decoder(type_: type) -> msgspec.json.Decoder:
    decoder = _decoders.get(type_)
    if decoder is None:
        with _decoders_lock:  # msgspec builds a Struct's type info on first use, and two threads must not at once
            decoder = _decoders.get(type_)
            if decoder is None:
                decoder = _decoders[type_] = msgspec.json.Decoder(type_)
    return decoder


def prepare(*types: type) -> None:
    """Build the decoders, and with them msgspec's type info, of these declarations now (at import, under the
    import lock), not on the first requests: msgspec builds a Struct's type info lazily, and two threads doing
    it at once for the same Struct (concurrent first requests on an ASGI server's threads) crash the process
    with a segmentation fault. ``convert`` and ``respond`` then find the type info ready too."""
    for type_ in types:
        _decoder(type_)


def request_body(request: Any) -> bytes:
    """The raw JSON body of a Django or DRF request (415 for another media type, as DRF's parsers answer)."""
    django_request = getattr(request, "_request", request)
    if django_request.content_type != "application/json":
        raise exceptions.UnsupportedMediaType(django_request.content_type or "none")
    return django_request.body


def decode_request(request: Any, type_: type[T]) -> T:
    return decode(request_body(request), type_)


# --------------------------------------------------------------------------- the schema


def _openapi(node: Any) -> Any:
    """JSON Schema 2020-12 (msgspec) to OpenAPI 3.0: ``anyOf [X, null]`` is ``X`` with ``nullable``."""
    if isinstance(node, list):
        return [_openapi(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    for union in ("anyOf", "oneOf"):
        options = node.get(union)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [option for option in options if option != {"type": "null"}]
            del node[union]
            if len(rest) == 1 and "$ref" not in rest[0]:
                node.update(rest[0])
            elif len(rest) == 1:
                node["allOf"] = rest
            else:
                node[union] = rest
            node["nullable"] = True
    node = {key: _openapi(value) for key, value in node.items()}
    if node.get("type") == "null":  # a lone null (never alone in our declarations, but valid 3.0 all the same)
        node.pop("type")
        node["nullable"] = True
        node["enum"] = [None]
    if node.get("required") == []:
        del node["required"]
    if "const" in node:
        node["enum"] = [node.pop("const")]
    return node


def component_schemas(type_: type) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``(schema of type_, {component name: schema})`` in OpenAPI 3.0 form."""
    includes = getattr(type_, "schema_includes", ())
    (schema, *_), components = msgspec.json.schema_components([type_, *includes], ref_template=REF_TEMPLATE)
    out: dict[str, dict[str, Any]] = {}
    for name, component in components.items():
        component = _openapi(component)
        component.pop("title", None)
        extra = getattr(_struct_by_name(type_, name), "schema_extra", None)
        if extra:
            _merge(component, extra)
        out[name] = component
    return schema, out


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _struct_by_name(type_: type, name: str) -> type | None:
    seen: set[type] = set()
    stack = [type_, *getattr(type_, "schema_includes", ())]
    while stack:
        current = stack.pop()
        if current in seen or not isinstance(current, type) or not issubclass(current, msgspec.Struct):
            continue
        seen.add(current)
        if current.__name__ == name:
            return current
        for field in msgspec.structs.fields(current):
            stack.extend(_types_in(field.type))
    return None


def _types_in(annotation: Any) -> list[type]:
    found: list[type] = []
    if isinstance(annotation, type):
        found.append(annotation)
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_types_in(arg))
    origin = getattr(annotation, "__origin__", None)
    if origin is not None and isinstance(origin, type):
        found.append(origin)
    return found


class ContractExtension(OpenApiSerializerExtension):
    """drf-spectacular: a :class:`Contract` subclass given to ``extend_schema`` is documented by its own type."""

    target_class = "adplatform.core.api.contract.Contract"
    match_subclasses = True

    def get_name(self, auto_schema, direction):
        # spectacular appends "Request" to request components (COMPONENT_SPLIT_REQUEST): do not say it twice
        name = self.target.__name__
        return name[: -len("Request")] if direction == "request" and name.endswith("Request") else name

    def map_serializer(self, auto_schema, direction):
        schema, components = component_schemas(self.target)
        own = components.pop(self.target.__name__)
        for name, component in components.items():
            # the Struct itself as the identity: the same one documented at the top of another operation is one
            identity = _struct_by_name(self.target, name) or name
            auto_schema.registry.register_on_missing(
                ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, schema=component, object=identity)
            )
        return own if schema.get("$ref") else schema


logger = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode


def respond(body: dict[str, Any], declaration: type[msgspec.Struct], status: int = 200) -> HttpResponse:
    """An answer as its declaration writes it: checked against it, then encoded by it, so what runs is what
    ``/api/schema/`` documents (and msgspec encodes it in about half the time of the json module).

    A body the declaration refuses is a bug: it is logged and still served as it is, since the work behind it
    (a decision reserved, events streamed, a score credited) is done and must not be lost to a 500. The test
    settings (``API_STRICT_ANSWERS``) raise instead, so every test of these endpoints checks its answers.
    """
    try:
        content = _encode(msgspec.convert(body, declaration))
    except msgspec.ValidationError as exc:
        from django.conf import settings

        if getattr(settings, "API_STRICT_ANSWERS", False):  # the test settings: a mismatch fails the test
            raise
        logger.error(
            "answer does not match its declaration", extra={"declaration": declaration.__name__, "problem": str(exc)}
        )
        from adplatform.core.api.lean import json_response

        return json_response(body, status)
    return HttpResponse(content, status=status, content_type="application/json")
