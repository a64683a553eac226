"""Scraping rules: per-domain headers, selectors and politeness delay (admin CRUD), and the
rule that applies to a domain (``find_rule``: the domain or its nearest parent)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecomvideo.errors import Conflict, NotFound
from ecomvideo.keyset import apply_keyset, clamp_limit, decode_cursor, page
from ecomvideo.models import ScrapingRule
from ecomvideo.schemas import products as schemas
from ecomvideo.security.principal import Principal


def find_rule(session: Session, domain: str) -> ScrapingRule | None:
    """The active rule for ``domain`` or its nearest parent (shop.example.com -> example.com)."""
    labels = domain.split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    if not candidates:
        return None
    rules = session.scalars(
        select(ScrapingRule).where(
            ScrapingRule.domain.in_(candidates), ScrapingRule.is_active.is_(True)
        )
    ).all()
    by_domain = {r.domain: r for r in rules}
    return next((by_domain[c] for c in candidates if c in by_domain), None)


def _rule_out(rule: ScrapingRule) -> schemas.ScrapingRuleOut:
    return schemas.ScrapingRuleOut.model_validate(rule, from_attributes=True)


def list_rules(
    session: Session,
    *,
    domain: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> schemas.ScrapingRulePage:
    """All scraping rules (admin), newest first; ``domain`` filters by substring."""
    size = clamp_limit(limit)
    stmt = select(ScrapingRule)
    if domain:
        stmt = stmt.where(ScrapingRule.domain.contains(domain.lower(), autoescape=True))
    stmt = apply_keyset(stmt, ScrapingRule.created_at, ScrapingRule.id, decode_cursor(cursor))
    rows, next_cursor = page(list(session.scalars(stmt.limit(size + 1))), size)
    return schemas.ScrapingRulePage(items=[_rule_out(r) for r in rows], next_cursor=next_cursor)


def get_rule(session: Session, rule_id: uuid.UUID) -> schemas.ScrapingRuleOut:
    rule = session.get(ScrapingRule, rule_id)
    if rule is None:
        raise NotFound("No such scraping rule.")
    return _rule_out(rule)


def _domain_taken(session: Session, domain: str, rule_id: uuid.UUID | None) -> bool:
    stmt = select(ScrapingRule.id).where(ScrapingRule.domain == domain)
    if rule_id is not None:
        stmt = stmt.where(ScrapingRule.id != rule_id)
    return session.scalar(stmt) is not None


def create_rule(
    session: Session, principal: Principal, body: schemas.ScrapingRuleIn
) -> schemas.ScrapingRuleOut:
    """Create the rule of a domain (one per domain: 409 when it exists)."""
    if _domain_taken(session, body.domain, None):
        raise Conflict(f"A scraping rule for {body.domain} already exists.")
    rule = ScrapingRule(**body.model_dump(), updated_by=str(principal.user_id))
    session.add(rule)
    session.flush()
    session.refresh(rule)
    return _rule_out(rule)


def replace_rule(
    session: Session, principal: Principal, rule_id: uuid.UUID, body: schemas.ScrapingRuleIn
) -> schemas.ScrapingRuleOut:
    """Replace every field of a rule (PUT)."""
    rule = session.get(ScrapingRule, rule_id, with_for_update=True)
    if rule is None:
        raise NotFound("No such scraping rule.")
    if _domain_taken(session, body.domain, rule_id):
        raise Conflict(f"A scraping rule for {body.domain} already exists.")
    for key, value in body.model_dump().items():
        setattr(rule, key, value)
    rule.updated_by = str(principal.user_id)
    session.flush()
    session.refresh(rule)
    return _rule_out(rule)


def delete_rule(session: Session, rule_id: uuid.UUID) -> None:
    rule = session.get(ScrapingRule, rule_id)
    if rule is None:
        raise NotFound("No such scraping rule.")
    session.delete(rule)
    session.flush()
