"""Each person's notification preferences."""


from lap_market.accounts.deps import CurrentUser, api_router
from lap_market.db import SessionDep
from lap_market.notifications import preferences
from lap_market.notifications.schemas import PreferencesRead, PreferencesUpdate

router = api_router("notifications")


@router.get("/me/notification-preferences", response_model=PreferencesRead)
def get_preferences(session: SessionDep, user: CurrentUser) -> PreferencesRead:
    """How the caller receives each kind of message: immediate, daily or off."""
    return preferences.get_preferences(session, user)


@router.put("/me/notification-preferences", response_model=PreferencesRead)
def put_preferences(
    session: SessionDep, user: CurrentUser, data: PreferencesUpdate
) -> PreferencesRead:
    """Change the modes of the kinds listed (422 naming a kind that cannot be turned off)."""
    return preferences.set_preferences(session, user, data.preferences)
