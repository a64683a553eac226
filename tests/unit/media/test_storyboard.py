"""Storyboard building: scenes from what we know, fitted to the duration, templates as data."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ecomvideo.media import storyboard as sb
from tests.unit.media.fixtures_storyboard import STORY

RICH = replace(
    STORY,
    description=(
        "Warm dimmable light for any room.\n• 20 hours of battery life\n• Works with the app\n"
        "• USB-C charging"
    ),
    images=("https://shop.example/1.jpg", "https://shop.example/2.jpg", "s3://b/3.jpg", "x"),
)


def test_a_rich_product_gives_every_kind_of_scene_in_story_order():
    board = sb.build(RICH, 20)

    kinds = [s.kind for s in board.scenes]
    assert kinds[0] == "hook" and kinds[-1] == "cta"
    assert {"hero", "feature", "social_proof", "price"} <= set(kinds)
    assert kinds.index("price") > kinds.index("feature")
    assert len(board.scenes) >= 5
    price = next(s for s in board.scenes if s.kind == "price")
    assert price.text == "$49.99" and price.subtext.startswith("-29%")
    proof = next(s for s in board.scenes if s.kind == "social_proof")
    assert "4.6/5" in proof.text and proof.subtext == "1,284 reviews"
    assert board.scenes[-1].layout == "end_card"


def test_several_product_photos_are_used_across_the_scenes():
    board = sb.build(RICH, 20)

    used = {s.image for s in board.scenes if s.image is not None}
    assert len(used) >= 3


@pytest.mark.parametrize("duration", [1, 2, 3, 4, 5, 7, 10, 15, 22, 30, 60])
def test_durations_add_up_exactly_and_no_scene_is_shorter_than_the_minimum(duration):
    board = sb.build(RICH, duration)

    assert board.duration == pytest.approx(duration)
    if duration >= 3:
        assert min(s.duration for s in board.scenes) >= sb.MIN_SCENE_SECONDS


def test_a_free_plan_five_seconds_still_has_three_distinct_scenes():
    for story in (RICH, sb.StoryInput(title="Mug"), sb.StoryInput(title="Mug", images=("a",))):
        board = sb.build(story, 5)

        assert len({(s.kind, s.text) for s in board.scenes}) >= 3, board
        assert board.scenes[0].kind == "hook" and board.scenes[-1].kind == "cta"


def test_short_videos_drop_the_least_important_scenes_first():
    board = sb.build(RICH, 5)

    kinds = [s.kind for s in board.scenes]
    assert "cta" in kinds and "hook" in kinds and "price" in kinds
    assert "social_proof" not in kinds


def test_a_text_prompt_gets_hook_selling_points_price_and_cta():
    story = sb.StoryInput(
        title="Aurora Smart Lamp",
        price="$49.99",
        prompt="Aurora Smart Lamp, warm light, 20 hours on one charge, only $49.99",
    )

    board = sb.build(story, 10)

    texts = {s.kind: s.text for s in board.scenes}
    features = [s.text for s in board.scenes if s.kind == "feature"]
    assert features == ["Warm light", "20 hours on one charge"]
    assert texts["price"] == "$49.99" and texts["cta"] == "Shop now"
    assert all(s.image is None for s in board.scenes)


def test_selling_points_come_from_bullets_first_skip_prices_and_the_title():
    points = sb.selling_points(
        "Aurora Smart Lamp. Only $49.99! Soft warm glow. 3 brightness levels",
        features=("Waterproof IP67 housing rated for outdoor use in heavy rain",),
        exclude=("Aurora Smart Lamp",),
    )

    assert points[0] == "Waterproof IP67 housing rated for outdoor use"
    assert "3 brightness levels" in points
    assert not any("$" in p for p in points)
    assert all(p.lower() != "aurora smart lamp" for p in points)
    assert len(points) <= 4


def test_building_is_deterministic():
    assert sb.build(RICH, 15) == sb.build(RICH, 15)


@pytest.mark.parametrize(
    ("price", "original", "expected"),
    [
        ("$49.99", "$69.99", 29),
        ("49,99 €", "99,99 €", 50),
        ("£1,299.00", "£1,499.00", 13),
        ("$10", "$10", None),
        ("$12", "$10", None),
        ("$10", None, None),
    ],
)
def test_discount_is_computed_from_the_two_prices(price, original, expected):
    assert sb.discount_percent(price, original) == expected


def test_template_slots_are_data_order_and_layouts_come_from_the_template():
    template = {
        "slots": [
            {"kind": "price", "layout": "card"},
            {"kind": "hook"},
            {"kind": "feature", "repeat": 1, "layout": "full_bleed"},
            {"kind": "cta"},
            {"kind": "no-such-kind"},
        ],
        "transition": "slide",
    }

    board = sb.build(RICH, 12, template)

    assert [s.kind for s in board.scenes] == ["price", "hook", "feature", "cta"]
    assert board.scenes[2].layout == "full_bleed"
    assert [s.transition for s in board.scenes] == ["cut", "slide", "slide", "slide"]


def test_round_trip_through_a_dict_keeps_every_field():
    board = sb.build(RICH, 15)

    assert sb.Storyboard.from_dict(board.to_dict()) == board


def test_fit_to_duration_rescales_to_the_exact_total():
    board = sb.fit_to_duration(sb.build(RICH, 15), 9)

    assert board.duration == pytest.approx(9)
