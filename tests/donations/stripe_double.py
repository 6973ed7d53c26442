"""An in-process HTTP double of the few Stripe API endpoints the gateway calls.

The real stripe-python client talks to it over HTTP (STRIPE_API_BASE), so requests are encoded,
versioned and retried exactly as they would be against Stripe. It answers with objects built on
Stripe's published examples (tests/donations/stripe_objects.py) and records every request, so a
test can check what was sent (parameters, idempotency keys, the API version).
"""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.donations import stripe_objects as so

Object = dict[str, Any]


@dataclass
class Request:
    method: str
    path: str
    params: list[tuple[str, str]]
    headers: dict[str, str]

    def param(self, name: str) -> str | None:
        return next((value for key, value in self.params if key == name), None)


@dataclass
class StripeDouble:
    """What the double knows and has been asked; tests fill in the objects they need."""

    url: str = ""
    requests: list[Request] = field(default_factory=list)
    payment_intents: dict[str, Object] = field(default_factory=dict)
    invoice_payments: dict[str, list[Object]] = field(default_factory=dict)
    payout_transactions: dict[str, list[Object]] = field(default_factory=dict)
    events: list[Object] = field(default_factory=list)
    # Answer the next N requests with this status (e.g. 500, to exercise retries).
    fail_next: list[int] = field(default_factory=list)

    def set_fee(self, payment_intent: str, *, amount: int, fee: int) -> str:
        """Make the payment intent's charge carry a balance transaction with this fee."""
        charge_id = so.new_id("ch")
        txn = so.balance_transaction(amount=amount, fee=fee, source=charge_id)
        intent = so.payment_intent(amount=amount, metadata={}, id_=payment_intent)
        intent["latest_charge"] = {
            **so.charge(amount=amount, payment_intent=payment_intent, id_=charge_id),
            "balance_transaction": txn,
        }
        self.payment_intents[payment_intent] = intent
        return str(txn["id"])

    def calls(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # Answers, by route

    def answer(self, request: Request) -> tuple[int, Object]:
        if self.fail_next:
            return self.fail_next.pop(0), _error("The double was told to fail.", "api_error")
        parts = request.path.strip("/").split("/")
        if request.method == "POST" and request.path == "/v1/checkout/sessions":
            session_id = so.new_id("cs")
            return 200, so.example(
                "checkout.session",
                id=session_id,
                url=f"https://checkout.stripe.test/c/pay/{session_id}",
                mode=request.param("mode"),
                metadata={
                    "fund": request.param("metadata[fund]"),
                    "donation": request.param("metadata[donation]"),
                },
            )
        if request.method == "GET" and parts[:2] == ["v1", "payment_intents"] and len(parts) == 3:
            intent = self.payment_intents.get(parts[2])
            if intent is None:
                return 404, _error(f"No such payment_intent: '{parts[2]}'", "invalid_request_error")
            return 200, intent
        if request.method == "GET" and request.path == "/v1/invoice_payments":
            invoice = request.param("invoice") or ""
            return 200, _list(self.invoice_payments.get(invoice, []), "/v1/invoice_payments")
        if request.method == "GET" and request.path == "/v1/balance_transactions":
            found = self.payout_transactions.get(request.param("payout") or "", [])
            return 200, _page(found, request, "/v1/balance_transactions")
        if request.method == "GET" and request.path == "/v1/events":
            return 200, _page(self.events, request, "/v1/events")
        if request.method == "POST" and request.path == "/v1/billing_portal/sessions":
            return 200, so.example(
                "billing_portal.session",
                id=so.new_id("bps"),
                customer=request.param("customer"),
                return_url=request.param("return_url"),
                url=f"https://billing.stripe.test/p/session/{so.new_id('bps')}",
            )
        return 404, _error(
            f"Unrecognized request URL ({request.method}: {request.path}).", "invalid_request_error"
        )


def _error(message: str, kind: str) -> Object:
    return {"error": {"message": message, "type": kind}}


def _list(data: list[Object], url: str) -> Object:
    return {"object": "list", "data": data, "has_more": False, "url": url}


def _page(data: list[Object], request: Request, url: str) -> Object:
    limit = int(request.param("limit") or 10)
    after = request.param("starting_after")
    start = next((i + 1 for i, o in enumerate(data) if o["id"] == after), 0) if after else 0
    chunk = data[start : start + limit]
    return {"object": "list", "data": chunk, "has_more": start + limit < len(data), "url": url}


def start() -> tuple[StripeDouble, ThreadingHTTPServer]:
    """Serve a fresh double on a free loopback port."""
    double = StripeDouble()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            params = parse_qsl(split.query, keep_blank_values=True)
            params += parse_qsl(body, keep_blank_values=True)
            request = Request(self.command, split.path, params, dict(self.headers.items()))
            double.requests.append(request)
            status, answer = double.answer(request)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Request-Id", so.new_id("req"))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the test output is the tests'

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    double.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return double, server
