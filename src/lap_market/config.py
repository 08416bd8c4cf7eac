"""Settings read from the environment (prefix ``LAP_``)."""

import secrets
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    direct_award_limit: Decimal = Decimal("25000.00")
    # Procurement Act 2023 threshold for sub-central authorities' services, incl. VAT,
    # in force from 1 January 2026.
    procurement_threshold: Decimal = Decimal("207720.00")
    ocid_prefix: str = "ocds-lapmkt"
    login_max_failures: int = 5
    login_window_minutes: int = 15
    cookie_secure: bool = False
    log_requests: bool = True
    max_csv_rows: int = 100_000
    max_upload_bytes: int = Field(default=20 * 1024 * 1024)
    # One database connection per request a worker serves at once (anyio's default of 40
    # request threads); further requests wait in order up to ``db_pool_timeout`` seconds,
    # then get 503 with Retry-After.
    db_pool_size: int = Field(default=40, ge=1, le=500)
    db_pool_timeout: float = Field(default=10.0, gt=0, le=300)

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
