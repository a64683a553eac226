"""Reference data: plans, video categories, templates, product categories, system settings.

Idempotent (upserts on each table's natural key), so it runs on every `make dev` and deploy.
Existing rows keep values an admin changed, except the columns listed in ``_UPDATE_ON_SEED``.
Run: ``python -m ecomvideo.seed``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ecomvideo.models import (
    ProductCategory,
    SubscriptionPlan,
    SystemSetting,
    VideoCategory,
    VideoTemplate,
)

PLANS: list[dict[str, Any]] = [
    {
        "name": "Free",
        "description": "Try EcomVideo: a few short videos a month with the watermark.",
        "price_monthly": Decimal("0.00"),
        "price_yearly": Decimal("0.00"),
        "video_credits_monthly": 3,
        "max_video_duration": 5,
        "max_resolution": "720p",
        "ai_providers": ["Local", "Freepik"],
        "features": ["720p Video Generation", "Basic Templates", "Watermark"],
        "sort_order": 0,
    },
    {
        "name": "Starter",
        "description": "For new shops: HD videos for your best sellers.",
        "price_monthly": Decimal("19.00"),
        "price_yearly": Decimal("190.00"),
        "video_credits_monthly": 30,
        "max_video_duration": 10,
        "max_resolution": "1080p",
        "ai_providers": ["Local", "Freepik"],
        "features": ["HD Video Generation", "All Basic Templates", "No Watermark"],
        "trial_days": 7,
        "sort_order": 1,
    },
    {
        "name": "Pro",
        "description": "For growing brands: premium templates and advanced AI models.",
        "price_monthly": Decimal("49.00"),
        "price_yearly": Decimal("490.00"),
        "video_credits_monthly": 100,
        "max_video_duration": 15,
        "max_resolution": "1080p",
        "ai_providers": ["Local", "Freepik"],
        "features": [
            "HD Video Generation",
            "Premium Templates",
            "Advanced AI Models",
            "Priority Processing",
        ],
        "is_popular": True,
        "trial_days": 7,
        "sort_order": 2,
    },
    {
        "name": "Business",
        "description": "For agencies and catalogues: volume, 4K and a commercial licence.",
        "price_monthly": Decimal("149.00"),
        "price_yearly": Decimal("1490.00"),
        "video_credits_monthly": 400,
        "max_video_duration": 30,
        "max_resolution": "4k",
        "ai_providers": ["Local", "Freepik"],
        "features": [
            "4K Video Generation",
            "Premium Templates",
            "Advanced AI Models",
            "Priority Processing",
            "Commercial License",
        ],
        "trial_days": 14,
        "sort_order": 3,
    },
]

VIDEO_CATEGORIES: list[dict[str, Any]] = [
    {"name": "Product Showcase", "color_hex": "#6C5CE7", "icon_name": "box", "sort_order": 0},
    {"name": "Sale & Promotion", "color_hex": "#E17055", "icon_name": "tag", "sort_order": 1},
    {"name": "Unboxing", "color_hex": "#00B894", "icon_name": "package", "sort_order": 2},
    {"name": "Lifestyle", "color_hex": "#FDCB6E", "icon_name": "sun", "sort_order": 3},
    {"name": "Testimonial", "color_hex": "#0984E3", "icon_name": "quote", "sort_order": 4},
]


def _storyboard(
    *slots: dict[str, Any], transition: str = "crossfade", min_scene_seconds: float = 1.2
) -> dict[str, Any]:
    """A template's storyboard as data (see ``ecomvideo.media.storyboard``)."""
    return {
        "slots": list(slots),
        "transition": transition,
        "min_scene_seconds": min_scene_seconds,
    }


TEMPLATES: list[dict[str, Any]] = [
    {
        "name": "Hero Spin",
        "category": "Product Showcase",
        "description": "A slow cinematic push-in on the product with the name and price.",
        "prompt_template": (
            "Cinematic studio shot of {product_name}, soft rim light, slow camera push-in, "
            "clean seamless background, premium commercial look. Price {price}."
        ),
        "style_settings": {
            "motion": "zoom_in",
            "palette": "studio",
            "font": "bold",
            "storyboard": _storyboard(
                {"kind": "hook"},
                {"kind": "hero", "weight": 1.6},
                {"kind": "feature", "repeat": 2},
                {"kind": "price"},
                {"kind": "cta"},
            ),
        },
        "default_duration": 5,
    },
    {
        "name": "Flash Sale",
        "category": "Sale & Promotion",
        "description": "Bold colours and urgency for discounts.",
        "prompt_template": (
            "Energetic promotional video for {product_name}: bold colours, dynamic motion, "
            "big '{discount} OFF' badge, urgent feel. Now only {price}."
        ),
        "style_settings": {
            "motion": "pan_left",
            "palette": "vivid",
            "badge": True,
            "storyboard": _storyboard(
                {"kind": "hook", "layout": "card"},
                {"kind": "price", "weight": 1.4},
                {"kind": "hero"},
                {"kind": "feature", "repeat": 2},
                {"kind": "social_proof"},
                {"kind": "cta"},
                transition="slide",
                min_scene_seconds=1.0,
            ),
        },
        "default_duration": 5,
    },
    {
        "name": "Unboxing Moment",
        "category": "Unboxing",
        "description": "Hands open the package and reveal the product.",
        "prompt_template": (
            "Top-down unboxing of {product_name} by {brand}: hands open a kraft box, tissue "
            "paper, the product is revealed in warm natural light."
        ),
        "style_settings": {
            "motion": "zoom_out",
            "palette": "warm",
            "storyboard": _storyboard(
                {"kind": "hook"},
                {"kind": "hero", "weight": 1.5},
                {"kind": "feature", "repeat": 3},
                {"kind": "social_proof"},
                {"kind": "price"},
                {"kind": "cta"},
            ),
        },
        "default_duration": 10,
    },
    {
        "name": "Everyday Life",
        "category": "Lifestyle",
        "description": "The product in a real-life scene.",
        "prompt_template": (
            "{product_name} used in a bright modern home, natural daylight, lifestyle "
            "photography, gentle handheld camera movement. {tagline}"
        ),
        "style_settings": {
            "motion": "pan_right",
            "palette": "natural",
            "storyboard": _storyboard(
                {"kind": "hook"},
                {"kind": "hero", "weight": 1.4},
                {"kind": "feature", "repeat": 3, "layout": "full_bleed"},
                {"kind": "price"},
                {"kind": "cta"},
            ),
        },
        "default_duration": 5,
    },
    {
        "name": "Luxury Reveal",
        "category": "Product Showcase",
        "description": "Dark, glossy, premium reveal for high-end products.",
        "prompt_template": (
            "Luxury reveal of {product_name}: dark glossy surface, dramatic spotlight, "
            "slow orbit, gold accents, elegant typography."
        ),
        "style_settings": {
            "motion": "orbit",
            "palette": "noir",
            "font": "serif",
            "storyboard": _storyboard(
                {"kind": "hook", "layout": "card"},
                {"kind": "hero", "weight": 2.0},
                {"kind": "feature", "repeat": 2},
                {"kind": "price"},
                {"kind": "cta", "weight": 1.3},
                min_scene_seconds=1.8,
            ),
        },
        "default_duration": 10,
        "is_premium": True,
    },
]

PRODUCT_CATEGORIES: dict[str, list[str]] = {
    "Fashion": ["Clothing", "Shoes", "Accessories", "Jewelry"],
    "Electronics": ["Phones", "Audio", "Computers", "Cameras"],
    "Home & Garden": ["Furniture", "Kitchen", "Decor", "Garden"],
    "Beauty": ["Skincare", "Makeup", "Fragrance", "Hair Care"],
    "Sports & Outdoors": ["Fitness", "Camping", "Cycling"],
    "Toys & Games": ["Kids Toys", "Board Games"],
    "Food & Drink": ["Snacks", "Coffee & Tea"],
}

# key: (value, data_type, category, description, is_public)
SYSTEM_SETTINGS: dict[str, tuple[Any, str, str, str, bool]] = {
    "credits.cost.base_per_5s": (1, "number", "credits", "Credits per started 5 s of video.", True),
    "credits.cost.resolution_multiplier": (
        {"720p": 1, "1080p": 1, "4k": 2},
        "json",
        "credits",
        "Multiplier by output resolution class.",
        True,
    ),
    "credits.cost.provider_extra": (
        {"Local": 0, "Freepik": 1},
        "json",
        "credits",
        "Extra credits per video by AI provider.",
        True,
    ),
    "credits.free_grant_days": (30, "number", "credits", "Validity of Free plan grants.", False),
    "billing.allow_generation_when_past_due": (
        True,
        "boolean",
        "billing",
        "Allow generation during the payment grace period.",
        False,
    ),
    "billing.past_due_grace_days": (
        14,
        "number",
        "billing",
        "Days a past-due subscription keeps its plan (then Free limits, no new videos).",
        False,
    ),
    "retention.user_activity_days": (730, "number", "retention", "User activity: 2 years.", False),
    "retention.video_analytics_days": (365, "number", "retention", "Analytics: 1 year.", False),
    "retention.api_usage_days": (90, "number", "retention", "API usage log: 90 days.", False),
    "retention.background_jobs_days": (
        30,
        "number",
        "retention",
        "Completed/failed jobs: 30 days.",
        False,
    ),
    "pipeline.stuck_video_minutes": (
        60,
        "number",
        "pipeline",
        "Fail videos stuck longer than this.",
        False,
    ),
    "ratelimit.requests_per_minute": (120, "number", "ratelimit", "API calls per user.", True),
    "ratelimit.video_creations_per_hour": (
        30,
        "number",
        "ratelimit",
        "Video creations per user per hour.",
        True,
    ),
    "analytics.ip_anonymization": (True, "boolean", "privacy", "Store /24 and /48 only.", False),
    "retention.webhook_deliveries_days": (
        30,
        "number",
        "retention",
        "Outbound webhook delivery log.",
        False,
    ),
    "retention.webhook_events_days": (
        90,
        "number",
        "retention",
        "Stripe/Freepik webhook ids kept for de-duplication.",
        False,
    ),
    "webhooks.credits_low_threshold": (
        5,
        "number",
        "webhooks",
        "credits.low fires at or below this balance.",
        False,
    ),
    "billing.subscription_expiry_grace_hours": (
        48,
        "number",
        "billing",
        "Wait for Stripe this long past ends_at before expiring.",
        False,
    ),
    "app.maintenance_mode": (False, "boolean", "app", "Reject new videos when true.", True),
}

# Columns refreshed on every seed run (descriptive text); business values stay as edited.
_UPDATE_ON_SEED = {"description"}


def _encode_setting(value: Any, data_type: str) -> str:
    if data_type == "json":
        return json.dumps(value, sort_keys=True)
    if data_type == "boolean":
        return "true" if value else "false"
    return str(value)


def _upsert(session: Session, model: type, rows: list[dict[str, Any]], key: str) -> None:
    if not rows:
        return
    stmt = insert(model).values(rows)
    update = {c: stmt.excluded[c] for c in _UPDATE_ON_SEED if c in rows[0]}
    if update:
        stmt = stmt.on_conflict_do_update(index_elements=[key], set_=update)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=[key])
    session.execute(stmt)


def seed(session: Session) -> None:
    """Insert the reference data that is missing; safe to run any number of times."""
    _upsert(session, SubscriptionPlan, [{**p, "created_by": "seed"} for p in PLANS], "name")
    _upsert(session, VideoCategory, VIDEO_CATEGORIES, "name")
    categories = dict(session.execute(select(VideoCategory.name, VideoCategory.id)).all())
    existing_templates = {t.name: t for t in session.scalars(select(VideoTemplate))}
    for template in TEMPLATES:
        if (row := existing_templates.get(template["name"])) is not None:
            # Seed templates made before storyboards existed get theirs (an admin's own
            # storyboard is never replaced).
            settings = dict(row.style_settings or {})
            if row.created_by == "seed" and "storyboard" not in settings:
                settings["storyboard"] = template["style_settings"]["storyboard"]
                row.style_settings = settings
            continue
        data = {k: v for k, v in template.items() if k != "category"}
        session.add(
            VideoTemplate(**data, category_id=categories[template["category"]], created_by="seed")
        )
    roots = [
        {"name": name, "level": 0, "sort_order": i} for i, name in enumerate(PRODUCT_CATEGORIES)
    ]
    _upsert(session, ProductCategory, roots, "name")
    root_ids = dict(session.execute(select(ProductCategory.name, ProductCategory.id)).all())
    children = [
        {"name": child, "parent_id": root_ids[root], "level": 1, "sort_order": i}
        for root, names in PRODUCT_CATEGORIES.items()
        for i, child in enumerate(names)
    ]
    _upsert(session, ProductCategory, children, "name")
    settings_rows = [
        {
            "key": key,
            "value": _encode_setting(value, data_type),
            "data_type": data_type,
            "category": category,
            "description": description,
            "is_public": is_public,
            "updated_by": "seed",
        }
        for key, (value, data_type, category, description, is_public) in SYSTEM_SETTINGS.items()
    ]
    _upsert(session, SystemSetting, settings_rows, "key")
    session.flush()


def run_seed() -> None:
    from ecomvideo.db import transaction

    with transaction() as session:
        seed(session)


if __name__ == "__main__":
    run_seed()
    print("seed: reference data present")
