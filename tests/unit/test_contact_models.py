"""A contact body is validated field by field: every error's `loc` names the field (API 422)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from baton.contacts.models import Contact, ContactInput
from baton.contacts.normalize import Locale

CONTRACT_FIELDS = {
    "contact_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "locale",
    "timezone",
    "country",
    "attributes",
    "sales",
}


def _error_fields(body: dict[str, Any]) -> set[str]:
    with pytest.raises(ValidationError) as error:
        ContactInput.model_validate(body)
    return {".".join(str(part) for part in item["loc"]) for item in error.value.errors()}


def test_given_a_full_body_when_validated_then_every_field_is_normalised() -> None:
    contact = ContactInput.model_validate(
        {
            "contact_id": "crm-123",
            "email": " Ana@Example.COM ",
            "phone": "(11) 91234-5678",
            "country": "br",
            "first_name": "  Ana ",
            "last_name": "Silva",
            "locale": "pt-br",
            "timezone": "america/sao_paulo",
            "attributes": {"plan": "gold", "score": 9.5, "tags": ["a", "b"]},
            "sales": {"owner": "rep@example.com", "deal_open": True},
        }
    )

    assert contact.email == "ana@example.com"
    assert contact.phone == "+5511912345678"
    assert contact.country == "BR"
    assert contact.first_name == "Ana"
    assert contact.locale == Locale.PT_BR
    assert contact.timezone == "America/Sao_Paulo"
    assert contact.sales is not None
    assert contact.sales.deal_open is True


def test_given_a_national_phone_when_the_body_names_the_country_then_it_is_the_default_region() -> None:
    assert ContactInput(phone="201 555 0123", country="US").phone == "+12015550123"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "not a number"}, "phone"),
        ({"phone": "201 555 0123"}, "phone"),  # national form, no country
        ({"email": "ana-at-example.com"}, "email"),
        ({"locale": "fr"}, "locale"),
        ({"locale": 7}, "locale"),
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"country": "Brazil"}, "country"),
        ({"contact_id": "has spaces"}, "contact_id"),
        ({"contact_id": "ana@example.com"}, "contact_id"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"attributes": ["not", "a", "map"]}, "attributes"),
        ({"attributes": {"": "empty key"}}, "attributes..[key]"),
        ({"sales": {"deal_open": "perhaps"}}, "sales.deal_open"),
    ],
)
def test_given_an_invalid_field_when_validated_then_the_error_names_it(
    body: dict[str, Any], field: str
) -> None:
    assert field in _error_fields(body)


def test_given_unknown_fields_when_validated_then_each_is_named() -> None:
    assert _error_fields({"email": "ana@example.com", "nickname": "Ani", "sales": {"region": "south"}}) == {
        "nickname",
        "sales.region",
    }


def test_given_an_invalid_phone_then_the_error_type_says_phone() -> None:
    with pytest.raises(ValidationError) as error:
        ContactInput(phone="12")

    assert error.value.errors()[0]["type"] == "invalid_phone"


def test_given_several_invalid_fields_then_all_are_reported_at_once() -> None:
    assert _error_fields({"email": "x", "phone": "y", "locale": "z"}) == {"email", "phone", "locale"}


def test_contact_output_has_exactly_the_contract_fields() -> None:
    assert set(Contact.model_fields) == CONTRACT_FIELDS
    assert set(Contact(contact_id="c1").model_dump(mode="json")) == CONTRACT_FIELDS


def test_given_fields_sent_as_null_then_they_are_marked_as_given() -> None:
    body = ContactInput.model_validate({"email": None, "attributes": None})

    assert body.model_fields_set == {"email", "attributes"}
