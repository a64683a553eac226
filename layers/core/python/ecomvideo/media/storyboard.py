"""Storyboards: a video as an ordered list of scenes, built deterministically from what we know.

Pure Python (no Pillow): the API imports it to quote and show the plan before anything renders.

A *template* (``video_templates.style_settings["storyboard"]``) lists scene slots as data::

    {"slots": [{"kind": "hook"}, {"kind": "hero", "weight": 1.4},
               {"kind": "feature", "repeat": 3}, {"kind": "social_proof"},
               {"kind": "price"}, {"kind": "cta", "layout": "end_card"}],
     "transition": "crossfade", "min_scene_seconds": 1.2}

``build`` fills the slots from a ``StoryInput`` (scraped product, uploaded images, prompt),
drops the slots it has nothing for (no rating -> no social proof), then fits the scenes into the
video's duration: the lowest-priority scenes go first when the duration is short (a 5 s video
keeps hook, price or hero, and the end card: always >= 3 distinct scenes), the durations are
shared by weight and sum exactly to the duration.

Every scene names its *media*: ``product_image`` (a photo of ``images``), ``design`` (a designed
background, no photo) or ``generated_clip`` (the provider's image-to-video clip). A storyboard
built for a provider that returns a generated clip (``build(..., clip=True)``: Freepik) has one
hero scene showing that clip; the hero is then never dropped for a short duration (the clip is
paid for), and a template without a hero slot gets one after the hook. The renderer falls back
to the scene's photo (else a designed card) when the clip is missing or unreadable.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

SceneKind = Literal["hook", "hero", "feature", "social_proof", "price", "cta"]
Layout = Literal["full_bleed", "split", "card", "end_card"]
Transition = Literal["cut", "crossfade", "slide"]
Media = Literal["product_image", "design", "generated_clip"]

SCENE_KINDS: tuple[str, ...] = ("hook", "hero", "feature", "social_proof", "price", "cta")
LAYOUTS: tuple[str, ...] = ("full_bleed", "split", "card", "end_card")
TRANSITIONS: tuple[str, ...] = ("cut", "crossfade", "slide")
MEDIA_KINDS: tuple[str, ...] = ("product_image", "design", "generated_clip")
GENERATED_CLIP = "generated_clip"
MIN_SCENE_SECONDS = 1.0
MAX_SCENES = 12
MAX_TEXT = 120
MAX_SUBTEXT = 160
NEW_ARRIVAL = "New arrival"

# Which scenes survive a short duration: lower number = kept longer.
_PRIORITY = {"cta": 0, "hook": 1, "price": 2, "hero": 3, "feature": 4, "social_proof": 5}
_DEFAULT_LAYOUT = {
    "hook": "full_bleed",
    "hero": "full_bleed",
    "feature": "split",
    "social_proof": "card",
    "price": "card",
    "cta": "end_card",
}
_DEFAULT_WEIGHT = {"hook": 1.0, "hero": 1.3, "feature": 1.0, "social_proof": 0.9, "price": 1.0}

DEFAULT_TEMPLATE: dict[str, Any] = {
    "slots": [
        {"kind": "hook"},
        {"kind": "hero", "weight": 1.3},
        {"kind": "feature", "repeat": 3},
        {"kind": "social_proof"},
        {"kind": "price"},
        {"kind": "cta", "weight": 1.1},
    ],
    "transition": "crossfade",
    "min_scene_seconds": 1.2,
}


@dataclass(frozen=True, slots=True)
class Scene:
    """One scene. ``image`` indexes ``Storyboard.images`` (``None``: a designed background).

    ``media`` is what the scene shows (``MEDIA_KINDS``); left out, it follows ``image``:
    ``product_image`` with a photo, else ``design``. A ``generated_clip`` scene keeps its
    ``image`` as the fallback picture."""

    id: str
    kind: str
    duration: float
    text: str
    subtext: str | None = None
    image: int | None = None
    layout: str = "full_bleed"
    transition: str = "crossfade"
    media: str | None = None

    def __post_init__(self) -> None:
        if self.media is None:  # frozen: set once, here
            derived = "product_image" if self.image is not None else "design"
            object.__setattr__(self, "media", derived)


@dataclass(frozen=True, slots=True)
class Storyboard:
    """The plan of a video: scenes in order, the pictures they use, the look, the sound.

    ``music`` is the bed under every format: ``{"track": "<bundled id>"}`` or
    ``{"upload_key": "<the user's upload>"}``; ``None``: a silent track."""

    scenes: tuple[Scene, ...]
    images: tuple[str, ...] = ()
    palette: str | None = None
    edited: bool = False
    music: dict[str, str] | None = None

    @property
    def duration(self) -> float:
        return round(sum(s.duration for s in self.scenes), 3)

    @property
    def clip_scene(self) -> Scene | None:
        """The scene showing the provider's generated clip (the first, if several)."""
        return next((s for s in self.scenes if s.media == GENERATED_CLIP), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenes": [asdict(s) for s in self.scenes],
            "images": list(self.images),
            "palette": self.palette,
            "edited": self.edited,
            "music": self.music,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Storyboard:
        return cls(
            scenes=tuple(Scene(**s) for s in data.get("scenes") or []),
            images=tuple(data.get("images") or ()),
            palette=data.get("palette"),
            edited=bool(data.get("edited")),
            music=data.get("music") or None,
        )


@dataclass(frozen=True, slots=True)
class StoryInput:
    """Everything known about the product; every field but ``title`` is optional."""

    title: str
    brand: str | None = None
    price: str | None = None
    original_price: str | None = None
    discount_percent: int | None = None
    rating: float | None = None
    review_count: int | None = None
    description: str | None = None
    features: tuple[str, ...] = ()
    prompt: str | None = None
    images: tuple[str, ...] = ()
    call_to_action: str | None = None
    tagline: str | None = None
    palette: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------- text extraction

_BULLET_SPLIT = re.compile(
    r"\s*(?:\n+|[\u2022\u00b7\u25aa\u25cf\u25e6*]|(?<=[.!?;])\s+|\s+[-\u2013\u2014]\s+)\s*"
)
_PRICE_TOKEN = re.compile(r"[$€£¥₹]\s?\d|\d\s?(?:€|EUR|USD|GBP)\b", re.IGNORECASE)
_LEAD_IN = re.compile(
    r"^(?:create|make|generate|produce|design)\b.*?\b(?:for|about|of|showing)\s+", re.I
)
# Words that make a phrase a selling point rather than filler.
_STRONG = re.compile(
    r"\d|\b(?:free|fast|long|battery|waterproof|water|wireless|smart|warranty|organic|natural|"
    r"premium|lightweight|light|durable|handmade|recycled|eco|adjustable|quiet|portable|"
    r"hours?|days?|years?|grip|comfort|soft|warm|cool|easy|safe|steel|leather|cotton|app|"
    r"usb|led|hd|4k)\b",
    re.IGNORECASE,
)


_DASHES = " .,;:-\u2013\u2014*\u2022\"'"


def _clean(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split()).strip(_DASHES)


def _shorten(text: str, max_words: int = 7, max_chars: int = 48) -> str:
    words = text.split()
    if len(words) > max_words:
        words = words[:max_words]
    out = " ".join(words)
    if len(out) > max_chars:
        out = out[:max_chars].rsplit(" ", 1)[0] or out[:max_chars]
    out = out.rstrip(_DASHES + "(")
    return out[:1].upper() + out[1:]


def selling_points(
    *sources: str | None,
    features: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    limit: int = 4,
) -> list[str]:
    """2-4 short selling points: explicit ``features`` (bullets/specs) first, then phrases of
    the texts that carry a number or a product word, in their original order. Deterministic;
    prices and phrases equal to ``exclude`` (the title) are skipped."""
    seen = {_clean(x).lower() for x in exclude if x}
    picked: list[str] = []

    def take(phrase: str) -> None:
        phrase = _clean(phrase)
        if not (3 <= len(phrase) <= 160) or _PRICE_TOKEN.search(phrase):
            return
        short = _shorten(phrase)
        if len(short) < 3 or short.lower() in seen:
            return
        seen.add(short.lower())
        picked.append(short)

    for feature in features:
        if len(picked) < limit:
            take(feature)
    phrases: list[str] = []
    for text in sources:
        if not text:
            continue
        text = _LEAD_IN.sub("", text.strip(), count=1)
        for part in _BULLET_SPLIT.split(text):
            phrases.extend(p for p in re.split(r",\s+", part) if p)
    strong = [p for p in phrases if _STRONG.search(p)]
    for phrase in strong + [p for p in phrases if p not in strong]:
        if len(picked) >= limit:
            break
        take(phrase)
    return picked


def _after_name(prompt: str | None) -> str | None:
    """A prompt without its first phrase when it has several: prompts open with the product's
    name (``"Aurora Lamp, warm light, only $49"``), which the hook already shows."""
    if not prompt:
        return None
    parts = re.split(r"[,;:!?\n]|\.\s", prompt.strip(), maxsplit=1)
    rest = parts[1].strip() if len(parts) == 2 else ""
    return rest or prompt


def _amount(text: str | None) -> Decimal | None:
    if not text:
        return None
    match = re.search(r"\d[\d.,]*", text)
    if not match:
        return None
    raw = match.group(0).rstrip(".,")
    if "," in raw and "." in raw:
        raw = raw.replace(",", "") if raw.rfind(".") > raw.rfind(",") else raw.replace(".", "")
        raw = raw.replace(",", ".")
    elif "," in raw:
        head, _, tail = raw.rpartition(",")
        raw = f"{head.replace(',', '')}.{tail}" if len(tail) == 2 else raw.replace(",", "")
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def discount_percent(price: str | None, original: str | None) -> int | None:
    """Whole-percent discount of ``price`` against ``original`` (``None`` when not lower)."""
    now, before = _amount(price), _amount(original)
    if now is None or before is None or before <= 0 or now >= before:
        return None
    percent = int(((before - now) * 100 / before).to_integral_value(rounding="ROUND_HALF_UP"))
    return percent if percent >= 1 else None


def _stars(rating: float) -> str:
    full = int(rating + 0.25)
    return "★" * full + "☆" * (5 - full)


# ---------------------------------------------------------------------------- building


def _slots(template: dict[str, Any] | None) -> list[dict[str, Any]]:
    spec = template if template and template.get("slots") else DEFAULT_TEMPLATE
    slots = []
    for slot in spec["slots"]:
        if not isinstance(slot, dict) or slot.get("kind") not in SCENE_KINDS:
            continue
        slots.extend([slot] * max(1, min(6, int(slot.get("repeat", 1)))))
    return slots


def _candidates(
    story: StoryInput, template: dict[str, Any] | None, clip: bool = False
) -> list[dict[str, Any]]:
    points = selling_points(
        story.description,
        _after_name(story.prompt),
        features=story.features,
        exclude=(story.title,),
    )
    discount = story.discount_percent or discount_percent(story.price, story.original_price)
    images = list(range(len(story.images)))
    spec = template if template and template.get("slots") else DEFAULT_TEMPLATE
    transition = spec.get("transition", "crossfade")
    out: list[dict[str, Any]] = []
    feature_no = 0
    for slot in _slots(template):
        kind = slot["kind"]
        scene: dict[str, Any] = {
            "kind": kind,
            "layout": slot.get("layout") or _DEFAULT_LAYOUT[kind],
            "transition": slot.get("transition") or transition,
            "weight": float(slot.get("weight", _DEFAULT_WEIGHT.get(kind, 1.0))),
        }
        if kind == "hook":
            scene["text"] = story.title
            scene["subtext"] = story.tagline or story.brand
        elif kind == "hero":
            if clip and not any(s.get("media") == GENERATED_CLIP for s in out):
                scene["media"] = GENERATED_CLIP  # one clip: more hero slots show photos
            elif not images:
                continue
            # The photo speaks for itself: only a brand or tagline goes on it, never the
            # title again (the hook showed it).
            scene["text"] = story.brand or story.tagline or ""
            scene["subtext"] = story.tagline if story.brand else None
        elif kind == "feature":
            if feature_no >= len(points):
                continue
            scene["text"] = points[feature_no]
            scene["order"] = feature_no
            feature_no += 1
        elif kind == "social_proof":
            if not story.rating:
                continue
            scene["text"] = f"{_stars(story.rating)} {story.rating:.1f}/5"
            if story.review_count:
                scene["subtext"] = f"{story.review_count:,} reviews"
        elif kind == "price":
            if not story.price:
                continue
            scene["text"] = story.price
            if discount:
                scene["subtext"] = (
                    f"-{discount}%  was {story.original_price}"
                    if story.original_price
                    else f"-{discount}%"
                )
        elif kind == "cta":
            scene["text"] = story.call_to_action or "Shop now"
            scene["subtext"] = story.title
        out.append(scene)
    if clip and not any(s.get("media") == GENERATED_CLIP for s in out):
        # A template without a hero slot: the clip (paid for) gets one after the hook.
        at = 1 if out and out[0]["kind"] == "hook" else 0
        out.insert(
            at,
            {
                "kind": "hero",
                "layout": "full_bleed",
                "transition": transition,
                "weight": _DEFAULT_WEIGHT["hero"],
                "text": story.brand or story.tagline or "",
                "subtext": story.tagline if story.brand else None,
                "media": GENERATED_CLIP,
            },
        )
    # Pictures: hook and hero open on the first photo, the other scenes cycle through the rest
    # so several photos appear; the end card uses the first photo again (behind the card).
    cycle = images[1:] or images
    n = 0
    for scene in out:
        if not images:
            scene["image"] = None
        elif scene["kind"] in ("hook", "hero", "cta"):
            scene["image"] = images[0]
        else:
            scene["image"] = cycle[n % len(cycle)]
            n += 1
    return out


def build(
    story: StoryInput,
    duration_seconds: float,
    template: dict[str, Any] | None = None,
    *,
    clip: bool = False,
) -> Storyboard:
    """The storyboard of ``story`` fitted to ``duration_seconds`` (see the module docstring);
    ``clip``: the provider returns a generated clip, shown by the hero scene."""
    spec = template if template and template.get("slots") else DEFAULT_TEMPLATE
    min_scene = max(MIN_SCENE_SECONDS, float(spec.get("min_scene_seconds", 1.2)))
    scenes = _candidates(story, template, clip)
    # At least three distinct scenes whenever the duration allows one second each.
    capacity = max(3, min(MAX_SCENES, int(duration_seconds / min_scene)))
    capacity = min(capacity, max(1, int(duration_seconds / MIN_SCENE_SECONDS)))
    while len(scenes) > capacity:
        worst = max(
            range(len(scenes)),
            key=lambda i: (
                -1 if scenes[i].get("media") == GENERATED_CLIP else _PRIORITY[scenes[i]["kind"]],
                scenes[i].get("order", 0),
                i,
            ),
        )
        scenes.pop(worst)
    if len(scenes) < 3 and duration_seconds >= 3 * MIN_SCENE_SECONDS:
        # Nothing but a title (and maybe one photo): a hero scene between hook and end card,
        # the photo when there is one, else a designed card.
        scenes.insert(
            1,
            {
                **scenes[0],
                "kind": "hero",
                "layout": "full_bleed" if story.images else "card",
                "weight": 1.0,
                "text": story.brand or story.tagline or NEW_ARRIVAL,
                "subtext": None,
            },
        )
    durations = _share(duration_seconds, [s["weight"] for s in scenes])
    built = tuple(
        Scene(
            id=f"s{i + 1}",
            kind=s["kind"],
            duration=d,
            text=str(s.get("text") or "")[:MAX_TEXT],
            subtext=(str(s["subtext"])[:MAX_SUBTEXT] if s.get("subtext") else None),
            image=s.get("image"),
            layout=s["layout"],
            transition="cut" if i == 0 else s["transition"],
            media=s.get("media"),
        )
        for i, (s, d) in enumerate(zip(scenes, durations, strict=True))
    )
    return Storyboard(scenes=built, images=tuple(story.images), palette=story.palette)


def _share(total: float, weights: list[float]) -> list[float]:
    """``total`` split by ``weights`` in tenths of a second, summing exactly to ``total``."""
    tenths = round(total * 10)
    raw = [tenths * w / sum(weights) for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: tenths - sum(parts)]:
        parts[i] += 1
    return [p / 10 for p in parts]


def fit_to_duration(board: Storyboard, duration_seconds: float) -> Storyboard:
    """``board`` with its scene durations rescaled to sum to ``duration_seconds``."""
    durations = _share(duration_seconds, [max(0.1, s.duration) for s in board.scenes])
    return replace(
        board,
        scenes=tuple(replace(s, duration=d) for s, d in zip(board.scenes, durations, strict=True)),
    )
