"""The ``lap-market`` command: serve, work jobs, migrate, create users, load demo data."""

import sys
from datetime import datetime

import click
from sqlmodel import Session

from lap_market.config import get_settings


@click.group()
def main() -> None:
    """LAP Market: joint procurement for London's archive services."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int, workers: int, reload: bool) -> None:
    """Serve the web app and API."""
    import logging

    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin set-up chatter
    uvicorn.run(
        "lap_market.main:create_app", factory=True, host=host, port=port, workers=workers,
        reload=reload, log_level="info", access_log=False,
    )


@main.command()
@click.option("--until-idle", is_flag=True, help="Stop once nothing is due (scripts, tests).")
@click.option("--name", default=None, help="Worker name shown on the jobs it holds.")
def worker(until_idle: bool, name: str | None) -> None:
    """Work durable jobs and deliver email until stopped (SIGTERM or Ctrl-C)."""
    import logging
    import signal
    import threading

    from lap_market.db import make_engine
    from lap_market.jobs import Worker, run_until_idle
    from lap_market.registry import import_all_models

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = get_settings()
    import_all_models()
    engine = make_engine(settings.database_url)
    if until_idle:
        busy = run_until_idle(engine, settings)
        click.echo(f"Idle after {busy} rounds of work.")
        return
    from lap_market.contracts import pdf

    pdf.warm_pool()  # render processes ready before the first batch of call-offs
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    Worker(engine, settings, name=name).run(stop)
    engine.dispose()


@main.group()
def db() -> None:
    """Database migrations."""


@db.command()
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from lap_market.db import run_migrations

    settings = get_settings()
    run_migrations(settings.database_url, revision)
    click.echo(f"Database at {revision}: {_safe_url(settings.database_url)}")


@db.command()
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (``base`` for an empty database)."""
    from lap_market.db import downgrade_migrations

    downgrade_migrations(get_settings().database_url, revision)
    click.echo(f"Database at {revision}.")


def _safe_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def _session() -> Session:
    from lap_market.db import make_engine
    from lap_market.registry import import_all_models

    import_all_models()
    return Session(make_engine(get_settings().database_url), expire_on_commit=False)


@main.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True,
              type=click.Choice(["borough_manager", "provider", "procurement_officer", "admin"]))
@click.option("--organisation", required=True, help="Organisation name or GSS code.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(email: str, name: str, role: str, organisation: str, password: str) -> None:
    """Add a user to an organisation."""
    from pydantic import ValidationError

    from lap_market.accounts import service
    from lap_market.accounts.models import Role
    from lap_market.accounts.schemas import UserCreate
    from lap_market.errors import DomainError

    with _session() as session:
        try:
            org = service.find_organisation(session, organisation)
            user = service.create_user(
                session, None,
                data=UserCreate(email=email, name=name, role=Role(role),
                                organisation_id=org.id, password=password),
            )
            session.commit()
        except ValidationError as exc:
            for error in exc.errors():
                click.echo(f"{'.'.join(map(str, error['loc']))}: {error['msg']}", err=True)
            sys.exit(2)
        except DomainError as exc:
            click.echo(f"{exc.field or 'error'}: {exc.detail}", err=True)
            sys.exit(2)
        click.echo(f"Created {user.email} ({user.role}) in {org.name}.")


@main.command()
def demo() -> None:
    """Load realistic demo data (safe to run again) and print the demo logins."""
    from lap_market.demo import DEMO_PASSWORD, DEMO_USERS, load_demo

    with _session() as session:
        load_demo(session)
        session.commit()
    click.echo(f"Demo data loaded. Demo logins (password for all: {DEMO_PASSWORD}):")
    for email, _name, role, org in DEMO_USERS:
        click.echo(f"  {role:<20} {email:<24} {org}")


@main.command("issue-call-offs")
@click.argument("tender")
@click.argument("lot", type=int)
@click.option("--officer", "officer_email", default=None,
              help="Email of the procurement officer issuing (default: the first active one).")
def issue_call_offs(tender: str, lot: int, officer_email: str | None) -> None:
    """Issue the call-off contracts of lot number LOT of TENDER (reference or id)."""
    from lap_market.contracts import cli as contracts_cli

    with _session() as session:
        sys.exit(contracts_cli.issue_call_offs(session, tender, lot, officer_email))


@main.group()
def ocds() -> None:
    """Open data (OCDS release packages)."""


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    """``--since``: an ISO date or date-time; without a zone it is London time."""
    from lap_market.clock import LONDON

    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date such as 2026-11-04") from None
    if not 2000 <= moment.year <= 2100:
        raise click.BadParameter("give a date between 2000 and 2100")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=LONDON)


@ocds.command("validate")
@click.option("--since", callback=_since, metavar="DATE",
              help="Only releases dated at or after DATE (ISO; London time without a zone).")
def ocds_validate(since: datetime | None) -> None:
    """Validate what /api/v1/ocds/release-packages publishes; exit 1 on any invalid release."""
    from lap_market.ocds import cli as ocds_cli

    with _session() as session:
        report = ocds_cli.validate_published(session, get_settings(), since)
    if report.problems:
        click.echo(f"{len(report.problems)} OCDS problem(s) in {report.releases} release(s):",
                   err=True)
        for problem in report.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    click.echo(f"OCDS 1.1.5: {report.releases} release(s) valid.")


if __name__ == "__main__":
    main()
