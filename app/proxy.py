"""nginx in front of several app replicas: its configuration, rendered from the settings.

    .venv/bin/python -m app.proxy --listen 80 --app 127.0.0.1:8001 --app 127.0.0.1:8002 \\
        --prefix /var/lib/qclinic/nginx > /etc/nginx/conf.d/../qclinic.conf

The template is ``app/deploy/nginx.conf.template`` (docs/deploy.md explains each part). The body
limit is taken from the same settings as the app's (``QCLINIC_MAX_BODY_BYTES``,
``QCLINIC_UPLOAD_MAX_BYTES``), so nginx never refuses a body the app would accept and the app
gives its own Chinese 413 for a JSON body over its limit. The replica test runs nginx as a
plain user with ``nginx -p <prefix> -c <prefix>/nginx.conf`` (:func:`command`).
"""

import argparse
from collections.abc import Sequence
from pathlib import Path

from app.settings import AppSettings

TEMPLATE = Path(__file__).resolve().parent / "deploy" / "nginx.conf.template"
NGINX = Path("/usr/sbin/nginx")
MULTIPART_MARGIN = 64 * 1024  # a file's form fields and boundaries around it


def body_limit(settings: AppSettings) -> int:
    """The largest body any route accepts: a JSON body, or an upload with its form fields."""
    return max(settings.max_body_bytes, settings.uploads.max_bytes + MULTIPART_MARGIN)


def render(
    *,
    listen: str,
    apps: Sequence[str],
    prefix: Path,
    max_body_bytes: int,
    daemon: bool = True,
    workers: str = "auto",
) -> str:
    """The configuration text; ``apps`` are the replicas' ``host:port``."""
    if not apps:
        raise ValueError("at least one app replica")
    servers = "\n".join(f"        server {app} max_fails=1 fail_timeout=5s;" for app in apps)
    values = {
        "@DAEMON@": "on" if daemon else "off",
        "@WORKERS@": workers,
        "@PREFIX@": str(prefix),
        "@APP_SERVERS@": servers,
        "@LISTEN@": listen,
        "@MAX_BODY@": str(max_body_bytes),
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def write(prefix: Path, text: str) -> Path:
    """The configuration under ``prefix``, with the folders nginx writes into."""
    for folder in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / folder).mkdir(parents=True, exist_ok=True)
    path = prefix / "nginx.conf"
    path.write_text(text, encoding="utf-8")
    return path


def command(prefix: Path) -> list[str]:
    """nginx in the foreground with everything under ``prefix`` (no root needed)."""
    return [str(NGINX), "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr"]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="nginx 配置：多个应用副本前的反向代理")
    parser.add_argument("--listen", default="80", help="nginx 监听的地址或端口")
    parser.add_argument("--app", action="append", required=True, help="应用副本 host:port，可重复")
    parser.add_argument("--prefix", type=Path, required=True, help="nginx 写入日志和临时文件的目录")
    args = parser.parse_args(argv)
    print(
        render(
            listen=args.listen,
            apps=args.app,
            prefix=args.prefix,
            max_body_bytes=body_limit(AppSettings()),
        ),
        end="",
    )


if __name__ == "__main__":
    main()
