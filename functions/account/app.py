"""/v1/me/* and /v1/admin/users/* (role Admin): parse, call services.accounts, return."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging.correlation_paths import API_GATEWAY_HTTP
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo.enums import UserRole
from ecomvideo.http.app import create_app
from ecomvideo.http.auth import current_principal, require_roles
from ecomvideo.http.pagination import PageCursor, PageLimit
from ecomvideo.keyset import clamp_limit
from ecomvideo.observability import logger, tracer
from ecomvideo.schemas import accounts as s
from ecomvideo.schemas.auth import TokenResponse
from ecomvideo.services import accounts
from ecomvideo.services.activity import RequestMeta

app = create_app()


def _me() -> uuid.UUID:
    return current_principal(app).user_id


def _admin() -> uuid.UUID:
    principal = current_principal(app)
    require_roles(principal, UserRole.ADMIN.value)
    return principal.user_id


def _meta() -> RequestMeta:
    return RequestMeta.from_event(app.current_event.raw_event)


@app.get("/v1/me")
def get_me() -> s.ProfileOut:
    return accounts.get_profile(_me())


@app.patch("/v1/me")
def patch_me(body: s.ProfileUpdate) -> s.ProfileOut:
    return accounts.update_profile(_me(), body, request=_meta())


@app.delete("/v1/me", responses={204: {"description": "Account deleted"}})
def delete_me(body: s.DeleteAccountRequest) -> Response[None]:
    """Delete the account and all its data (requires the password)."""
    accounts.delete_account(_me(), body.password)
    return Response(status_code=204)


@app.post("/v1/me/change-password")
def change_password(body: s.ChangePasswordRequest) -> TokenResponse:
    """Change the password; other sessions are signed out, this one gets fresh tokens."""
    pair = accounts.change_password(_me(), body.current_password, body.new_password, _meta())
    return TokenResponse.model_validate(pair, from_attributes=True)


@app.get("/v1/me/preferences")
def get_preferences() -> s.PreferencesOut:
    return accounts.get_preferences(_me())


@app.put("/v1/me/preferences")
def put_preferences(body: s.PreferencesUpdate) -> s.PreferencesOut:
    return accounts.update_preferences(_me(), body, request=_meta())


@app.get("/v1/me/notification-settings")
def get_notification_settings() -> s.NotificationSettingsOut:
    return accounts.get_notification_settings(_me())


@app.put("/v1/me/notification-settings")
def put_notification_settings(body: s.NotificationSettingsUpdate) -> s.NotificationSettingsOut:
    return accounts.update_notification_settings(_me(), body, request=_meta())


@app.get("/v1/me/interests")
def get_interests() -> s.InterestsOut:
    return accounts.get_interests(_me())


@app.put("/v1/me/interests")
def put_interests(body: s.InterestsUpdate) -> s.InterestsOut:
    return accounts.replace_interests(_me(), body, request=_meta())


@app.delete("/v1/me/interests", responses={204: {"description": "All interests removed"}})
@app.delete("/v1/me/interests/<category>", responses={204: {"description": "Removed"}})
def delete_interests(category: str | None = None) -> Response[None]:
    accounts.delete_interests(_me(), category=category, request=_meta())
    return Response(status_code=204)


@app.get("/v1/me/activity")
def get_activity(limit: PageLimit = None, cursor: PageCursor = None) -> s.ActivityPage:
    return accounts.list_activity(_me(), limit=clamp_limit(limit), cursor=cursor)


@app.get("/v1/admin/users")
def list_users(
    email: Annotated[str | None, Query(max_length=255)] = None,
    is_active: Annotated[bool | None, Query()] = None,
    role: Annotated[UserRole | None, Query()] = None,
    limit: PageLimit = None,
    cursor: PageCursor = None,
) -> s.AdminUserPage:
    _admin()
    return accounts.list_users(
        email=email, is_active=is_active, role=role, limit=clamp_limit(limit), cursor=cursor
    )


@app.post("/v1/admin/users/<user_id>/activate")
def activate_user(user_id: uuid.UUID) -> s.AdminUserOut:
    return accounts.set_active(_admin(), user_id, True, request=_meta())


@app.post("/v1/admin/users/<user_id>/deactivate")
def deactivate_user(user_id: uuid.UUID) -> s.AdminUserOut:
    return accounts.set_active(_admin(), user_id, False, request=_meta())


@app.post("/v1/admin/users/<user_id>/unlock")
def unlock_user(user_id: uuid.UUID) -> s.AdminUserOut:
    return accounts.unlock(_admin(), user_id, request=_meta())


@app.post("/v1/admin/users/<user_id>/roles")
def grant_role(user_id: uuid.UUID, body: s.RoleRequest) -> s.AdminUserOut:
    return accounts.grant_role(_admin(), user_id, body.role, request=_meta())


@app.delete("/v1/admin/users/<user_id>/roles/<role>")
def revoke_role(user_id: uuid.UUID, role: UserRole) -> s.AdminUserOut:
    return accounts.revoke_role(_admin(), user_id, role, request=_meta())


@logger.inject_lambda_context(correlation_id_path=API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return app.resolve(event, context)
