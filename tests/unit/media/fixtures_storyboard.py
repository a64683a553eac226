"""The storyboard product used by the media tests and by bench/storyboard_bench.py."""

from __future__ import annotations

from PIL import Image, ImageDraw

from ecomvideo.media import storyboard as sb

# A product with four photos, a discount, a rating and selling points: every kind of scene.
STORY = sb.StoryInput(
    title="Aurora Smart Lamp",
    brand="Lumen",
    price="$49.99",
    original_price="$69.99",
    rating=4.6,
    review_count=1284,
    description="Warm dimmable light\n20 hours of battery life\nUSB-C charging\nWorks with the app",
    images=("a", "b", "c", "d"),
)

# Long product names in the scripts the renderer must draw whole (never clipped, never tofu).
LONG_NAMES = {
    "latin": "Émile Zoë Ångström Façade Crème Brûlée Édition Spéciale Größenverstellbar",
    "cyrillic": "Умная настольная лампа Аврора с регулируемой яркостью и беспроводной зарядкой",  # noqa: RUF001
    "cjk": "オーロラ・スマートランプ 调光台灯无线充电 스마트 조명 램프 특별판 限定版",
    "arabic": "مصباح أورورا الذكي بإضاءة دافئة قابلة للتعديل وشحن لاسلكي سريع",
}


def pictures(n: int = 4) -> dict[int, Image.Image]:
    """Small studio shots: a coloured product (red, green, blue, yellow) on light grey."""
    colours = [(200, 40, 40), (40, 160, 60), (30, 90, 200), (230, 180, 20)]
    out = {}
    for i in range(n):
        img = Image.new("RGB", (400 + 60 * i, 400), (235, 235, 235))
        ImageDraw.Draw(img).ellipse((120, 100, 300, 300), fill=colours[i % 4])
        out[i] = img
    return out


def busy_photo(size: tuple[int, int], seed: int) -> Image.Image:
    """A busy product photo (busy pictures cost the encoder more than flat ones): benchmarks."""
    w, h = size
    img = Image.radial_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(img)
    for i in range(0, w, max(8, w // 40)):
        draw.line([(i, 0), (w - i, h)], fill=(40 + (i + seed * 50) % 200, 90, 160), width=3)
    draw.ellipse((w * 0.2, h * 0.25, w * 0.8, h * 0.7), fill=(210, 50 + seed * 40, 60))
    return img
