"""Services that read or write a few columns of another aggregate's table do it through
lightweight table clauses (``sqlalchemy.table()``), so that their functions do not map the
classes: ``services.plans`` (the rate limiter maps no billing class) and ``services.products``
(the scraping function maps no video class). Each of their columns must be the model's."""

from __future__ import annotations

import pytest

from ecomvideo.models import SubscriptionPlan, UserSubscription, Video
from ecomvideo.services import plans, products


@pytest.mark.parametrize(
    ("light", "model"),
    [
        (plans.PLANS_TABLE, SubscriptionPlan),
        (plans.SUBSCRIPTIONS_TABLE, UserSubscription),
        (products.VIDEOS_TABLE, Video),
    ],
    ids=["subscription_plans", "user_subscriptions", "videos"],
)
def test_every_light_column_is_the_models(light, model):
    table = model.__table__
    assert light.name == table.name
    for column in light.c:
        assert column.name in table.c, f"{table.name}.{column.name} is not a column"
        declared = table.c[column.name].type
        assert isinstance(declared, type(column.type)), (
            f"{table.name}.{column.name}: {declared!r} is not a {type(column.type).__name__}"
        )
