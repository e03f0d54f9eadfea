"""A FastAPI app whose users live in vouch, with the routes of FastAPI Users'
auth, register, reset, verify and users routers.

    pip install ./clients/python fastapi python-multipart uvicorn
    VOUCH_SOCKET=/run/vouch/vouchd.sock uvicorn app:app

The app needs only vouch's socket (group `vouch`).  Registering users and
requesting verification are admin operations: the app's uid must then be
in vouchd's `admin_group`, or leave those routes out and create users with
vouchctl.  The reset and verification tokens reach the user through
vouchd's hooks (docs/HOOKS.md), as FastAPI Users' on_after_forgot_password
and on_after_request_verify would send them.
"""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from typing import AsyncIterator, Optional

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel

import vouch


class UserRead(BaseModel):
    id: uuid.UUID
    username: str
    email: Optional[str]
    is_active: bool
    is_superuser: bool
    is_verified: bool

    @classmethod
    def of(cls, user: vouch.User) -> "UserRead":
        return cls(
            id=user.uuid,
            username=user.username,
            email=user.email,
            is_active=user.active,
            is_superuser=user.superuser,
            is_verified=user.verified,
        )


class UserCreate(BaseModel):
    username: str
    password: str
    email: Optional[str] = None


class ForgotPassword(BaseModel):
    email: str


class ResetPassword(BaseModel):
    token: str
    password: str


class ChangePassword(BaseModel):
    old_password: str
    new_password: str


class Verify(BaseModel):
    token: str


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # One client for the whole app: concurrent requests share its connection.
    async with vouch.AsyncClient() as client:  # $VOUCH_SOCKET, else /run/vouch/vouchd.sock
        app.state.vouch = client
        yield


app = FastAPI(lifespan=lifespan)


def vouch_client(request: Request) -> vouch.AsyncClient:
    client: vouch.AsyncClient = request.app.state.vouch
    return client


@app.exception_handler(vouch.Unavailable)
@app.exception_handler(vouch.Busy)
@app.exception_handler(vouch.StorageUnavailable)
async def unavailable(request: Request, exc: Exception) -> JSONResponse:
    """vouchd down, busy or unable to write: 503, retry later (the reason is in vouchd's log)."""
    return JSONResponse({"detail": "SERVICE_UNAVAILABLE"}, status.HTTP_503_SERVICE_UNAVAILABLE, {"Retry-After": "1"})


bearer = HTTPBearer(auto_error=False)


async def current_token(credentials: Optional[HTTPAuthorizationCredentials] = Depends(bearer)) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Unauthorized", headers={"WWW-Authenticate": "Bearer"})
    return credentials.credentials


async def current_user(
    token: str = Depends(current_token), client: vouch.AsyncClient = Depends(vouch_client)
) -> vouch.User:
    """The user of a valid bearer token; 401 for a missing, unknown, revoked or expired one."""
    try:
        user = await client.verify_token(token)
    except vouch.InvalidToken:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Unauthorized", headers={"WWW-Authenticate": "Bearer"})
    if not user.active:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Unauthorized", headers={"WWW-Authenticate": "Bearer"})
    return user


# ---- auth router: /auth/login, /auth/logout ----------------------------------


@app.post("/auth/login")
async def login(
    form: OAuth2PasswordRequestForm = Depends(), client: vouch.AsyncClient = Depends(vouch_client)
) -> dict:
    try:
        result = await client.login(form.username, form.password, token=True, service="fastapi-example")
    except (vouch.InvalidCredentials, vouch.AccountInactive):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "LOGIN_BAD_CREDENTIALS")
    except vouch.PasswordExpired:
        # The right password, but it must be changed first: /auth/change-expired-password.
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "LOGIN_PASSWORD_EXPIRED")
    except vouch.AccountLocked:
        raise HTTPException(status.HTTP_423_LOCKED, "LOGIN_ACCOUNT_LOCKED")
    except vouch.RateLimited:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "LOGIN_RATE_LIMITED")
    return {"access_token": result.token, "token_type": "bearer"}


class ExpiredPasswordChange(ChangePassword):
    username: str


@app.post("/auth/change-expired-password", status_code=status.HTTP_204_NO_CONTENT)
async def change_expired_password(
    body: ExpiredPasswordChange, client: vouch.AsyncClient = Depends(vouch_client)
) -> None:
    """No token to be had with an expired password: the old password is the proof."""
    try:
        await client.change_password(body.username, body.old_password, body.new_password)
    except (vouch.InvalidCredentials, vouch.AccountInactive):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "CHANGE_PASSWORD_BAD_CREDENTIALS")
    except vouch.PasswordRejected as e:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, {"code": "CHANGE_PASSWORD_INVALID_PASSWORD", "reason": e.reason})
    except vouch.AccountLocked:
        raise HTTPException(status.HTTP_423_LOCKED, "LOGIN_ACCOUNT_LOCKED")
    except vouch.RateLimited:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "LOGIN_RATE_LIMITED")


@app.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    token: str = Depends(current_token),
    user: vouch.User = Depends(current_user),
    client: vouch.AsyncClient = Depends(vouch_client),
) -> None:
    await client.revoke_token(token)


# ---- register router: /auth/register (the app must be a vouch admin) ---------


@app.post("/auth/register", status_code=status.HTTP_201_CREATED)
async def register(body: UserCreate, client: vouch.AsyncClient = Depends(vouch_client)) -> UserRead:
    try:
        user = await client.create_user(body.username, body.password, email=body.email)
    except vouch.AlreadyExists:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "REGISTER_USER_ALREADY_EXISTS")
    except vouch.PasswordRejected as e:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, {"code": "REGISTER_INVALID_PASSWORD", "reason": e.reason})
    except vouch.InvalidInput as e:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, {"code": "REGISTER_INVALID_INPUT", "reason": e.message})
    return UserRead.of(user)


# ---- reset password router ---------------------------------------------------


@app.post("/auth/forgot-password", status_code=status.HTTP_202_ACCEPTED)
async def forgot_password(body: ForgotPassword, client: vouch.AsyncClient = Depends(vouch_client)) -> None:
    # The same answer whether or not the user exists; the hook sends the token.
    await client.forgot_password(body.email)


@app.post("/auth/reset-password")
async def reset_password(body: ResetPassword, client: vouch.AsyncClient = Depends(vouch_client)) -> None:
    try:
        await client.reset_password(body.token, body.password)
    except vouch.InvalidToken:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "RESET_PASSWORD_BAD_TOKEN")
    except vouch.PasswordRejected as e:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, {"code": "RESET_PASSWORD_INVALID_PASSWORD", "reason": e.reason})


# ---- verify router -----------------------------------------------------------


@app.post("/auth/request-verify-token", status_code=status.HTTP_202_ACCEPTED)
async def request_verify_token(
    user: vouch.User = Depends(current_user), client: vouch.AsyncClient = Depends(vouch_client)
) -> None:
    """Mails the signed-in user a verification link (through the request_verify hook)."""
    await client.request_verify(user.id)


@app.post("/auth/verify")
async def verify(body: Verify, client: vouch.AsyncClient = Depends(vouch_client)) -> UserRead:
    try:
        return UserRead.of(await client.verify_email(body.token))
    except vouch.InvalidToken:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "VERIFY_USER_BAD_TOKEN")
    except vouch.AlreadyVerified:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "VERIFY_USER_ALREADY_VERIFIED")


# ---- users router ------------------------------------------------------------


@app.get("/users/me")
async def me(user: vouch.User = Depends(current_user)) -> UserRead:
    return UserRead.of(user)


@app.post("/users/me/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(
    body: ChangePassword, user: vouch.User = Depends(current_user), client: vouch.AsyncClient = Depends(vouch_client)
) -> None:
    try:
        await client.change_password(user.username, body.old_password, body.new_password)
    except vouch.InvalidCredentials:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "CHANGE_PASSWORD_BAD_CREDENTIALS")
    except vouch.PasswordRejected as e:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, {"code": "CHANGE_PASSWORD_INVALID_PASSWORD", "reason": e.reason})
