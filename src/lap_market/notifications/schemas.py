"""API shapes for notification preferences."""

from pydantic import BaseModel, Field

from lap_market.notifications.kinds import Mode


class PreferenceRead(BaseModel):
    kind: str
    label: str
    mode: Mode
    can_turn_off: bool


class PreferencesRead(BaseModel):
    preferences: list[PreferenceRead]


class PreferenceIn(BaseModel):
    kind: str = Field(max_length=40)
    mode: Mode


class PreferencesUpdate(BaseModel):
    """The kinds to change; kinds not listed keep their current mode."""

    preferences: list[PreferenceIn] = Field(max_length=50)
