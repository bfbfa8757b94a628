"""Configuration from the environment, with defaults that make a first run just work."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
DEFAULT_CONTENT = PACKAGE_ROOT.parent / "content"


def load_config(instance_path: Path, overrides: dict | None = None) -> dict:
    overrides = dict(overrides or {})
    instance_path.mkdir(parents=True, exist_ok=True)
    database_url = overrides.pop("DATABASE_URL", None) or os.environ.get("DATABASE_URL") or (
        f"sqlite:///{instance_path / 'guide.sqlite3'}"
    )
    config = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": overrides.pop("SECRET_KEY", None) or os.environ.get("SECRET_KEY") or _instance_secret(instance_path),
        "CONTENT_DIR": Path(overrides.pop("CONTENT_DIR", None) or os.environ.get("GUIDE_CONTENT_DIR") or DEFAULT_CONTENT),
        # Behind HTTPS in production: cookies only over TLS. Plain http on loopback for the demo.
        "SESSION_COOKIE_SECURE": os.environ.get("GUIDE_SECURE_COOKIES", "0") == "1",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # A signed-in session ends after this long however busy (seconds), and after
        # SESSION_IDLE_MINUTES with no page asked for (guide/accounts/sessions.py).
        "PERMANENT_SESSION_LIFETIME": int(float(os.environ.get("GUIDE_SESSION_HOURS", "8")) * 3600),
        "SESSION_IDLE_MINUTES": float(os.environ.get("GUIDE_SESSION_IDLE_MINUTES", "30")),
        # The timeout warning shows this many seconds before the idle timeout.
        "SESSION_WARNING_SECONDS": 120,
        # Anything bigger than a long decision record is refused before it is read.
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "SERVICE_NAME": "Information sharing guide",
        # Email for advice and sign-off (guide/advice/notify.py); no host: in the guide only.
        "SMTP_HOST": os.environ.get("GUIDE_SMTP_HOST", ""),
        "SMTP_PORT": os.environ.get("GUIDE_SMTP_PORT", "587"),
        "SMTP_TLS": os.environ.get("GUIDE_SMTP_TLS", "starttls"),  # starttls, ssl or none
        "SMTP_USERNAME": os.environ.get("GUIDE_SMTP_USERNAME", ""),
        "SMTP_PASSWORD": os.environ.get("GUIDE_SMTP_PASSWORD", ""),
        "SMTP_FROM": os.environ.get("GUIDE_SMTP_FROM", "guide@localhost"),
        "BASE_URL": os.environ.get("GUIDE_BASE_URL", ""),  # for links in emails sent by commands
        # The task queue (guide/tasks.py): Redis when configured, else a SQLite file in the instance folder.
        # Redis when configured: the task queue, and throttle counts (sign-in, joining a live room).
        "REDIS_URL": os.environ.get("GUIDE_REDIS_URL") or os.environ.get("REDIS_URL") or None,
        "TASKS_DATABASE": os.environ.get("GUIDE_TASKS_DATABASE") or None,
        "TASKS_IMMEDIATE": os.environ.get("GUIDE_TASKS_IMMEDIATE", "0") == "1",
        "RETENTION_DAYS": int(os.environ.get("GUIDE_RETENTION_DAYS") or 7 * 365),
        "RETENTION_PURGE": os.environ.get("GUIDE_RETENTION_PURGE", "0") == "1",
        # Export files (guide/file_store.py): a folder here, or S3-compatible object storage.
        "EXPORT_STORE": os.environ.get("GUIDE_EXPORT_STORE") or "local",
        "EXPORT_FOLDER": os.environ.get("GUIDE_EXPORT_FOLDER") or None,
        "S3_BUCKET": os.environ.get("GUIDE_S3_BUCKET") or None,
        "S3_ENDPOINT": os.environ.get("GUIDE_S3_ENDPOINT") or None,
        "S3_REGION": os.environ.get("GUIDE_S3_REGION") or None,
        "S3_LINK_SECONDS": int(os.environ.get("GUIDE_S3_LINK_SECONDS") or 60),
    }
    config.update(overrides)
    return config


def _instance_secret(instance_path: Path) -> str:
    """Generate the secret key once and keep it in the instance folder (readable by its owner only)."""
    path = instance_path / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()
