"""Log in console users for desk tests."""

from fastapi.testclient import TestClient

ADMIN_PASSWORD = "admin-pass-123"


def login(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def create_user(client: TestClient, admin: dict[str, str], username: str, role: str) -> None:
    response = client.post(
        "/api/users",
        headers=admin,
        json={
            "username": username,
            "display_name": username,
            "role": role,
            "password": "a-long-password",
        },
    )
    assert response.status_code == 201, response.text


def staff_headers(client: TestClient, role: str = "staff") -> dict[str, str]:
    """A fresh console user of ``role`` (the app must start with ADMIN_PASSWORD)."""
    admin = login(client, "admin", ADMIN_PASSWORD)
    username = f"{role}.user"
    create_user(client, admin, username, role)
    return login(client, username, "a-long-password")
