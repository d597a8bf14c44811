"""Fault settings and profiles of the bundled Hospital Directory.

A profile is a named set of starting settings. ``local`` turns every delay, cap and
rate limit off. ``public`` copies the limits of the public Hospital Directory
instance. ``PUT /_control/faults`` changes the settings while the server runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, field_validator

Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Seconds = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


class FaultSettings(BaseModel):
    """Delays, caps, rate limits and injected failures of one running Directory.

    A value of 0 turns a cap or rate limit off. Rate limits count requests per
    client address and endpoint in fixed one-minute windows.
    """

    # Strict mode rejects "5" or 1.5 for an int and 1 for a bool with 422 instead of
    # converting them. extra="forbid" rejects misspelled field names.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    create_latency_ms: NonNegativeInt = Field(
        default=0, description="Delay in ms of each create, after the batch cap check."
    )
    batch_cap: NonNegativeInt = Field(
        default=0, description="Maximum number of hospitals in one batch, 0 for none."
    )
    max_hospitals: NonNegativeInt = Field(
        default=0,
        description="Maximum number of stored hospitals, 0 for none. "
        "The oldest hospitals are evicted first.",
    )
    error_rate: Probability = Field(
        default=0.0, description="Share of creates that fail with 503 before storing."
    )
    activation_fails: bool = Field(
        default=False, description="Whether every activate fails with 503 and changes nothing."
    )
    store_then_hang_rate: Probability = Field(
        default=0.0,
        description="Share of creates that store the hospital and then hold the 200 "
        "response for hang_seconds.",
    )
    hang_seconds: Seconds = Field(
        default=60.0,
        description="Time in seconds that a create picked by store_then_hang_rate holds "
        "its 200 response.",
    )
    health_rate_per_minute: NonNegativeInt = Field(
        default=0, description="Maximum requests a minute to GET /, 0 for none."
    )
    create_rate_per_minute: NonNegativeInt = Field(
        default=0, description="Maximum creates a minute, 0 for none."
    )
    read_rate_per_minute: NonNegativeInt = Field(
        default=0, description="Maximum requests a minute to each read endpoint, 0 for none."
    )
    update_rate_per_minute: NonNegativeInt = Field(
        default=0, description="Maximum updates a minute, 0 for none."
    )
    delete_rate_per_minute: NonNegativeInt = Field(
        default=0, description="Maximum requests a minute to each delete endpoint, 0 for none."
    )
    activate_rate_per_minute: NonNegativeInt = Field(
        default=0, description="Maximum batch activations a minute, 0 for none."
    )
    rate_window_seconds: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] = Field(
        default=60.0,
        description="Length in seconds of each rate-limit window: 60 upstream, shorter in tests.",
    )

    def merged(self, update: FaultSettingsUpdate) -> FaultSettings:
        """Return a copy with the fields that ``update`` sets replaced."""
        return self.model_copy(update=update.model_dump(exclude_unset=True))


class FaultSettingsUpdate(BaseModel):
    """Body of ``PUT /_control/faults``, with any subset of the FaultSettings fields.

    Each field has the same type and bounds as in FaultSettings. Omitted fields keep
    their current value, and null is rejected.
    """

    model_config = ConfigDict(strict=True, extra="forbid")

    create_latency_ms: NonNegativeInt | None = None
    batch_cap: NonNegativeInt | None = None
    max_hospitals: NonNegativeInt | None = None
    error_rate: Probability | None = None
    activation_fails: bool | None = None
    store_then_hang_rate: Probability | None = None
    hang_seconds: Seconds | None = None
    health_rate_per_minute: NonNegativeInt | None = None
    create_rate_per_minute: NonNegativeInt | None = None
    read_rate_per_minute: NonNegativeInt | None = None
    update_rate_per_minute: NonNegativeInt | None = None
    delete_rate_per_minute: NonNegativeInt | None = None
    activate_rate_per_minute: NonNegativeInt | None = None
    rate_window_seconds: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] | None = None

    # Validators do not run on omitted fields, so None here is always an explicit null.
    @field_validator("*", mode="before")
    @classmethod
    def _reject_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("Field cannot be null; omit it to keep the current value")
        return value


PROFILES: Mapping[str, FaultSettings] = MappingProxyType(
    {
        "local": FaultSettings(),
        "public": FaultSettings(
            create_latency_ms=5000,
            batch_cap=20,
            max_hospitals=10_000,
            health_rate_per_minute=100,
            create_rate_per_minute=30,
            read_rate_per_minute=50,
            update_rate_per_minute=50,
            delete_rate_per_minute=50,
            activate_rate_per_minute=50,
        ),
    }
)
"""Starting fault settings by profile name."""


def settings_for_profile(profile: str) -> FaultSettings:
    """Return the starting fault settings of ``profile``.

    Raises:
        ValueError: ``profile`` is not a key of PROFILES.
    """
    try:
        return PROFILES[profile]
    except KeyError:
        expected = ", ".join(repr(name) for name in PROFILES)
        message = f"Unknown Directory profile {profile!r}: expected one of {expected}."
        raise ValueError(message) from None
