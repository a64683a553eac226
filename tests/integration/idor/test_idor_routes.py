"""IDOR suite: every route with a path parameter, generated from template.yaml's route table.

For each ``HttpApi`` route whose path has a ``{parameter}``:

* routes under ``/v1/admin/`` are role-gated: a plain user gets 403 whatever the ids;
* a parameter in ``OWNED`` names a row owned by one user: user A owns it (created through the
  API or a factory), user B sends the same request and must get the same 404 problem as for an
  id that does not exist (no "exists but not yours" oracle), then A's identical request must
  not be 404 (the id was real, and B's request did not delete or change it). Routes with two
  owned parameters are also tried with B's own parent and A's child (e.g. B's video, A's share);
* a parameter in ``NOT_OWNED`` is not an ownership boundary; the reason is written there.

A route whose parameter is in none of them fails ``test_every_id_route_is_covered``: a new
route with an id must say here how to create its resource. Request bodies the route needs are
in ``BODIES`` (a route with required body fields and no entry fails too).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from devserver.app_model import Route, build_model
from ecomvideo.enums import PaymentMethodType, PaymentProvider, ScrapingStatus
from ecomvideo.models import PaymentMethod, ProductData, User, WebhookEndpoint
from tests.fakes.stripe_fake import API_KEY, WEBHOOK_SECRET, StripeFake
from tests.support.engagement import completed_video, jwt_env, jwt_keys, token_for  # noqa: F401
from tests.support.factories import make_grant, make_user
from tests.support.lambda_handlers import ApiClient, ApiResponse

ROOT = Path(__file__).resolve().parents[3]
MODEL = build_model(ROOT / "template.yaml")
OPENAPI = json.loads((ROOT / "docs" / "openapi.json").read_text())
PARAM = re.compile(r"\{([^}+]+)\+?\}")
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class World:
    """What creators need: the test's session, an API client and the fake Stripe."""

    session: Session
    client: ApiClient
    stripe: StripeFake

    def call(self, route: Route, path: str, user: User, *, roles: tuple[str, ...] = ()) -> Any:
        """``route`` on the concrete ``path`` as ``user`` (with the route's registered body)."""
        return self.client.call(
            MODEL.functions[route.function].code_dir.name,
            route.method,
            path,
            BODIES.get(route.route_key),
            token=token_for(user.id, "User", *roles),
        )


Creator = Callable[[World, User], dict[str, str]]


@dataclass(frozen=True)
class Owned:
    """A path parameter naming a row owned by one user, and how to create one for a user."""

    create: Creator
    # Only under this path prefix (a generic name such as ``id`` means different things).
    prefix: str = "/"


def _video(world: World, owner: User) -> dict[str, str]:
    return {"video_id": str(completed_video(world.session, owner).id)}


def _share(world: World, owner: User) -> dict[str, str]:
    """A share of the owner's video, created through the sharing API."""
    video_id = _video(world, owner)["video_id"]
    response = world.client.call(
        "sharing",
        "POST",
        f"/v1/videos/{video_id}/shares",
        {"platform": "TikTok"},
        token=token_for(owner.id),
    )
    assert response.status == 201, response.body
    return {"video_id": video_id, "share_id": response.json()["id"]}


def _product(world: World, owner: User) -> dict[str, str]:
    product = ProductData(
        user_id=owner.id,
        original_url="https://shop.example.com/p/lamp",
        domain="shop.example.com",
        name="Aurora lamp",
        scraping_status=ScrapingStatus.SUCCESS,
    )
    world.session.add(product)
    world.session.flush()
    return {"product_id": str(product.id)}


def _payment_method(world: World, owner: User) -> dict[str, str]:
    external_id = f"pm_idor_{uuid.uuid4().hex[:12]}"
    # Known to the fake Stripe so that the owner's own request succeeds.
    world.stripe.payment_methods[external_id] = {
        "id": external_id,
        "object": "payment_method",
        "customer": None,
    }
    method = PaymentMethod(
        user_id=owner.id,
        type=PaymentMethodType.CREDIT_CARD,
        provider=PaymentProvider.STRIPE,
        external_id=external_id,
        last_four_digits="4242",
        brand="visa",
    )
    world.session.add(method)
    world.session.flush()
    return {"method_id": str(method.id)}


def _webhook_endpoint(world: World, owner: User) -> dict[str, str]:
    endpoint = WebhookEndpoint(
        user_id=owner.id,
        # A documentation address: the SSRF guard refuses it, so a ping never leaves the host.
        url="https://203.0.113.10/hooks/ecomvideo",
        events=["video.completed"],
        secret="whsec_idor_" + uuid.uuid4().hex,
    )
    world.session.add(endpoint)
    world.session.flush()
    return {"id": str(endpoint.id)}


OWNED: dict[str, Owned] = {
    "video_id": Owned(_video),
    "share_id": Owned(_share),
    "product_id": Owned(_product),
    "method_id": Owned(_payment_method),
    "id": Owned(_webhook_endpoint, prefix="/v1/webhooks/"),
}

NOT_OWNED: dict[str, str] = {
    "slug": "public share links: the slug is an unguessable capability meant to be shared "
    "without an account (revoking the share invalidates it)",
    "kind": "GET /v1/public/videos/{slug}/media/{kind} names which medium (video or "
    "thumbnail) of the slug's video; the slug is the capability",
    "template_id": "video templates are a global catalogue every signed-in user may read",
    "category": "DELETE /v1/me/interests/{category} names a global category and only ever "
    "touches the caller's own interests (checked in test_interest_delete_is_scoped_to_caller)",
}

# Bodies for routes that need one to get past validation (so the ownership check is reached).
BODIES: dict[str, Any] = {
    "PATCH /v1/videos/{video_id}": {"title": "Renamed by someone"},
    "PATCH /v1/videos/{video_id}/storyboard": {"scenes": [{"id": "s1", "text": "Mine"}]},
    "PATCH /v1/products/{product_id}": {"name": "Renamed by someone"},
    "POST /v1/videos/{video_id}/shares": {"platform": "TikTok"},
    "POST /v1/admin/users/{user_id}/roles": {"role": "Admin"},
    "PUT /v1/admin/scraping-rules/{rule_id}": {"domain": "shop.example.com", "platform": "Shopify"},
    "PATCH /v1/admin/plans/{plan_id}": {"description": "x"},
    "PUT /v1/admin/stripe-prices/{price_id}": {"credit_pack_id": str(uuid.uuid4())},
    "PATCH /v1/admin/tags/{tag_id}": {"name": "x"},
    "PATCH /v1/admin/templates/{template_id}": {"name": "x"},
    "PATCH /v1/admin/video-categories/{category_id}": {"name": "x"},
}
ADMIN_PARAM_VALUES = {"role": "Admin"}


def _params(route: Route) -> list[str]:
    return PARAM.findall(route.path)


def _fill(route: Route, values: dict[str, str]) -> str:
    return PARAM.sub(lambda m: values[m.group(1)], route.path)


ID_ROUTES = [route for route in MODEL.routes if _params(route)]
ADMIN_ROUTES = [r for r in ID_ROUTES if r.path.startswith("/v1/admin/")]
OWNED_ROUTES = [
    r
    for r in ID_ROUTES
    if r not in ADMIN_ROUTES
    and any(p in OWNED and r.path.startswith(OWNED[p].prefix) for p in _params(r))
]


def _owned_params(route: Route) -> list[str]:
    return [p for p in _params(route) if p in OWNED and route.path.startswith(OWNED[p].prefix)]


@pytest.fixture
def world(session: Session, jwt_env, aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:  # noqa: F811
    from ecomvideo.settings import reset_settings

    monkeypatch.setenv("STRIPE_API_KEY", API_KEY)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.delenv("STRIPE_SECRET_ARN", raising=False)
    reset_settings()
    stripe = StripeFake()
    with stripe.running():
        yield World(session=session, client=ApiClient(), stripe=stripe)
    reset_settings()


def _problem(response: ApiResponse) -> tuple[int, str, str]:
    """Status, title and detail of a problem response, with ids masked."""
    body = response.json() or {}
    detail = UUID_TEXT.sub("<id>", str(body.get("detail", "")))
    return response.status, str(body.get("title", "")), detail


# ------------------------------------------------------------------------------ coverage


def test_every_id_route_is_covered():
    assert ID_ROUTES, "the template has no route with a path parameter?"
    missing = []
    for route in ID_ROUTES:
        if route in ADMIN_ROUTES:
            continue
        for param in _params(route):
            owned = param in OWNED and route.path.startswith(OWNED[param].prefix)
            if not owned and param not in NOT_OWNED:
                missing.append(f"{route.route_key}: {{{param}}}")
    assert not missing, (
        "routes with an unregistered path parameter: add a creator to OWNED (or a reason to "
        f"NOT_OWNED) in {Path(__file__).name}: {missing}"
    )


def test_every_route_needing_a_body_has_one():
    schemas = OPENAPI["components"]["schemas"]
    missing = []
    for route in ADMIN_ROUTES + OWNED_ROUTES:
        operation = OPENAPI["paths"].get(route.path, {}).get(route.method.lower(), {})
        content = operation.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema", {})
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        if schema.get("required") and route.route_key not in BODIES:
            missing.append(route.route_key)
    assert not missing, f"add a valid body to BODIES for {missing}"


# ------------------------------------------------------------------------------ checks


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=lambda r: r.route_key)
def test_admin_route_refuses_a_plain_user(world: World, route: Route):
    user = make_user(world.session)
    values = {p: ADMIN_PARAM_VALUES.get(p, str(uuid.uuid4())) for p in _params(route)}

    response = world.call(route, _fill(route, values), user)

    assert response.status == 403, f"{route.route_key}: {response.status} {response.body}"


@pytest.mark.parametrize("route", OWNED_ROUTES, ids=lambda r: r.route_key)
def test_another_users_id_is_not_found(world: World, route: Route):
    owner = make_user(world.session, email=f"a-{uuid.uuid4().hex[:10]}@example.com")
    other = make_user(world.session, email=f"b-{uuid.uuid4().hex[:10]}@example.com")
    for user in (owner, other):
        make_grant(world.session, user, 50)
    owned = _owned_params(route)
    values: dict[str, str] = {}
    for param in owned:
        if param not in values:
            values.update(OWNED[param].create(world, owner))
    for param in _params(route):
        assert param in values or param in NOT_OWNED, f"no value for {{{param}}}"
    # B asks for A's resource: the same answer as for ids that do not exist.
    attempts = [(values, owned)]
    if len(owned) > 1:
        # B's own parent with A's child (B's video, A's share on another video).
        own = OWNED[owned[0]].create(world, other)
        mixed = dict(values, **{k: v for k, v in own.items() if k != owned[-1]})
        attempts.append((mixed, [owned[-1]]))
    for attempt, foreign in attempts:
        unknown = dict(attempt, **{p: str(uuid.uuid4()) for p in foreign})
        reference = world.call(route, _fill(route, unknown), other)
        assert reference.status == 404, f"{route.route_key} with unknown ids: {reference.body}"
        response = world.call(route, _fill(route, attempt), other)
        assert response.content_type.startswith("application/problem+json"), response.body
        assert _problem(response) == _problem(reference), (
            f"{route.route_key} as another user: {response.status} {response.body}"
        )

    # A's identical request: the id was real and B's request did not consume it.
    control = world.call(route, _fill(route, values), owner)
    assert control.status not in (401, 403, 404), f"owner got {control.status}: {control.body}"
    assert control.status < 500, f"owner got {control.status}: {control.body}"


def test_interest_delete_is_scoped_to_caller(world: World):
    owner, other = make_user(world.session), make_user(world.session)
    put = world.client.call(
        "account",
        "PUT",
        "/v1/me/interests",
        {"interests": [{"category": _a_category(world), "level": 3}]},
        token=token_for(owner.id),
    )
    assert put.status == 200, put.body
    category = put.json()["interests"][0]["category"]

    removed = world.client.call(
        "account", "DELETE", f"/v1/me/interests/{category}", token=token_for(other.id)
    )

    assert removed.status in (204, 404), removed.body
    kept = world.client.call("account", "GET", "/v1/me/interests", token=token_for(owner.id))
    assert [i["category"] for i in kept.json()["interests"]] == [category]


def _a_category(world: World) -> str:
    """A seeded video category name (interests accept any category text)."""
    from sqlalchemy import select

    from ecomvideo.models import VideoCategory

    return world.session.scalars(select(VideoCategory.name)).first() or "Fashion"
