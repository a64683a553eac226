"""Catalogue API: templates, video categories and tags (public reads, Admin/Moderator CRUD)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo.db import transaction
from ecomvideo.http.app import create_app
from ecomvideo.http.auth import current_principal, require_roles
from ecomvideo.http.contract import created
from ecomvideo.http.pagination import BOUNDED_LIST, PageCursor, PageLimit
from ecomvideo.keyset import clamp_limit
from ecomvideo.observability import logger, metrics, tracer
from ecomvideo.schemas import catalog as schemas
from ecomvideo.services import catalog, tagging

app = create_app()
EDITORS = ("Admin", "Moderator")
TagPrefix = Annotated[str | None, Query(max_length=50)]


def _editor() -> str:
    """The caller's id (audit actor) once their role allows catalogue edits."""
    require_roles(principal := current_principal(app), *EDITORS)
    return str(principal.user_id)


@app.get("/v1/templates")
def list_templates(
    category_id: Annotated[uuid.UUID | None, Query()] = None,
    premium: Annotated[bool | None, Query()] = None,
    active: Annotated[bool | None, Query()] = True,
    limit: PageLimit = None,
    cursor: PageCursor = None,
) -> schemas.TemplateList:
    if active is not True:  # inactive templates are an editor's view
        require_roles(current_principal(app), *EDITORS)
    with transaction() as session:
        by = catalog.TemplateFilters(category_id=category_id, premium=premium, active=active)
        return catalog.list_templates(session, **by, limit=clamp_limit(limit), cursor=cursor)


@app.get("/v1/templates/<template_id>")
def get_template(template_id: uuid.UUID) -> schemas.TemplateOut:
    with transaction() as session:
        return schemas.TemplateOut.model_validate(tagging.get_template(session, template_id))


@app.get("/v1/video-categories", openapi_extensions=BOUNDED_LIST)
def list_categories() -> schemas.CategoryList:
    with transaction() as session:
        return catalog.category_list(session)


@app.get("/v1/music/tracks", openapi_extensions=BOUNDED_LIST)
def list_music_tracks() -> schemas.MusicTrackList:
    return catalog.music_tracks()  # any signed-in user (the authorizer)


@app.get("/v1/tags")
def list_tags(
    prefix: TagPrefix = None, limit: PageLimit = None, cursor: PageCursor = None
) -> schemas.TagList:
    with transaction() as session:
        return catalog.popular_tags(session, limit=clamp_limit(limit), prefix=prefix, cursor=cursor)


@app.post("/v1/admin/templates", responses={201: {"description": "Created"}})
def create_template(body: schemas.TemplateIn) -> Response[schemas.TemplateOut]:
    actor = _editor()
    with transaction() as session:
        template = catalog.create_template(session, body.model_dump(), actor=actor)
        out = schemas.TemplateOut.model_validate(template)
    return created(out, f"/v1/templates/{out.id}")


@app.patch("/v1/admin/templates/<template_id>")
def update_template(template_id: uuid.UUID, body: schemas.TemplatePatch) -> schemas.TemplateOut:
    actor, changes = _editor(), body.model_dump(exclude_unset=True)
    with transaction() as session:
        changed = catalog.update_template(session, template_id, changes, actor=actor)
        return schemas.TemplateOut.model_validate(changed)


@app.delete("/v1/admin/templates/<template_id>")
def delete_template(template_id: uuid.UUID) -> Response[None]:
    actor = _editor()
    with transaction() as session:
        catalog.delete_template(session, template_id, actor=actor)
    return Response(status_code=204)


@app.post("/v1/admin/video-categories", responses={201: {"description": "Created"}})
def create_category(body: schemas.CategoryIn) -> Response[schemas.CategoryOut]:
    _editor()
    with transaction() as session:
        out = catalog.create_category(session, body.model_dump())
    return created(out, f"/v1/admin/video-categories/{out.id}")


@app.patch("/v1/admin/video-categories/<category_id>")
def update_category(category_id: uuid.UUID, body: schemas.CategoryPatch) -> schemas.CategoryOut:
    _editor()
    with transaction() as session:
        return catalog.update_category(session, category_id, body.model_dump(exclude_unset=True))


@app.delete("/v1/admin/video-categories/<category_id>")
def delete_category(category_id: uuid.UUID) -> Response[None]:
    _editor()
    with transaction() as session:
        catalog.delete_category(session, category_id)
    return Response(status_code=204)


@app.post("/v1/admin/tags", responses={201: {"description": "Created"}})
def create_tag(body: schemas.TagIn) -> Response[schemas.TagOut]:
    _editor()
    with transaction() as session:
        out = schemas.TagOut.model_validate(catalog.create_tag(session, body.name, body.color_hex))
    return created(out, f"/v1/admin/tags/{out.id}")


@app.patch("/v1/admin/tags/<tag_id>")
def update_tag(tag_id: uuid.UUID, body: schemas.TagPatch) -> schemas.TagOut:
    _editor()
    with transaction() as session:
        changed = catalog.update_tag(session, tag_id, body.model_dump(exclude_unset=True))
        return schemas.TagOut.model_validate(changed)


@app.delete("/v1/admin/tags/<tag_id>")
def delete_tag(tag_id: uuid.UUID) -> Response[None]:
    _editor()
    with transaction() as session:
        catalog.delete_tag(session, tag_id)
    return Response(status_code=204)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
