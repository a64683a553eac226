"""A fake Stripe API at the HTTP layer (respx) plus signed webhook events built from the
realistic payloads in ``events/stripe/``.

    fake = StripeFake()
    with fake.running():                     # respx routes on https://api.stripe.com
        ...code under test uses ecomvideo.clients.stripe_client (SDK over httpx)...
        scenario = fake.scenario(user_id=..., customer_id=..., prices=..., plan_id=..., pack_id=...)
        event = scenario.event("invoice.paid")          # personalised, timestamps ~ now
        body, signature = fake.sign(event)              # Stripe-Signature via the SDK helper

The fake keeps the objects it has seen (a delivered subscription/invoice event updates the
fake's "current" object when it is newer), so code that retrieves the current object from
Stripe gets what Stripe would answer. Requests are decoded from the SDK's form encoding
(``a[b][0][c]=v``); unknown routes answer 404 ``resource_missing`` like Stripe.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import respx

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events" / "stripe"
API_BASE = "https://api.stripe.com"
WEBHOOK_SECRET = "whsec_test_0123456789abcdefghijklmnopqrstuv"
API_KEY = "sk_test_fake_0123456789"

# Ids used by the payload files, replaced per scenario.
T0 = 1764000000
TEMPLATE_USER = "8f14e45f-ceea-4e7a-9f4b-2c1a7f1d3b10"
TEMPLATE_CUSTOMER = "cus_TQx7m2LkP9aBcD"
TEMPLATE_PLAN_ID = "0b7d5a3e-6a43-4a7e-9d55-3c8c9f5e2a11"
TEMPLATE_PACK_ID = "5d2f6c1a-9b7e-4f3d-8a6c-1e2b3c4d5e6f"
TEMPLATE_PRICES = {
    "starter_monthly": "price_1SXa2aLkP9aBcDe0StMon",
    "pro_monthly": "price_1SXa2aLkP9aBcDe0ProMo",
    "pack_100": "price_1SXa2aLkP9aBcDe0Pk100",
}
_SUFFIXED = re.compile(r'"((?:evt|sub|si|in|pi|ch|pm|inpay|il|txn|cs_test|di)_[A-Za-z0-9]+)')
_NUMBER = re.compile(r'"(A1B2C3D4)-(\d{4})"')
_counter = itertools.count(1)


def load_event(name: str) -> dict[str, Any]:
    """A payload file (without ``.json``) as a fresh dict."""
    return json.loads((EVENTS_DIR / f"{name}.json").read_text())


def decode_form(text: str) -> dict[str, Any]:
    """The SDK's ``a[b][0][c]=v`` form encoding back into nested dicts / lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: listify(v) for k, v in node.items()}
            if node and all(k.isdigit() for k in node):
                return [node[k] for k in sorted(node, key=int)]
        return node

    return listify(root)


def _shift_times(node: Any, offset: int) -> Any:
    if isinstance(node, dict):
        return {k: _shift_times(v, offset) for k, v in node.items()}
    if isinstance(node, list):
        return [_shift_times(v, offset) for v in node]
    if (
        isinstance(node, int)
        and not isinstance(node, bool)
        and 1_700_000_000 < node < 1_900_000_000
    ):
        return node + offset
    return node


@dataclass
class Scenario:
    """One customer's world: maps the payload files' ids to this test's ids."""

    fake: StripeFake
    user_id: str
    customer_id: str
    prices: dict[str, str]
    plan_id: str
    pack_id: str
    tag: str = field(default_factory=lambda: f"T{next(_counter):04d}{uuid.uuid4().hex[:6]}")
    now: int = field(default_factory=lambda: int(time.time()))

    def event(self, name: str, *, at: int | None = None, remember: bool = True) -> dict[str, Any]:
        """The payload file personalised; its times shifted so that the file's T0 is ``now``
        (``at`` overrides the event's ``created``). Subscription and invoice objects are
        remembered by the fake as Stripe's current state when newer."""
        text = json.dumps(load_event(name))
        text = text.replace(TEMPLATE_USER, self.user_id)
        text = text.replace(TEMPLATE_CUSTOMER, self.customer_id)
        text = text.replace(TEMPLATE_PLAN_ID, self.plan_id).replace(TEMPLATE_PACK_ID, self.pack_id)
        for key, template_id in TEMPLATE_PRICES.items():
            text = text.replace(template_id, self.prices.get(key, template_id))
        text = _SUFFIXED.sub(lambda m: f'"{m.group(1)}{self.tag}', text)
        text = _NUMBER.sub(lambda m: f'"{m.group(1)}-{self.tag}-{m.group(2)}"', text)
        event = _shift_times(json.loads(text), self.now - T0)
        if at is not None:
            event["created"] = at
        if remember:
            self.fake.remember(event)
        return event

    def id(self, template_id: str) -> str:
        """This scenario's version of an id from the payload files."""
        return f"{template_id}{self.tag}"


class StripeFake:
    """In-memory Stripe: customers, checkout/portal sessions, subscriptions, invoices,
    payment methods, products and prices."""

    def __init__(self) -> None:
        self.customers: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, dict[str, Any]] = {}
        self.checkout_sessions: dict[str, dict[str, Any]] = {}
        self.line_items: dict[str, list[str]] = {}
        self.portal_sessions: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self._versions: dict[str, int] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.invoice_payments: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.payment_methods: dict[str, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.prices: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.fail_next: list[tuple[int, str]] = []

    # ---------------------------------------------------------------- helpers for tests

    def scenario(self, **kwargs: Any) -> Scenario:
        return Scenario(fake=self, **kwargs)

    def remember(self, event: dict[str, Any]) -> None:
        obj = event["data"]["object"]
        kind = obj.get("object")
        store = {
            "subscription": self.subscriptions,
            "invoice": self.invoices,
            "invoice_payment": self.invoice_payments,
            "payment_intent": self.payment_intents,
            "payment_method": self.payment_methods,
        }.get(kind)
        if store is None:
            return
        if event["created"] >= self._versions.get(obj["id"], 0):
            store[obj["id"]] = copy.deepcopy(obj)
            self._versions[obj["id"]] = event["created"]

    @staticmethod
    def sign(event: dict[str, Any], *, secret: str = WEBHOOK_SECRET) -> tuple[str, str]:
        """(raw body, Stripe-Signature) signed with the SDK's test helper."""
        import stripe

        body = json.dumps(event, separators=(",", ":"))
        return body, stripe.WebhookSignature.generate_signature_header(body, secret)

    def calls_to(self, method: str, path_prefix: str) -> list[dict[str, Any]]:
        return [p for m, path, p in self.calls if m == method and path.startswith(path_prefix)]

    @contextmanager
    def running(self) -> Iterator[respx.MockRouter]:
        """Route https://api.stripe.com to this fake and point the layer's client at it."""
        from ecomvideo.clients import stripe_client

        with respx.mock(base_url=API_BASE, assert_all_called=False) as router:
            router.route(host="api.stripe.com").mock(side_effect=self._dispatch)
            stripe_client.set_stripe_client(stripe_client.build_client(API_KEY))
            try:
                yield router
            finally:
                stripe_client.set_stripe_client(None)

    # ---------------------------------------------------------------- HTTP

    def _dispatch(self, request: httpx.Request) -> httpx.Response:
        method, path = request.method, request.url.path
        params = (
            decode_form(request.content.decode())
            if method == "POST"
            else decode_form(request.url.query.decode())
        )
        self.calls.append((method, path, params))
        if self.fail_next:
            status, code = self.fail_next.pop(0)
            return self._error(status, code, "Injected failure")
        for pattern, verb, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if match and verb == method:
                return handler(request, params, *match.groups())
        return self._error(404, "resource_missing", f"Unrecognized request URL ({path}).")

    def _routes(self) -> list[tuple[str, str, Any]]:
        return [
            (r"/v1/customers", "POST", self._create_customer),
            (r"/v1/customers/([^/]+)", "GET", self._get("customers")),
            (r"/v1/customers/([^/]+)", "POST", self._update_customer),
            (r"/v1/checkout/sessions", "POST", self._create_checkout),
            (r"/v1/checkout/sessions/([^/]+)/line_items", "GET", self._line_items),
            (r"/v1/billing_portal/sessions", "POST", self._create_portal),
            (r"/v1/subscriptions/([^/]+)", "GET", self._get("subscriptions")),
            (r"/v1/subscriptions/([^/]+)", "POST", self._update_subscription),
            (r"/v1/subscriptions/([^/]+)", "DELETE", self._cancel_subscription),
            (r"/v1/invoices/([^/]+)", "GET", self._get("invoices")),
            (r"/v1/invoice_payments", "GET", self._list_invoice_payments),
            (r"/v1/payment_intents/([^/]+)", "GET", self._get("payment_intents")),
            (r"/v1/payment_methods/([^/]+)", "GET", self._get("payment_methods")),
            (r"/v1/payment_methods/([^/]+)/detach", "POST", self._detach),
            (r"/v1/products", "POST", self._create_product),
            (r"/v1/products/([^/]+)", "GET", self._get("products")),
            (r"/v1/products/([^/]+)", "POST", self._update("products")),
            (r"/v1/prices", "POST", self._create_price),
            (r"/v1/prices", "GET", self._list_prices),
            (r"/v1/prices/([^/]+)", "GET", self._get("prices")),
            (r"/v1/prices/([^/]+)", "POST", self._update("prices")),
        ]

    @staticmethod
    def _ok(obj: dict[str, Any]) -> httpx.Response:
        return httpx.Response(200, json=obj, headers={"request-id": f"req_{uuid.uuid4().hex[:14]}"})

    @staticmethod
    def _error(status: int, code: str, message: str) -> httpx.Response:
        kind = "invalid_request_error" if status < 500 else "api_error"
        return httpx.Response(
            status, json={"error": {"type": kind, "code": code, "message": message}}
        )

    @staticmethod
    def _new_id(prefix: str) -> str:
        return f"{prefix}_{uuid.uuid4().hex[:24]}"

    def _get(self, store_name: str) -> Any:
        def handler(request: httpx.Request, params: dict, object_id: str) -> httpx.Response:
            store = getattr(self, store_name)
            if object_id not in store:
                return self._error(404, "resource_missing", f"No such object: '{object_id}'")
            return self._ok(store[object_id])

        return handler

    def _update(self, store_name: str) -> Any:
        def handler(request: httpx.Request, params: dict, object_id: str) -> httpx.Response:
            store = getattr(self, store_name)
            if object_id not in store:
                return self._error(404, "resource_missing", f"No such object: '{object_id}'")
            for key, value in params.items():
                store[object_id][key] = _coerce(value)
            return self._ok(store[object_id])

        return handler

    def _create_customer(self, request: httpx.Request, params: dict) -> httpx.Response:
        key = request.headers.get("idempotency-key")
        if key and key in self.idempotency:
            return self._ok(self.idempotency[key])
        customer = {
            "id": self._new_id("cus"),
            "object": "customer",
            "email": params.get("email"),
            "name": params.get("name"),
            "metadata": params.get("metadata", {}),
            "invoice_settings": {"default_payment_method": None},
            "created": int(time.time()),
        }
        self.customers[customer["id"]] = customer
        if key:
            self.idempotency[key] = customer
        return self._ok(customer)

    def _update_customer(self, request: httpx.Request, params: dict, cid: str) -> httpx.Response:
        if cid not in self.customers:
            return self._error(404, "resource_missing", f"No such customer: '{cid}'")
        customer = self.customers[cid]
        default = (params.get("invoice_settings") or {}).get("default_payment_method")
        if default is not None:
            if default not in self.payment_methods:
                return self._error(400, "resource_missing", "No such PaymentMethod")
            customer["invoice_settings"]["default_payment_method"] = default
        return self._ok(customer)

    def _create_checkout(self, request: httpx.Request, params: dict) -> httpx.Response:
        if params.get("customer") not in self.customers:
            return self._error(400, "resource_missing", "No such customer")
        cs_id = f"cs_test_{uuid.uuid4().hex}"
        session = {
            "id": cs_id,
            "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/{cs_id}",
            "status": "open",
            **params,
        }
        self.checkout_sessions[cs_id] = session
        return self._ok(session)

    def _line_items(self, request: httpx.Request, params: dict, cs_id: str) -> httpx.Response:
        """A session's line items: set by a test (``line_items[cs_id] = [price ids]``) or
        the ``line_items`` the session was created with."""
        if cs_id in self.line_items:
            wanted = [{"price": p, "quantity": 1} for p in self.line_items[cs_id]]
        elif cs_id in self.checkout_sessions:
            wanted = self.checkout_sessions[cs_id].get("line_items") or []
        else:
            return self._error(404, "resource_missing", f"No such checkout.session: '{cs_id}'")
        data = []
        for n, line in enumerate(wanted):
            price = self.prices.get(line["price"], {"id": line["price"], "object": "price"})
            data.append(
                {
                    "id": f"li_{cs_id[-12:]}{n}",
                    "object": "item",
                    "price": copy.deepcopy(price),
                    "quantity": int(line.get("quantity") or 1),
                }
            )
        url = f"/v1/checkout/sessions/{cs_id}/line_items"
        return self._ok({"object": "list", "data": data, "has_more": False, "url": url})

    def _create_portal(self, request: httpx.Request, params: dict) -> httpx.Response:
        portal_id = self._new_id("bps")
        portal = {
            "id": portal_id,
            "object": "billing_portal.session",
            "customer": params.get("customer"),
            "return_url": params.get("return_url"),
            "url": f"https://billing.stripe.com/p/session/test_{portal_id}",
        }
        self.portal_sessions[portal_id] = portal
        return self._ok(portal)

    def _update_subscription(
        self, request: httpx.Request, params: dict, sid: str
    ) -> httpx.Response:
        sub = self.subscriptions.get(sid)
        if sub is None:
            return self._error(404, "resource_missing", f"No such subscription: '{sid}'")
        if sub["status"] == "canceled":
            return self._error(400, "subscription_canceled", "The subscription is canceled.")
        if "cancel_at_period_end" in params:
            flag = params["cancel_at_period_end"] == "true"
            sub["cancel_at_period_end"] = flag
            end = sub["items"]["data"][0]["current_period_end"]
            sub["cancel_at"] = end if flag else None
            sub["canceled_at"] = int(time.time()) if flag else None
        for item in params.get("items") or []:
            for existing in sub["items"]["data"]:
                if existing["id"] == item.get("id") and item.get("price"):
                    price = self.prices.get(item["price"], {"id": item["price"]})
                    existing["price"] = copy.deepcopy(price)
        self._versions[sid] = int(time.time())
        return self._ok(sub)

    def _cancel_subscription(
        self, request: httpx.Request, params: dict, sid: str
    ) -> httpx.Response:
        sub = self.subscriptions.get(sid)
        if sub is None:
            return self._error(404, "resource_missing", f"No such subscription: '{sid}'")
        now = int(time.time())
        sub.update(status="canceled", canceled_at=now, ended_at=now, cancel_at_period_end=False)
        return self._ok(sub)

    def _detach(self, request: httpx.Request, params: dict, pm_id: str) -> httpx.Response:
        pm = self.payment_methods.get(pm_id)
        if pm is None:
            return self._error(404, "resource_missing", f"No such PaymentMethod: '{pm_id}'")
        pm["customer"] = None
        return self._ok(pm)

    def _create_product(self, request: httpx.Request, params: dict) -> httpx.Response:
        product_id = params.get("id") or self._new_id("prod")
        if product_id in self.products:
            return self._error(400, "resource_already_exists", "Product already exists.")
        product = {
            "id": product_id,
            "object": "product",
            "active": params.get("active", "true") == "true",
            "name": params.get("name"),
            "description": params.get("description"),
            "metadata": params.get("metadata", {}),
        }
        self.products[product_id] = product
        return self._ok(product)

    def _list_invoice_payments(self, request: httpx.Request, params: dict) -> httpx.Response:
        data = [
            p for p in self.invoice_payments.values() if p.get("invoice") == params.get("invoice")
        ]
        url = "/v1/invoice_payments"
        return self._ok({"object": "list", "url": url, "data": data, "has_more": False})

    def _list_prices(self, request: httpx.Request, params: dict) -> httpx.Response:
        """Newest first like Stripe, ``limit`` + ``starting_after`` pagination."""
        ordered = list(reversed(self.prices.values()))
        if params.get("active") in ("true", "false"):
            ordered = [p for p in ordered if p["active"] == (params["active"] == "true")]
        after = params.get("starting_after")
        if after:
            ids = [p["id"] for p in ordered]
            ordered = ordered[ids.index(after) + 1 :] if after in ids else []
        limit = int(params.get("limit") or 10)
        data = ordered[:limit]
        return self._ok(
            {"object": "list", "url": "/v1/prices", "data": data, "has_more": len(ordered) > limit}
        )

    def _create_price(self, request: httpx.Request, params: dict) -> httpx.Response:
        if params.get("product") not in self.products:
            return self._error(400, "resource_missing", "No such product")
        price_id = self._new_id("price")
        recurring = params.get("recurring")
        price = {
            "id": price_id,
            "object": "price",
            "active": True,
            "currency": params.get("currency"),
            "product": params.get("product"),
            "unit_amount": int(params.get("unit_amount", 0)),
            "lookup_key": params.get("lookup_key"),
            "metadata": params.get("metadata", {}),
            "type": "recurring" if recurring else "one_time",
            "recurring": (
                {"interval": recurring.get("interval"), "interval_count": 1} if recurring else None
            ),
        }
        self.prices[price_id] = price
        return self._ok(price)


def _coerce(value: Any) -> Any:
    if value in ("true", "false"):
        return value == "true"
    return value
