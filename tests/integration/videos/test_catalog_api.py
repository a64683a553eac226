"""Catalogue through the real handler: public reads, Admin/Moderator CRUD, role checks."""

from __future__ import annotations

from tests.support.factories import make_user, make_video
from tests.support.pipeline_stack import call


def test_templates_list_their_variables_and_filter_by_premium(session):
    user = make_user(session)

    status, body, _ = call("catalog", "GET", "/v1/templates", user_id=user.id, query="premium=true")

    assert status == 200
    assert [t["name"] for t in body["items"]] == ["Luxury Reveal"]
    assert body["items"][0]["variables"] == ["product_name"]


def test_users_cannot_edit_the_catalogue_but_moderators_can(session):
    user = make_user(session)
    template = {"name": "Teaser", "prompt_template": "Teaser for {product_name} at {price}"}

    denied = call("catalog", "POST", "/v1/admin/templates", user_id=user.id, body=template)
    created = call(
        "catalog",
        "POST",
        "/v1/admin/templates",
        user_id=user.id,
        roles=("Moderator",),
        body=template,
    )

    assert denied[0] == 403
    assert created[0] == 201 and created[1]["variables"] == ["product_name", "price"]
    tid = created[1]["id"]
    patched = call(
        "catalog",
        "PATCH",
        f"/v1/admin/templates/{tid}",
        user_id=user.id,
        roles=("Admin",),
        body={"is_premium": True},
    )
    assert patched[0] == 200 and patched[1]["is_premium"] is True
    assert (
        call("catalog", "DELETE", f"/v1/admin/templates/{tid}", user_id=user.id, roles=("Admin",))[
            0
        ]
        == 204
    )
    assert call("catalog", "GET", f"/v1/templates/{tid}", user_id=user.id)[0] == 404


def test_category_and_tag_crud_with_duplicates_as_409(session):
    admin = make_user(session)
    kw = {"user_id": admin.id, "roles": ("Admin",)}

    category = call("catalog", "POST", "/v1/admin/video-categories", body={"name": "Reviews"}, **kw)
    duplicate = call(
        "catalog", "POST", "/v1/admin/video-categories", body={"name": "Reviews"}, **kw
    )
    tag = call("catalog", "POST", "/v1/admin/tags", body={"name": " Black  Friday "}, **kw)
    listed = call("catalog", "GET", "/v1/video-categories", user_id=admin.id)

    assert category[0] == 201 and duplicate[0] == 409
    assert tag[0] == 201 and tag[1]["name"] == "black friday"
    assert "Reviews" in [c["name"] for c in listed[1]["items"]]
    # A category in use is deactivated rather than deleted (videos keep it).
    make_video(session, admin, category_id=category[1]["id"])
    assert (
        call("catalog", "DELETE", f"/v1/admin/video-categories/{category[1]['id']}", **kw)[0] == 204
    )
    listed = call("catalog", "GET", "/v1/video-categories", user_id=admin.id)
    assert "Reviews" not in [c["name"] for c in listed[1]["items"]]
    assert call("catalog", "DELETE", f"/v1/admin/tags/{tag[1]['id']}", **kw)[0] == 204


def test_tags_page_by_popularity_with_a_cursor_and_a_link_to_the_next_page(session):
    from ecomvideo.models import VideoTag

    user = make_user(session)
    # Ties on usage_count are ordered by name, so every tag is seen exactly once.
    session.add_all(
        VideoTag(name=f"pg-tag-{i}", usage_count=count) for i, count in enumerate([5, 3, 3, 3, 1])
    )
    session.commit()

    seen, query = [], "prefix=pg-tag&limit=2"
    while True:
        status, body, headers = call("catalog", "GET", "/v1/tags", user_id=user.id, query=query)
        assert status == 200
        seen += [t["name"] for t in body["items"]]
        if body["next_cursor"] is None:
            assert "Link" not in headers
            break
        link = headers["Link"]
        assert link.startswith("</v1/tags?") and link.endswith('>; rel="next"')
        query = link[len("</v1/tags?") : -len('>; rel="next"')]
        assert "prefix=pg-tag" in query and "limit=2" in query

    assert seen == ["pg-tag-0", "pg-tag-1", "pg-tag-2", "pg-tag-3", "pg-tag-4"]


def test_a_tampered_cursor_is_a_400_problem(session):
    user = make_user(session)
    status, body, _ = call("catalog", "GET", "/v1/tags", user_id=user.id, query="cursor=bm9wZQ")
    assert status == 400 and body["type"].endswith("/bad-request")
