"""Staff maintain the holiday table (节假日表)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict, Field

from desk.calendar import service
from desk.calendar.models import CalendarDay
from desk.deps import SessionDep, StaffDep

router = APIRouter(prefix="/api/calendar", tags=["calendar"])


class DayIn(BaseModel):
    working: bool
    note: str = Field(default="", max_length=60)


class DayPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: date
    working: bool
    note: str


@router.get("/{year}", response_model=list[DayPublic])
def list_days(
    year: Annotated[int, Path(ge=2000, le=2100)], session: SessionDep, _staff: StaffDep
) -> list[CalendarDay]:
    return service.list_days(session, year=year)


@router.put("/days/{day}", response_model=DayPublic)
def set_day(day: date, body: DayIn, session: SessionDep, staff: StaffDep) -> CalendarDay:
    return service.set_day(
        session, day=day, working=body.working, note=body.note, actor=staff.username
    )


@router.post("/{year}/complete", status_code=status.HTTP_204_NO_CONTENT)
def complete_year(
    year: Annotated[int, Path(ge=2000, le=2100)], session: SessionDep, staff: StaffDep
) -> None:
    service.mark_year_complete(session, year=year, actor=staff.username)
