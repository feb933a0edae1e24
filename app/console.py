"""Serve the built console (console/dist) under /console/, with the single-page app's fallback."""

from pathlib import Path

from fastapi import FastAPI, HTTPException, status
from fastapi.responses import FileResponse, RedirectResponse

from desk.paths import REPO_ROOT

CONSOLE_DIST = REPO_ROOT / "console" / "dist"


def mount_console(app: FastAPI, dist: Path = CONSOLE_DIST) -> None:
    root = dist.resolve()

    @app.get("/console", include_in_schema=False)
    def console_root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=status.HTTP_308_PERMANENT_REDIRECT)

    @app.get("/console/{path:path}", include_in_schema=False)
    def console_file(path: str) -> FileResponse:
        index = root / "index.html"
        if not index.is_file():
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                detail={
                    "code": "console_not_built",
                    "message": "控制台尚未构建，请先运行 make run。",
                },
            )
        target = (root / path).resolve()
        if path and target.is_file() and target.is_relative_to(root):
            # hashed bundles never change under their name; index.html is always re-read
            cache = (
                "public, max-age=31536000, immutable" if "/assets/" in f"/{path}" else "no-cache"
            )
            return FileResponse(target, headers={"Cache-Control": cache})
        if path.startswith("assets/"):
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, detail={"code": "not_found", "message": "文件不存在。"}
            )
        return FileResponse(index, headers={"Cache-Control": "no-cache"})  # a route of the app
