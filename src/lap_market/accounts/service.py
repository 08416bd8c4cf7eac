"""Organisations, users, and signing in."""

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, or_, select

from lap_market.accounts import sessions, throttle
from lap_market.accounts.models import (
    ROLE_ORG_KINDS,
    Organisation,
    OrgKind,
    Role,
    User,
)
from lap_market.accounts.schemas import (
    OrganisationCreate,
    OrganisationUpdate,
    UserCreate,
    UserUpdate,
)
from lap_market.accounts.security import hash_password, verify_password
from lap_market.audit import service as audit
from lap_market.clock import clock
from lap_market.config import Settings
from lap_market.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Unauthenticated,
)
from lap_market.notifications import events


def require_admin(actor: User) -> None:
    """Only admins manage organisations and users."""
    if actor.role != Role.ADMIN:
        raise Forbidden("Only an admin may manage organisations and users.")


def get_organisation(session: Session, organisation_id: int) -> Organisation:
    """An organisation by id, or 404."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("Organisation not found.", field="organisation_id")
    return organisation


def find_organisation(session: Session, name_or_gss: str) -> Organisation:
    """An organisation by exact name or GSS code (for the CLI)."""
    organisation = session.exec(
        select(Organisation).where(
            or_(
                func.lower(Organisation.name) == name_or_gss.strip().lower(),
                Organisation.gss_code == name_or_gss.strip().upper(),
            )
        )
    ).first()
    if organisation is None:
        raise Invalid(f"No organisation named or coded {name_or_gss!r}.", field="organisation")
    return organisation


def list_organisations(session: Session, *, kind: str | None = None) -> list[Organisation]:
    """Every organisation, optionally of one kind, by name."""
    query = select(Organisation)
    if kind:
        query = query.where(Organisation.kind == kind)
    return list(session.exec(query.order_by(Organisation.name)).all())


def create_organisation(session: Session, actor: User, *, data: OrganisationCreate) -> Organisation:
    """Add an organisation (admin)."""
    require_admin(actor)
    if data.gss_code and data.kind != OrgKind.BOROUGH:
        raise Invalid("Only boroughs carry a GSS code.", field="gss_code")
    clash = session.exec(
        select(Organisation).where(
            or_(
                func.lower(Organisation.name) == data.name.lower(),
                Organisation.gss_code == data.gss_code if data.gss_code else False,
            )
        )
    ).first()
    if clash is not None:
        field = "name" if clash.name.lower() == data.name.lower() else "gss_code"
        raise Conflict(f"An organisation with this {field.replace('_', ' ')} exists.", field=field)
    organisation = Organisation(
        name=data.name, kind=data.kind, gss_code=data.gss_code, created_at=clock.now()
    )
    session.add(organisation)
    _flush_unique(session, "name")
    audit.record(
        session, actor, action="organisation.created", object_type="organisation",
        object_id=organisation.id, details={"name": organisation.name, "kind": organisation.kind},
    )
    return organisation


def update_organisation(
    session: Session, actor: User, organisation_id: int, data: OrganisationUpdate
) -> Organisation:
    """Record an organisation's legal details, or switch whether a borough sells (admin);
    only the fields sent change."""
    require_admin(actor)
    organisation = get_organisation(session, organisation_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("can_provide", False) is None:
        changes.pop("can_provide")  # a switch is on or off, never cleared
    if changes.get("can_provide") and organisation.kind != OrgKind.BOROUGH:
        # Providers sell already; the switch is what lets a borough sell too.
        raise Invalid("Only a borough's organisation is switched to sell.", field="can_provide")
    for name, value in changes.items():
        setattr(organisation, name, value)
    session.add(organisation)
    session.flush()
    audit.record(
        session, actor, action="organisation.updated", object_type="organisation",
        object_id=organisation.id, details=changes,
    )
    return organisation


def _flush_unique(session: Session, field: str) -> None:
    """Flush, turning a unique-key race into the same 409 the pre-check gives."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"That {field} is already taken.", field=field) from exc


def get_user(session: Session, user_id: int) -> User:
    """A user by id, or 404."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found.")
    return user


def list_users(
    session: Session, actor: User, *, organisation_id: int | None = None, role: str | None = None,
    page: int = 1, page_size: int = 50,
) -> tuple[list[User], int]:
    """Users, for admins."""
    require_admin(actor)
    query = select(User)
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    if role:
        query = query.where(User.role == role)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    users = session.exec(
        query.order_by(col(User.email)).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return list(users), int(total)


def check_role_fits(role: Role, organisation: Organisation) -> None:
    """A role belongs only to organisations of the matching kind."""
    if organisation.kind not in ROLE_ORG_KINDS[role]:
        allowed = ", ".join(sorted(ROLE_ORG_KINDS[role]))
        raise Invalid(
            f"Role {role.value} needs an organisation of kind {allowed}; "
            f"{organisation.name} is a {organisation.kind}.",
            field="role",
        )


def create_user(session: Session, actor: User | None, *, data: UserCreate) -> User:
    """Add a user (admin; ``actor`` is None only for the CLI and demo data)."""
    if actor is not None:
        require_admin(actor)
    organisation = session.get(Organisation, data.organisation_id)
    if organisation is None:
        raise Invalid("Unknown organisation.", field="organisation_id")
    check_role_fits(data.role, organisation)
    if session.exec(select(User).where(User.email == data.email)).first() is not None:
        raise Conflict("A user with this email exists.", field="email")
    user = User(
        email=data.email,
        name=data.name,
        role=data.role,
        organisation_id=organisation.id,  # type: ignore[arg-type]
        password_hash=hash_password(data.password),
        created_at=clock.now(),
        job_title=data.job_title,
    )
    session.add(user)
    _flush_unique(session, "email")
    audit.record(
        session, actor, action="user.created", object_type="user", object_id=user.id,
        details={"email": user.email, "role": user.role, "organisation_id": user.organisation_id},
        organisation_id=actor.organisation_id if actor else user.organisation_id,
    )
    return user


def update_user(session: Session, actor: User, user_id: int, *, data: UserUpdate) -> User:
    """Rename, change role, or (de)activate a user (admin)."""
    require_admin(actor)
    user = get_user(session, user_id)
    changes = data.model_dump(exclude_unset=True)
    if "role" in changes and changes["role"] is not None:
        check_role_fits(changes["role"], get_organisation(session, user.organisation_id))
    if user.id == actor.id and changes.get("is_active") is False:
        raise Conflict("You cannot deactivate your own account.", field="is_active")
    for field, value in changes.items():
        # A job title may be cleared; the other fields are only ever replaced.
        if value is not None or field == "job_title":
            setattr(user, field, value)
    session.add(user)
    audit.record(
        session, actor, action="user.updated", object_type="user", object_id=user.id,
        details={k: v for k, v in changes.items()},
    )
    if changes.get("is_active") is False:
        # Flushed first: the row lock on the user makes a concurrent sign-in finish (and its
        # session get ended here) or see the deactivation. Re-activation reopens nothing.
        session.flush()
        sessions.end_sessions(session, actor, user, reason="deactivated")
    events.account_changed(session, user, {k: v for k, v in changes.items() if v is not None})
    return user


def authenticate(
    session: Session, settings: Settings, *, email: str, password: str, client_address: str
) -> User:
    """The active user with these credentials; repeated failures from one address are
    throttled (throttle.begin_attempt), never the account as a whole."""
    email = email.strip().lower()
    throttle.begin_attempt(session, settings, email=email, address=client_address)
    user = session.exec(select(User).where(User.email == email)).first()
    if not verify_password(password, user.password_hash if user else None) or user is None:
        raise Unauthenticated("Incorrect email or password.")
    if not user.is_active:
        raise Unauthenticated("This account has been deactivated.")
    throttle.forget_attempts(session, email=email, address=client_address)
    return user


def sign_in(
    session: Session, settings: Settings, *, email: str, password: str, client_address: str
) -> tuple[User, str]:
    """Check credentials, open a server-side session and issue its access token."""
    user = authenticate(
        session, settings, email=email, password=password, client_address=client_address
    )
    token = sessions.start_session(session, settings, user, client_address=client_address)
    audit.record(session, user, action="user.signed_in", object_type="user", object_id=user.id)
    return user, token


def change_own_password(
    session: Session, settings: Settings, user: User, *, current_sid: str, client_address: str,
    current_password: str, new_password: str,
) -> int:
    """A user replaces their own password (the current one is required and, like a sign-in,
    throttled); their other sessions end. How many ended."""
    if current_password == new_password:
        raise Invalid("Choose a password different from your current one.", field="new_password")
    throttle.begin_attempt(session, settings, email=user.email, address=client_address)
    ended = sessions.change_password(
        session, user, current_sid=current_sid, current_password=current_password,
        new_password=new_password,
    )
    throttle.forget_attempts(session, email=user.email, address=client_address)
    return ended


def end_user_sessions(session: Session, actor: User, user_id: int) -> int:
    """An admin signs a user out everywhere; how many sessions ended."""
    require_admin(actor)
    return sessions.end_sessions(session, actor, get_user(session, user_id), reason="admin")
