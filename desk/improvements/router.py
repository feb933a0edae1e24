"""HTTP routes of improvement items (staff and admins); thin: the service does the work."""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from desk.clock import today
from desk.deps import SessionDep, SettingsDep, StaffDep
from desk.errors import NotFound
from desk.improvements import evidence, service
from desk.improvements.models import STATUS_LABELS, ImprovementItem
from desk.improvements.schemas import (
    ItemDetail,
    ItemFile,
    ItemList,
    ItemTransition,
    OwnerOption,
    PlanUpdate,
    SourceCode,
    StatusCode,
)
from desk.provided import from_app
from desk.timeline import public_steps
from desk.uploads.receive import read_upload
from desk.uploads.settings import UploadSettings, get_upload_settings
from desk.users.service import display_names

router = APIRouter(prefix="/api/improvements", tags=["improvements"])
UploadsDep = Annotated[UploadSettings, Depends(from_app(get_upload_settings))]


def _upload_root(settings: SettingsDep, upload_settings: UploadsDep) -> Path:
    return upload_settings.dir or settings.var_dir / "uploads"


UploadRoot = Annotated[Path, Depends(_upload_root)]


def _detail(session: SessionDep, item: ImprovementItem) -> ItemDetail:
    view = service.public(
        item,
        today=today(),
        clock=service.overdue_clock(session, today=today()),
        names=display_names(session),
        files=[ItemFile.model_validate(f) for f in service.files_of(session, item=item)],  # type: ignore[misc]
    )
    steps = public_steps(service.events(session, item=item), STATUS_LABELS)
    return ItemDetail(**view.model_dump(), timeline=steps)


@router.get("", response_model=ItemList)
def list_items(
    session: SessionDep,
    _staff: StaffDep,
    status: StatusCode | None = None,
    source: SourceCode | None = None,
    owner: Annotated[str | None, Query(max_length=40)] = None,
    overdue: bool = False,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> ItemList:
    """Overdue and soonest due first; closed ones last."""
    on = today()
    items, total, counts = service.list_items(
        session,
        status=status,
        source=source,
        owner=owner,
        overdue_on=on if overdue else None,
        limit=size,
        offset=(page - 1) * size,
    )
    clock, names = service.overdue_clock(session, today=on), display_names(session)
    return ItemList(
        items=[service.public(i, today=on, clock=clock, names=names) for i in items],
        total=total,
        counts=counts,
        overdue=service.count_overdue(session, today=on),
    )


@router.get("/owners", response_model=list[OwnerOption])
def owners(session: SessionDep, _staff: StaffDep) -> list[OwnerOption]:
    """Who may be made responsible: active staff and admins."""
    return [
        OwnerOption(username=u.username, display_name=u.display_name)
        for u in service.owner_options(session)
    ]


@router.get("/{number}", response_model=ItemDetail)
def get_item(number: str, session: SessionDep, _staff: StaffDep) -> ItemDetail:
    return _detail(session, service.get_item(session, number=number))


@router.put("/{number}/plan", response_model=ItemDetail)
def update_plan(number: str, body: PlanUpdate, session: SessionDep, staff: StaffDep) -> ItemDetail:
    item = service.update_plan(
        session, number=number, plan=body, actor=staff.username, today=today()
    )
    return _detail(session, item)


@router.post("/{number}/transitions", response_model=ItemDetail)
def transition(
    number: str, body: ItemTransition, session: SessionDep, staff: StaffDep
) -> ItemDetail:
    item = service.transition(
        session, number=number, change=body, actor=staff.username, today=today()
    )
    return _detail(session, item)


@router.post(
    "/{number}/files",
    response_model=ItemFile,
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def upload_file(
    number: str,
    request: Request,
    session: SessionDep,
    staff: StaffDep,
    upload_settings: UploadsDep,
    root: UploadRoot,
) -> ItemFile:
    """A photo, scan or PDF of the evidence (PDF, JPEG or PNG by content)."""
    await run_in_threadpool(service.get_item, session, number=number)
    upload = await read_upload(request, max_bytes=upload_settings.max_bytes)
    row = await run_in_threadpool(
        lambda: evidence.add_file(
            session,
            number=number,
            content=upload.content,
            original_name=upload.filename,
            root=root,
            max_bytes=upload_settings.max_bytes,
            actor=staff.username,
        )
    )
    return ItemFile.model_validate(row)


@router.get("/{number}/files/{file_id}/content", response_class=FileResponse)
def file_content(
    number: str, file_id: int, session: SessionDep, _staff: StaffDep, root: UploadRoot
) -> FileResponse:
    row = evidence.get_file(session, number=number, file_id=file_id)
    path = evidence.file_path(row, root=root)
    if not path.is_file():
        raise NotFound("证据文件已不存在，请重新上传。")
    return FileResponse(
        path,
        media_type=row.media_type,
        filename=row.original_name,
        headers={"X-Content-Type-Options": "nosniff"},
    )
