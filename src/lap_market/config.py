"""Settings read from the environment (prefix ``LAP_``)."""

import ipaddress
import secrets
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_DATA_DIR = Path("data")


class Settings(BaseSettings):
    """Everything that differs between a laptop, CI and production."""

    model_config = SettingsConfigDict(env_prefix="LAP_", extra="ignore")

    env: str = "development"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    secret_key: str = ""
    token_minutes: int = 60
    standstill_working_days: int = 8
    # A framework's direct-award cascade: working days a member has to accept or decline.
    cascade_working_days: int = 2
    # The shortest tender window: days between publication and the submission deadline, so
    # providers have time to prepare a bid (issue 13).
    min_tender_days: int = Field(default=10, ge=0, le=365)
    direct_award_limit: Decimal = Decimal("25000.00")
    # Procurement Act 2023 threshold for sub-central authorities' services, incl. VAT,
    # in force from 1 January 2026.
    procurement_threshold: Decimal = Decimal("207720.00")
    ocid_prefix: str = "ocds-lapmkt"
    # Failed sign-ins allowed per (account, client address), and per client address over all
    # accounts, within the window; the owner signing in from elsewhere is never refused.
    login_max_failures: int = 5
    login_max_failures_per_address: int = 50
    login_window_minutes: int = 15
    # Proxies whose X-Forwarded-For is believed (comma-separated IPs or CIDRs); from any
    # other peer the header is ignored, so a client cannot pick the address it is throttled as.
    trusted_proxies: Annotated[tuple[IPNetwork, ...], NoDecode] = ()
    cookie_secure: bool = False
    log_requests: bool = True
    max_csv_rows: int = 100_000
    max_upload_bytes: int = Field(default=20 * 1024 * 1024)
    # Requests a worker runs at once (each in a thread holding at most one connection);
    # further requests wait in order up to ``db_pool_timeout`` seconds, then get 503 with
    # Retry-After. Few, because one process runs Python one thread at a time: past a
    # handful, more threads only queue for the interpreter lock, and each hand-off between
    # them is a wait that the slowest requests pay (p99, issue 11).
    requests_at_once: int = Field(default=4, ge=1, le=500)
    # Database connections per worker: never fewer than the requests let in at once (the
    # smaller of the two is what is let in), plus what the embedded job worker uses.
    db_pool_size: int = Field(default=40, ge=1, le=500)
    db_pool_timeout: float = Field(default=10.0, gt=0, le=300)
    # Where the public reaches the service: the base of every absolute link we publish (OCDS
    # uri fields, emails, PDFs), never the request's Host header, which a client chooses.
    public_url: str = "http://127.0.0.1:8000"
    # Durable jobs: a worker holds a job for job_lease_seconds and renews the lease while it
    # runs; a killed worker's job is taken over once the lease lapses.
    job_lease_seconds: float = 60.0
    job_poll_seconds: float = 1.0
    job_retry_seconds: float = 10.0
    # Run a worker thread inside `lap-market serve`: None means on SQLite only (one command
    # serves and works jobs; with PostgreSQL run `lap-market worker` processes instead).
    embedded_worker: bool | None = None
    # Email: smtp://user:pass@host:587?starttls=1 (smtps:// for TLS from the start). Empty:
    # messages wait in the outbox, readable by admins at /admin/outbox.
    smtp_url: str = ""
    mail_from: str = "LAP Market <no-reply@lap-market.example>"
    mail_max_attempts: int = 8
    mail_retry_seconds: float = 30.0
    mail_batch_size: int = 50
    smtp_timeout_seconds: float = 30.0

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError(
                "LAP_PUBLIC_URL must be an http(s) URL such as https://market.example.org"
            )
        return value.strip().rstrip("/")

    def absolute_url(self, path: str) -> str:
        """``path`` (``/api/v1/...``, with any query) as an absolute URL under ``public_url``."""
        return f"{self.public_url}/{path.lstrip('/')}"

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_proxies(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return tuple(
                ipaddress.ip_network(item.strip(), strict=False)
                for item in value.split(",") if item.strip()
            )
        except ValueError as exc:
            raise ValueError(f"LAP_TRUSTED_PROXIES: {exc}") from exc

    @model_validator(mode="after")
    def _fill_defaults(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'lap_market.db').as_posix()}"
        if self.env == "production":
            if len(self.secret_key.encode()) < 32:
                raise ValueError("LAP_SECRET_KEY must be at least 32 bytes in production")
        elif not self.secret_key:
            self.secret_key = _development_secret(self.data_dir)
        return self

    def runs_embedded_worker(self) -> bool:
        """Whether `serve` works jobs in-process (default: on SQLite, outside tests)."""
        if self.embedded_worker is not None:
            return self.embedded_worker
        return self.database_url.startswith("sqlite") and self.env != "test"


def _development_secret(data_dir: Path) -> str:
    """Generate the development key once and keep it, so logins survive restarts."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings."""
    return Settings()
