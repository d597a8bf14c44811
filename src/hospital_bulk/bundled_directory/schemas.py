"""Request and response bodies of the Hospital Directory API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

# Upstream's validator message, kept word for word because clients may match on it.
_BLANK_MESSAGE = "Field cannot be empty or whitespace only"


def _reject_blank(value: str) -> str:
    if not value.strip():
        raise ValueError(_BLANK_MESSAGE)
    return value


class HospitalCreate(BaseModel):
    """Body of ``POST /hospitals/``."""

    name: str = Field(min_length=1)
    address: str = Field(min_length=1)
    phone: str | None = None
    creation_batch_id: uuid.UUID | None = None

    @field_validator("name", "address")
    @classmethod
    def _reject_blank_text(cls, value: str) -> str:
        return _reject_blank(value)


class HospitalUpdate(BaseModel):
    """Body of ``PUT /hospitals/{id}``. Omitted fields keep their stored value."""

    name: str | None = Field(default=None, min_length=1)
    address: str | None = Field(default=None, min_length=1)
    phone: str | None = None

    # NOTE: how upstream's PUT treats a null or whitespace-only name or address has
    # not been observed. This copy rejects both with 422, as the create does.
    @field_validator("name", "address")
    @classmethod
    def _reject_null_or_blank(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("Field cannot be null; omit it to keep the stored value")
        return _reject_blank(value)


class Hospital(BaseModel):
    """A stored hospital, as every hospital endpoint returns it."""

    id: int
    name: str
    address: str
    phone: str | None
    creation_batch_id: uuid.UUID | None
    active: bool
    created_at: datetime = Field(description="Creation time in UTC, without a time zone.")


class HealthStatus(BaseModel):
    """Body of ``GET /``."""

    status: str


class BatchActivation(BaseModel):
    """Body of a successful ``PATCH /hospitals/batch/{batch_id}/activate``."""

    activated_count: int
    message: str


class BatchDeletion(BaseModel):
    """Body of a successful ``DELETE /hospitals/batch/{batch_id}``."""

    deleted_count: int
    message: str


class WipeResult(BaseModel):
    """Body of ``POST /_control/wipe``."""

    deleted_count: int
