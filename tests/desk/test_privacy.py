"""The desk's side of PIPL (desk/privacy/service.py) on SQLite and PostgreSQL: which contact
details a withdrawal erases and which records it keeps, a case entered from a call withdrawn by
its number, and the retention's rule for closed cases."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.database import migrate
from desk.audit import AuditEntry
from desk.clock import today
from desk.complaints import service as complaints
from desk.complaints.models import Complaint
from desk.complaints.schemas import ComplaintCreate
from desk.db import get_sessionmaker
from desk.demands import service as demands
from desk.demands.models import Demand
from desk.demands.schemas import DemandCreate
from desk.errors import NotFound
from desk.privacy.service import (
    erase_closed_cases,
    held_values,
    withdraw_consent,
    withdrawn,
)

MOBILE = "13912345678"


def _demand(session, conversation_id: str | None, channel: str = "web") -> Demand:  # type: ignore[no-untyped-def]
    demand, _ = demands.create_demand(
        session,
        data=DemandCreate(
            conversation_id=conversation_id,
            channel=channel,
            need_text="压力表校准",
            product="压力表",
            place="江阴市",
            contact_name="王芳",
            contact_mobile=MOBILE,
        ),
        idempotency_key=None,
        today=today(),
    )
    return demand


def test_a_case_from_a_call_is_withdrawn_by_its_number(database_url: str) -> None:
    migrate(database_url)
    with get_sessionmaker(database_url)() as session:
        called = _demand(session, "web:entered-by-staff")
        called.conversation_id, called.channel = None, "phone"  # as staff enter a call
        kept = _demand(session, "web:other-enterprise")
        erased = withdraw_consent(
            session, conversation_id=None, number=called.number, via="phone", actor="staff.li"
        )
        assert held_values(session, conversation_id="web:other-enterprise") == {"王芳", MOBILE}
        session.commit()
        assert erased.demands == [called.number] and erased.conversations == []
        assert erased.values == {"王芳", MOBILE}
        session.refresh(called)
        session.refresh(kept)
        assert (called.contact_name, called.contact_mobile) == ("[已删除]", "")
        assert (called.number, called.need_text) != ("", "")
        assert kept.contact_mobile == MOBILE
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.withdraw"))
        assert (entry.actor, entry.subject) == ("staff.li", called.number)
        assert entry.details == {
            "via": "phone",
            "conversations": 0,
            "demands": 1,
            "complaints": 0,
            "customers": 0,
            "cases": [called.number],
        }
        with pytest.raises(NotFound):
            withdraw_consent(
                session, conversation_id=None, number="TS20990101-0001", via="letter", actor="x"
            )


def test_a_withdrawal_is_recorded_as_the_latest_consent(database_url: str) -> None:
    migrate(database_url)
    with get_sessionmaker(database_url)() as session:
        _demand(session, "web:withdrawing-01")
        assert not withdrawn(session, conversation_id="web:withdrawing-01")
        withdraw_consent(
            session, conversation_id="web:withdrawing-01", via="web", actor="enterprise"
        )
        session.commit()
        assert withdrawn(session, conversation_id="web:withdrawing-01")
        again = withdraw_consent(  # nothing left to erase: no case named a second time
            session, conversation_id="web:withdrawing-01", via="web", actor="enterprise"
        )
        assert again.demands == [] and again.values == set()


def test_closed_cases_past_the_retention_lose_their_contact(database_url: str) -> None:
    migrate(database_url)
    now = datetime.now(UTC)
    with get_sessionmaker(database_url)() as session:
        old_closed, old_open, new_closed = (
            _demand(session, f"web:c{i}-retention") for i in range(3)
        )
        for demand, status, at in (
            (old_closed, "completed", now - timedelta(days=400)),
            (old_open, "in_service", now - timedelta(days=400)),
            (new_closed, "completed", now - timedelta(days=3)),
        ):
            demand.status, demand.completed_at, demand.created_at = status, at, at
        complaint, _, _ = complaints.create_complaint(
            session,
            data=ComplaintCreate(
                institution_name="某检测公司",
                complaint_type="fees",
                content="收费与报价不一致",
                contact_name="王芳",
                contact_mobile=MOBILE,
            ),
            idempotency_key=None,
            today=today(),
            actor="bot",
        )
        complaint.status, complaint.informed_at = "informed", now - timedelta(days=400)
        session.commit()
        erased = erase_closed_cases(session, before=now - timedelta(days=365))
        session.commit()
        assert erased.demands == [old_closed.number]
        assert erased.complaints == [complaint.number]
        mobiles = {d.number: d.contact_mobile for d in session.scalars(select(Demand))}
        assert mobiles == {
            old_closed.number: "",
            old_open.number: MOBILE,
            new_closed.number: MOBILE,
        }
        stored = session.get(Complaint, complaint.id)
        assert stored is not None and stored.contact_mobile is None
        assert stored.content == "收费与报价不一致"
        assert erase_closed_cases(session, before=now - timedelta(days=365)).demands == []
