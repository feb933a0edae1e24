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
    """A new console account. Without ``password`` one is generated and answered once; a
    generated password must always be changed at the first login."""

    username: str = Field(pattern=r"^[A-Za-z0-9_.-]{3,40}$")
    display_name: str = Field(min_length=1, max_length=40)
    role: Role
    password: str | None = Field(default=None, min_length=10, max_length=200)
    # the console always asks for it; integrators and tests that hand over a password they
    # chose may leave it off
    must_change_password: bool = False


class UserUpdate(BaseModel):
    """What an admin edits of an account; a field left out stays as it is."""

    display_name: str | None = Field(default=None, min_length=1, max_length=40)
    role: Role | None = None


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    must_change_password: bool = False
    domains: list[str] = []
    created_at: datetime | None = None
    last_login_at: datetime | None = None
    active_consultations: int = 0
    # too many failed logins: locked until then (an admin's password reset unlocks at once)
    locked_until: datetime | None = None


class UserCreated(UserPublic):
    """The new account; ``generated_password`` is shown this once and never again."""

    generated_password: str | None = None


class UserList(BaseModel):
    items: list[UserPublic]
    total: int
    page: int
    page_size: int


class PasswordReset(BaseModel):
    """A generated password, shown this once; the user must change it at the next login."""

    username: str
    generated_password: str


class Deactivation(BaseModel):
    """What deactivating an account did."""

    user: UserPublic
    sessions_ended: int
    consultations_requeued: list[int]  # escalation ids back in the queue, unassigned


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
