"""Platform administration: system settings ``GET/PUT /v1/admin/settings`` and plans
``/v1/admin/plans`` (role Admin), and the public ``GET /v1/settings/public`` (only
``is_public`` settings, no authorizer).

Values are validated against their ``data_type`` (string, number, boolean, json) by
``ecomvideo.services.system_settings``; a mismatch is a 422 naming the key.
"""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo.db import transaction
from ecomvideo.enums import UserRole
from ecomvideo.http.app import create_app
from ecomvideo.http.auth import current_principal, require_roles
from ecomvideo.http.contract import created
from ecomvideo.http.pagination import BOUNDED_LIST
from ecomvideo.models import SystemSetting
from ecomvideo.observability import logger, metrics, tracer
from ecomvideo.schemas import billing as billing_schemas
from ecomvideo.schemas import system as s
from ecomvideo.services import plan_catalog, system_settings

app = create_app()
PUBLIC_CACHE = "public, max-age=30"


def _out(row: SystemSetting) -> s.SettingOut:
    try:
        value = system_settings.decode(row.value, row.data_type)
    except system_settings.InvalidSettingValue:
        value = row.value  # show the raw text so an admin can fix it
    return s.SettingOut(
        key=row.key,
        value=value,
        data_type=row.data_type,
        category=row.category,
        description=row.description,
        is_public=bool(row.is_public),
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _admin() -> str:
    principal = current_principal(app)
    require_roles(principal, UserRole.ADMIN.value)
    return str(principal.user_id)


@app.get("/v1/admin/settings", openapi_extensions=BOUNDED_LIST)
def list_settings() -> s.SettingsList:
    _admin()
    with transaction() as session:
        return s.SettingsList(items=[_out(r) for r in system_settings.list_settings(session)])


@app.put("/v1/admin/settings")
def update_settings(body: s.SettingsUpdate) -> s.SettingsList:
    """Create or change settings atomically (all or none)."""
    actor = _admin()
    with transaction() as session:
        rows = system_settings.update_many(session, body.settings, updated_by=f"user:{actor}")
        return s.SettingsList(items=[_out(r) for r in rows])


@app.get("/v1/settings/public", openapi_extensions=BOUNDED_LIST)
def public_settings() -> Response[s.PublicSettingsList]:
    with transaction() as session:
        items = [
            s.PublicSettingOut(key=o.key, value=o.value, data_type=o.data_type)
            for o in map(_out, system_settings.list_settings(session, public_only=True))
        ]
    return Response(
        status_code=200,
        content_type="application/json",
        body=s.PublicSettingsList(items=items),
        headers={"Cache-Control": PUBLIC_CACHE},
    )


@app.get("/v1/admin/plans", openapi_extensions=BOUNDED_LIST)
def admin_plans() -> list[billing_schemas.AdminPlanOut]:
    """Admin: every plan, active or not."""
    _admin()
    with transaction() as session:
        plans = plan_catalog.list_plans(session, include_inactive=True)
        return [billing_schemas.AdminPlanOut.model_validate(p) for p in plans]


@app.post("/v1/admin/plans", responses={201: {"description": "Created"}})
def admin_create_plan(body: billing_schemas.PlanCreate) -> Response[billing_schemas.AdminPlanOut]:
    """Admin: add a plan (then run the Stripe sync to sell it)."""
    actor = _admin()
    with transaction() as session:
        plan = plan_catalog.create_plan(session, body.model_dump(), actor=actor)
        out = billing_schemas.AdminPlanOut.model_validate(plan)
    return created(out, f"/v1/admin/plans/{out.id}")


@app.patch("/v1/admin/plans/<plan_id>")
def admin_update_plan(
    plan_id: uuid.UUID, body: billing_schemas.PlanUpdate
) -> billing_schemas.AdminPlanOut:
    """Admin: change a plan."""
    actor = _admin()
    with transaction() as session:
        plan = plan_catalog.update_plan(
            session, plan_id, body.model_dump(exclude_unset=True), actor=actor
        )
        return billing_schemas.AdminPlanOut.model_validate(plan)


@app.delete("/v1/admin/plans/<plan_id>", responses={204: {"description": "Retired"}})
def admin_retire_plan(plan_id: uuid.UUID) -> Response[None]:
    """Admin: retire a plan (kept for existing subscriptions, no longer sold)."""
    actor = _admin()
    with transaction() as session:
        plan_catalog.deactivate_plan(session, plan_id, actor=actor)
    return Response(status_code=204)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
