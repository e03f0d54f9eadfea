"""The example app, through FastAPI's TestClient, against a real vouchd."""

from __future__ import annotations

from typing import Iterator

import pytest
from fastapi.testclient import TestClient

import vouch
from vouchd_fixture import PASSWORD, Daemon, unique

import app as example


@pytest.fixture
def http(daemon: Daemon, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("VOUCH_SOCKET", daemon.socket_path)
    with TestClient(example.app) as client:
        yield client


@pytest.fixture
def account(daemon: Daemon) -> vouch.User:
    name = unique()
    with daemon.client() as admin:
        return admin.create_user(name, PASSWORD, email=f"{name}@example.com")


def login(http: TestClient, username: str, password: str = PASSWORD) -> str:
    response = http.post("/auth/login", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["access_token"].startswith("vch_")
    return str(body["access_token"])


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_login_returns_a_token_that_opens_protected_routes(http: TestClient, account: vouch.User) -> None:
    token = login(http, account.username)
    me = http.get("/users/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["username"] == account.username and me.json()["id"] == str(account.uuid)


def test_bad_credentials(http: TestClient, account: vouch.User) -> None:
    response = http.post("/auth/login", data={"username": account.username, "password": "wrong password"})
    assert response.status_code == 400 and response.json()["detail"] == "LOGIN_BAD_CREDENTIALS"


def test_missing_bad_and_revoked_tokens_are_401(daemon: Daemon, http: TestClient, account: vouch.User) -> None:
    assert http.get("/users/me").status_code == 401
    assert http.get("/users/me", headers=bearer("vch_" + "x" * 43)).status_code == 401
    assert http.get("/users/me", headers={"Authorization": "Basic Ym9iOng="}).status_code == 401
    token = login(http, account.username)
    with daemon.client() as admin:
        assert admin.revoke_tokens(account.id) == 1
    response = http.get("/users/me", headers=bearer(token))
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"


def test_logout_revokes_the_token(http: TestClient, account: vouch.User) -> None:
    token = login(http, account.username)
    assert http.post("/auth/logout", headers=bearer(token)).status_code == 204
    assert http.get("/users/me", headers=bearer(token)).status_code == 401
    assert http.post("/auth/logout", headers=bearer(token)).status_code == 401


def test_forgot_and_reset_password(daemon: Daemon, http: TestClient, account: vouch.User) -> None:
    assert http.post("/auth/forgot-password", json={"email": account.email}).status_code == 202
    assert http.post("/auth/forgot-password", json={"email": "nobody@example.com"}).status_code == 202
    token = daemon.hook_token("forgot_password", account.username)
    short = http.post("/auth/reset-password", json={"token": token, "password": "short"})
    assert short.status_code == 400 and short.json()["detail"]["code"] == "RESET_PASSWORD_INVALID_PASSWORD"
    assert http.post("/auth/reset-password", json={"token": token, "password": "brand new pass 7"}).status_code == 200
    login(http, account.username, "brand new pass 7")
    again = http.post("/auth/reset-password", json={"token": token, "password": "another pass 8"})
    assert again.status_code == 400 and again.json()["detail"] == "RESET_PASSWORD_BAD_TOKEN"


def test_register(http: TestClient) -> None:
    name = unique()
    created = http.post("/auth/register", json={"username": name, "password": PASSWORD, "email": f"{name}@example.com"})
    assert created.status_code == 201 and created.json()["is_active"] and not created.json()["is_verified"]
    twice = http.post("/auth/register", json={"username": name, "password": PASSWORD})
    assert twice.status_code == 400 and twice.json()["detail"] == "REGISTER_USER_ALREADY_EXISTS"
    weak = http.post("/auth/register", json={"username": unique(), "password": "short"})
    assert weak.status_code == 400 and weak.json()["detail"]["reason"]
    login(http, name)


def test_request_verify_and_verify(daemon: Daemon, http: TestClient, account: vouch.User) -> None:
    token = login(http, account.username)
    assert http.post("/auth/request-verify-token", headers=bearer(token)).status_code == 202
    verify_token = daemon.hook_token("request_verify", account.username)
    verified = http.post("/auth/verify", json={"token": verify_token})
    assert verified.status_code == 200 and verified.json()["is_verified"]
    assert http.post("/auth/verify", json={"token": verify_token}).status_code == 400


def test_change_password(http: TestClient, account: vouch.User) -> None:
    token = login(http, account.username)
    wrong = http.post("/users/me/password", headers=bearer(token), json={"old_password": "nope", "new_password": "x" * 12})
    assert wrong.status_code == 400
    changed = http.post(
        "/users/me/password", headers=bearer(token), json={"old_password": PASSWORD, "new_password": "changed pass 9"}
    )
    assert changed.status_code == 204
    login(http, account.username, "changed pass 9")


def test_503_while_vouchd_is_down(make_daemon, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    d = make_daemon()
    monkeypatch.setenv("VOUCH_SOCKET", d.socket_path)
    with d.client() as admin:
        admin.create_user("dora", PASSWORD)
    with TestClient(example.app) as http:
        token = login(http, "dora")
        d.stop()
        down = http.get("/users/me", headers=bearer(token))
        assert down.status_code == 503 and down.headers["Retry-After"] == "1"
        d.start()
        assert http.get("/users/me", headers=bearer(token)).status_code == 200  # reconnected


def test_an_expired_password_is_changed_without_a_token(daemon: Daemon, http: TestClient, account: vouch.User) -> None:
    with daemon.client() as admin:
        admin.set_password_aging(account.id, expire=True)
    refused = http.post("/auth/login", data={"username": account.username, "password": PASSWORD})
    assert refused.status_code == 400 and refused.json()["detail"] == "LOGIN_PASSWORD_EXPIRED"
    body = {"username": account.username, "old_password": "wrong one 1", "new_password": "renewed pass 9"}
    assert http.post("/auth/change-expired-password", json=body).status_code == 400
    body["old_password"] = PASSWORD
    assert http.post("/auth/change-expired-password", json=body).status_code == 204
    login(http, account.username, "renewed pass 9")
