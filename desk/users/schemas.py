from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["admin", "staff", "expert"]


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=200)


class LoginOut(BaseModel):
    token: str
    expires_at: datetime
    role: Role
    username: str
    display_name: str = ""
    must_change_password: bool = False


class UserCreate(BaseModel):
    username: str = Field(pattern=r"^[A-Za-z0-9_.-]{3,40}$")
    display_name: str = Field(min_length=1, max_length=40)
    role: Role
    password: str = Field(min_length=10, max_length=200)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    active: bool


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=200)


class Profile(BaseModel):
    """Who is logged in, as the console needs it."""

    username: str
    display_name: str
    role: Role
    must_change_password: bool
    domains: list[str]
    presence: str


class ExpertPublic(BaseModel):
    username: str
    display_name: str
    domains: list[str]
    domain_labels: list[str]
    presence: str
    presence_label: str
    active_consultations: int


class ExpertList(BaseModel):
    items: list[ExpertPublic]


class PresenceIn(BaseModel):
    presence: Literal["online", "away"]


class DomainsIn(BaseModel):
    domains: list[str] = Field(max_length=7)
