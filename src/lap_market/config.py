"""Settings read from the environment (prefix ``LAP_``)."""

import ipaddress
import secrets
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

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
