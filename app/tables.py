"""The registry of every table: each area's ORM models imported onto desk.db.Base."""


def load_all() -> None:
    import channels.kept_notices
    import channels.models
    import channels.privacy.models
    import channels.transcript  # noqa: F401
    import desk.audit
    import desk.calendar.models
    import desk.canned.models
    import desk.case_lookup.models
    import desk.complaints.models
    import desk.consultations.models
    import desk.customers.models
    import desk.demands.models
    import desk.escalations.models
    import desk.improvements.models
    import desk.knowledge.models
    import desk.live.models
    import desk.numbering
    import desk.reports.models
    import desk.uploads.models
    import desk.users.models  # noqa: F401
