"""Products API (scrape, library, corrections), admin scraping rules, and the scrape queue.

One function, two triggers: API Gateway HTTP events go to the resolver; SQS records of the
scrape queue (``{"productId"}``) are scraped one by one with partial batch failures. Users only
reach their own products (others' ids are 404); rules need the Admin or Moderator role.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo.db import transaction
from ecomvideo.enums import ScrapingStatus
from ecomvideo.http.app import create_app
from ecomvideo.http.auth import current_principal, require_roles
from ecomvideo.http.pagination import PageCursor, PageLimit
from ecomvideo.observability import logger, metrics, tracer
from ecomvideo.schemas import products as schemas
from ecomvideo.services import products, scrape_jobs, scraping_rules

app = create_app()
processor = BatchProcessor(event_type=EventType.SQS)
RULE_ROLES = ("Admin", "Moderator")


@app.post(
    "/v1/products/scrape",
    responses={
        200: {"description": "A fresh copy of this URL already exists (no new scrape)"},
        202: {"description": "Scrape queued: poll the product (Location) until not Pending"},
    },
)
def scrape(body: schemas.ScrapeRequest) -> Response[schemas.ProductDetail]:
    product, accepted = products.submit_scrape(current_principal(app), body.url, force=body.force)
    headers = {"Location": f"/v1/products/{product.id}"}
    return Response(202 if accepted else 200, "application/json", product, headers)


@app.get("/v1/products")
def list_products(
    status: Annotated[ScrapingStatus | None, Query()] = None,
    platform: Annotated[str | None, Query(max_length=50)] = None,
    domain: Annotated[str | None, Query(max_length=100)] = None,
    cursor: PageCursor = None,
    limit: PageLimit = None,
) -> schemas.ProductPage:
    principal = current_principal(app)
    with transaction() as session:
        by = products.ProductFilters(status=status, platform=platform, domain=domain)
        return products.list_products(session, principal, cursor=cursor, limit=limit, **by)


@app.get("/v1/products/<product_id>")
def get_product(product_id: uuid.UUID) -> schemas.ProductDetail:
    with transaction() as session:
        return products.detail(session, current_principal(app), product_id)


@app.patch("/v1/products/<product_id>")
def update_product(product_id: uuid.UUID, body: schemas.ProductUpdate) -> schemas.ProductDetail:
    with transaction() as session:
        return products.update_product(session, current_principal(app), product_id, body)


@app.delete("/v1/products/<product_id>")
def delete_product(product_id: uuid.UUID) -> Response[None]:
    with transaction() as session:
        products.delete_product(session, current_principal(app), product_id)
    return Response(status_code=204)


@app.get("/v1/admin/scraping-rules")
def list_rules(
    domain: Annotated[str | None, Query(max_length=100)] = None,
    cursor: PageCursor = None,
    limit: PageLimit = None,
) -> schemas.ScrapingRulePage:
    require_roles(current_principal(app), *RULE_ROLES)
    with transaction() as session:
        return scraping_rules.list_rules(session, domain=domain, cursor=cursor, limit=limit)


@app.post("/v1/admin/scraping-rules", responses={201: {"description": "Created"}})
def create_rule(body: schemas.ScrapingRuleIn) -> Response[schemas.ScrapingRuleOut]:
    principal = current_principal(app)
    require_roles(principal, *RULE_ROLES)
    with transaction() as session:
        rule = scraping_rules.create_rule(session, principal, body)
    headers = {"Location": f"/v1/admin/scraping-rules/{rule.id}"}
    return Response(201, "application/json", rule, headers)


@app.get("/v1/admin/scraping-rules/<rule_id>")
def get_rule(rule_id: uuid.UUID) -> schemas.ScrapingRuleOut:
    require_roles(current_principal(app), *RULE_ROLES)
    with transaction() as session:
        return scraping_rules.get_rule(session, rule_id)


@app.put("/v1/admin/scraping-rules/<rule_id>")
def replace_rule(rule_id: uuid.UUID, body: schemas.ScrapingRuleIn) -> schemas.ScrapingRuleOut:
    principal = current_principal(app)
    require_roles(principal, *RULE_ROLES)
    with transaction() as session:
        return scraping_rules.replace_rule(session, principal, rule_id, body)


@app.delete("/v1/admin/scraping-rules/<rule_id>")
def delete_rule(rule_id: uuid.UUID) -> Response[None]:
    require_roles(current_principal(app), *RULE_ROLES)
    with transaction() as session:
        scraping_rules.delete_rule(session, rule_id)
    return Response(status_code=204)


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    return scrape_jobs.handle_message(record.body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext
) -> dict[str, Any] | PartialItemFailureResponse:
    if "Records" in event:  # the scrape queue
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    return app.resolve(event, context)
