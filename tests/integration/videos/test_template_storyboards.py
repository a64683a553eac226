"""Seed templates define their storyboards as data; the seed gives old seed rows theirs."""

from __future__ import annotations

from sqlalchemy import select

from ecomvideo.media import storyboard as sb
from ecomvideo.models import VideoTemplate
from ecomvideo.seed import TEMPLATES, seed
from ecomvideo.services.storyboards import template_spec

STORY = sb.StoryInput(
    title="Aurora Smart Lamp",
    price="$49.99",
    original_price="$69.99",
    rating=4.5,
    description="Warm light\n20 hours of battery\nUSB-C",
    images=("a", "b", "c", "d"),
)


def test_every_seed_template_has_a_storyboard_that_builds_at_every_duration(session):
    names = {t["name"] for t in TEMPLATES}
    templates = session.scalars(select(VideoTemplate).where(VideoTemplate.name.in_(names))).all()

    assert len(templates) == len(names)
    plans = set()
    for template in templates:
        spec = template_spec(template)
        assert spec and spec["slots"], template.name
        for duration in (5, 15, 30):
            board = sb.build(STORY, duration, spec)
            assert board.duration == duration
            assert len({s.kind for s in board.scenes}) >= 3, (template.name, duration)
            assert board.scenes[-1].kind == "cta"
        plans.add(tuple(s.kind for s in sb.build(STORY, 15, spec).scenes))
    assert len(plans) >= 3  # the templates really differ


def test_the_seed_adds_storyboards_to_seed_templates_but_never_replaces_an_admins(session):
    hero = session.scalar(select(VideoTemplate).where(VideoTemplate.name == "Hero Spin"))
    hero.style_settings = {"motion": "zoom_in"}
    own = VideoTemplate(
        name="Admin's own",
        prompt_template="x",
        style_settings={"storyboard": {"slots": [{"kind": "hook"}, {"kind": "cta"}]}},
        created_by="admin",
    )
    session.add(own)
    session.flush()

    seed(session)
    session.flush()

    assert template_spec(hero)["slots"][0] == {"kind": "hook"}
    assert hero.style_settings["motion"] == "zoom_in"
    assert template_spec(own) == {"slots": [{"kind": "hook"}, {"kind": "cta"}]}
