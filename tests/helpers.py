"""Small helpers shared by tests. Factories live beside the tests that need them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


def login_api(client: TestClient, email: str, password: str) -> dict[str, str]:
    """Log in through ``POST /api/v1/auth/token`` and return the bearer header."""
    response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
