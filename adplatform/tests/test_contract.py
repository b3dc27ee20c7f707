"""``adplatform.core.api.contract``: one Struct decodes a body into the API's errors and is its OpenAPI component."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest
from msgspec import Meta

from adplatform.core.api.contract import Contract, component_schemas, convert, decode
from adplatform.core.api.errors import DomainError


class Inner(Contract, kw_only=True):
    id: Annotated[int, Meta(ge=1)]
    tags: list[str] | None = None


class Outer(Contract, kw_only=True):
    inner: Inner
    name: Annotated[str, Meta(max_length=3)] = ""
    maybe: Inner | None = None


def error(raw: bytes) -> DomainError:
    with pytest.raises(DomainError) as caught:
        decode(raw, Outer)
    return caught.value


def test_a_valid_body_decodes_and_unknown_fields_are_ignored():
    assert decode(b'{"inner": {"id": 1}, "sdk": "1.2"}', Outer) == Outer(inner=Inner(id=1))


def test_every_field_error_is_reported_under_its_path():
    exc = error(b'{"inner": {"id": "1", "tags": ["a", 2]}, "name": "long"}')
    assert exc.status == 400 and exc.code == "validation_error"
    assert exc.details == {
        "inner": {"id": ["Expected `int`, got `str`"], "tags": ["Expected `str`, got `int` (at tags[1])"]},
        "name": ["Expected `str` of length <= 3"],
    }


def test_a_missing_field_is_required_and_a_wrong_root_is_non_field():
    assert error(b"{}").details == {"inner": ["This field is required."]}
    assert error(b'{"inner": {}}').details == {"inner": {"id": ["This field is required."]}}
    assert error(b"[1]").details == {"non_field_errors": ["Expected `object`, got `array`"]}


@pytest.mark.parametrize("raw", [b"{not json", b'{"inner": {"id": 1}, "x": "\xff"', b"[" * 5000 + b"]" * 5000])
def test_bodies_that_are_not_json_are_malformed(raw):
    assert error(raw).code == "malformed_json"


def test_convert_checks_parsed_json_by_the_same_rules():
    assert convert({"inner": {"id": 2}}, Outer).inner.id == 2
    with pytest.raises(DomainError) as caught:
        convert({"inner": {"id": 0}}, Outer)
    assert caught.value.details == {"inner": {"id": ["Expected `int` >= 1"]}}


def test_the_component_uses_openapi_refs_and_nullable():
    schema, components = component_schemas(Outer)
    assert schema == {"$ref": "#/components/schemas/Outer"}
    outer = components["Outer"]
    assert outer["properties"]["inner"] == {"$ref": "#/components/schemas/Inner"}
    assert outer["properties"]["maybe"]["nullable"] is True
    assert outer["properties"]["maybe"]["allOf"] == [{"$ref": "#/components/schemas/Inner"}]
    assert components["Inner"]["properties"]["tags"]["nullable"] is True
    assert "$defs" not in str(components) and "'null'" not in str(components)


def test_msgspec_is_the_validator():
    # what the declaration rejects, msgspec rejects: no second parser decides
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"inner": {"id": true}}', type=Outer)
    assert error(b'{"inner": {"id": true}}').details == {"inner": {"id": ["Expected `int`, got `bool`"]}}
