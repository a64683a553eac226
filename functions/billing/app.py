"""Plans (public) and billing for the caller (plan administration: functions/settings_admin).

Business rules live in ``ecomvideo.services.billing``; state confirmed by Stripe arrives
through the Stripe webhook function. One transaction per request.
"""

from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecomvideo.db import transaction
from ecomvideo.http.app import create_app
from ecomvideo.http.auth import current_principal
from ecomvideo.http.pagination import BOUNDED_LIST, PageCursor, PageLimit
from ecomvideo.observability import logger, metrics, tracer
from ecomvideo.schemas import billing as s
from ecomvideo.services import billing, plan_catalog

app = create_app()


def _uid() -> uuid.UUID:
    return current_principal(app).user_id


@app.get("/v1/plans", openapi_extensions=BOUNDED_LIST)
def list_plans() -> s.PlanList:
    """Active plans in display order (public)."""
    with transaction() as session:
        return s.PlanList(
            items=[s.PlanOut.model_validate(p) for p in plan_catalog.list_plans(session)]
        )


@app.get("/v1/billing/credit-packs", openapi_extensions=BOUNDED_LIST)
def list_credit_packs() -> s.CreditPackList:
    """One-off credit packs for sale."""
    with transaction() as session:
        packs = plan_catalog.list_credit_packs(session)
        return s.CreditPackList(items=[s.CreditPackOut.model_validate(p) for p in packs])


@app.post("/v1/billing/checkout")
def checkout(body: s.CheckoutRequest) -> s.CheckoutResponse:
    """A Stripe Checkout Session for a plan; redirect the browser to ``url``."""
    with transaction() as session:
        out = billing.create_subscription_checkout(session, _uid(), body.plan, body.billing_cycle)
    return s.CheckoutResponse(**out)


@app.post("/v1/billing/credit-packs/checkout")
def checkout_pack(body: s.CreditPackCheckoutRequest) -> s.CheckoutResponse:
    """A Stripe Checkout Session (one-off payment) for a credit pack."""
    with transaction() as session:
        return s.CheckoutResponse(**billing.create_credit_pack_checkout(session, _uid(), body.pack))


@app.post("/v1/billing/portal")
def portal() -> s.PortalResponse:
    """A Stripe Customer Portal session (cards, invoices, cancellation)."""
    with transaction() as session:
        return s.PortalResponse(**billing.create_portal_session(session, _uid()))


def _sub(sub: Any) -> s.SubscriptionResponse:
    return s.SubscriptionResponse(subscription=s.SubscriptionOut.of(sub) if sub else None)


@app.get("/v1/billing/subscription")
def subscription() -> s.SubscriptionResponse:
    """The caller's current subscription (or null)."""
    with transaction() as session:
        return _sub(billing.current_subscription(session, _uid()))


@app.post("/v1/billing/subscription/cancel")
def cancel() -> s.SubscriptionResponse:
    """Cancel at the end of the paid period."""
    with transaction() as session:
        return _sub(billing.cancel_subscription(session, _uid()))


@app.post("/v1/billing/subscription/resume")
def resume() -> s.SubscriptionResponse:
    """Undo a pending cancellation."""
    with transaction() as session:
        return _sub(billing.resume_subscription(session, _uid()))


@app.post("/v1/billing/subscription/change")
def change(body: s.ChangePlanRequest) -> s.SubscriptionResponse:
    """Upgrade (invoiced now, prorated) or downgrade (credited on the next invoice)."""
    with transaction() as session:
        return _sub(billing.change_plan(session, _uid(), body.plan, body.billing_cycle))


@app.get("/v1/billing/payments")
def payments(limit: PageLimit = None, cursor: PageCursor = None) -> s.PaymentPage:
    """The caller's payments, newest first."""
    with transaction() as session:
        rows, nxt = billing.list_payments(session, _uid(), limit=limit, cursor=cursor)
        return s.PaymentPage(items=[s.PaymentOut.model_validate(r) for r in rows], next_cursor=nxt)


@app.get("/v1/billing/invoices")
def invoices(limit: PageLimit = None, cursor: PageCursor = None) -> s.InvoicePage:
    """The caller's invoices with hosted and PDF links, newest first."""
    with transaction() as session:
        rows, nxt = billing.list_invoices(session, _uid(), limit=limit, cursor=cursor)
        return s.InvoicePage(items=[s.InvoiceOut.of(r) for r in rows], next_cursor=nxt)


@app.get("/v1/billing/payment-methods", openapi_extensions=BOUNDED_LIST)
def payment_methods() -> s.PaymentMethodList:
    """Saved payment methods, default first."""
    with transaction() as session:
        rows = billing.list_payment_methods(session, _uid())
        return s.PaymentMethodList(items=[s.PaymentMethodOut.model_validate(r) for r in rows])


@app.post("/v1/billing/payment-methods/<method_id>/default")
def make_default(method_id: uuid.UUID) -> s.PaymentMethodOut:
    """Use this payment method for future invoices."""
    with transaction() as session:
        row = billing.make_default_payment_method(session, _uid(), method_id)
        return s.PaymentMethodOut.model_validate(row)


@app.delete("/v1/billing/payment-methods/<method_id>", responses={204: {"description": "Gone"}})
def detach(method_id: uuid.UUID) -> Response[None]:
    """Remove a saved payment method."""
    with transaction() as session:
        billing.detach_payment_method(session, _uid(), method_id)
    return Response(status_code=204)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
