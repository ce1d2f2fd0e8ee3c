"""A local Stripe for the deposit tests: the real `stripe` library talks to it (no internet here).

Only what deposits use: Checkout Sessions (create, retrieve, expire), refunds, a hosted checkout
page with a Pay button, and signed events. Objects and errors keep the shapes of Stripe's API
reference, so the app's code cannot tell the difference; anything else answers Stripe's 404.

State lives in memory, one FakeStripe per test (tests/payments/conftest.py). The server is
threaded: a "timeout" failure sleeps in its own thread while other requests are served.
"""

import contextlib
import copy
import json
import re
import secrets
import string
import threading
import time
from collections import deque
from html import escape
from typing import NamedTuple

import requests
import stripe
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.payments.signing import signed

MIN_EXPIRY = 30 * 60  # expires_at: Stripe accepts 30 minutes to 24 hours from now
MAX_EXPIRY = 24 * 60 * 60

# fail_next(kind): the canned answers, as Stripe words them (the status picks the library's error).
FAILURES = {
    "server_error": (500, {"type": "api_error", "message": "An unknown error occurred"}),
    "card_error": (
        402,
        {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "generic_decline",
            "message": "Your card was declined.",
            "param": "",
        },
    ),
    "invalid": (
        400,
        {"type": "invalid_request_error", "message": "Invalid request (fake_stripe.fail_next)."},
    ),
    "rate_limit": (
        429,
        {
            "type": "invalid_request_error",
            "code": "rate_limit",
            "message": "Too many requests hit the API too quickly.",
        },
    ),
}


class ApiError(Exception):
    """Stripe's error answer: the status and the "error" object."""

    def __init__(self, status: int, message: str, *, param=None, code=None, type=None):
        super().__init__(message)
        self.status = status
        self.body = {"type": type or "invalid_request_error", "message": message}
        if param is not None:
            self.body["param"] = param
        if code is not None:
            self.body["code"] = code


def _missing(kind: str, id: str, param: str) -> ApiError:
    return ApiError(404, f"No such {kind}: '{id}'", param=param, code="resource_missing")


class _Request(NamedTuple):
    method: str
    path: str
    params: dict
    idempotency_key: str | None


class Call(_Request):
    """One API request as the fake received it: (method, path, params, idempotency_key).

    `params` are nested as the caller passed them ({"metadata": {"booking": "7"}}); `.raw` keeps
    the form's flat pairs ([("metadata[booking]", "7")]), for asserting on the encoding itself.
    """

    raw: list


def new_id(prefix: str, length: int = 24) -> str:
    """A Stripe-looking id: cs_test_..., pi_..., re_..., evt_..."""
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def nest(pairs) -> dict:
    """Stripe's form encoding undone: `line_items[0][price_data][unit_amount]=5000` pairs as the
    dicts and lists the caller passed (values stay strings, as Stripe receives them; a dict whose
    keys are all digits reads as a list, so avoid metadata keys like "0")."""
    root: dict = {}
    for key, value in pairs:
        *parents, last = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    node = {k: _listify(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node


def _positive_int(value, param: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        raise ApiError(400, f"Invalid positive integer: {value!r}", param=param)
    return number


class FakeStripe:
    """Stripe's API for Checkout and refunds, on `server` (a started pytest_httpserver)."""

    def __init__(
        self,
        server: HTTPServer,
        *,
        api_key: str = "sk_test_local",
        secret: str = "whsec_test_local",  # noqa: S107 (a test value, signs local events only)
        checkout_origin: str | None = None,
        webhook_url: str | None = None,
        timeout_delay: float = 3.0,
    ):
        self.server = server
        self.api_key = api_key
        self.secret = secret  # the webhook signing secret
        self.origin = server.url_for("").rstrip("/")
        self.checkout_origin = checkout_origin or self.origin
        self.webhook_url = webhook_url  # where a Pay on the checkout page delivers its event
        self.timeout_delay = timeout_delay  # how late a "timeout" answers (beyond the client's)
        self.sessions: dict[str, dict] = {}
        self.payment_intents: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.events: list[dict] = []  # every event made, delivered or not
        self.deliveries: list[tuple[dict, int | None]] = []  # (event, HTTP status or None)
        self.calls: list[Call] = []
        self._failures: deque[str] = deque()
        self._replays: dict[str, tuple] = {}  # Idempotency-Key: (request, status, body)
        self._lock = threading.RLock()  # the server is threaded
        self._closing = threading.Event()
        self._routes = [
            ("POST", r"/v1/checkout/sessions", self._create_session),
            ("GET", r"/v1/checkout/sessions/([^/]+)", self._retrieve_session),
            ("POST", r"/v1/checkout/sessions/([^/]+)/expire", self._expire_session),
            ("POST", r"/v1/refunds", self._create_refund),
            ("GET", r"/v1/refunds/([^/]+)", self._retrieve_refund),
        ]
        server.expect_request(re.compile(r"/v1/.*")).respond_with_handler(self._api)
        server.expect_request(re.compile(r"/c/pay/[^/]+")).respond_with_handler(self._page)

    # -- What tests call ---------------------------------------------------------------------

    def fail_next(self, kind: str, times: int = 1) -> None:
        """Make the next `times` API calls fail: "timeout", "server_error", "card_error",
        "invalid" or "rate_limit". A timeout still does the work (Stripe got the request; only
        its answer comes too late), which is what makes retrying with the same key matter."""
        if kind != "timeout" and kind not in FAILURES:
            raise ValueError(f"unknown failure {kind!r}")
        self._failures.extend([kind] * times)

    def pay(self, session_id: str) -> dict:
        """Pay an open session as a customer would; the checkout.session.completed event (not
        delivered: pass it to deliver() or tests/payments/signing.signed_post)."""
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] != "open":
                raise ValueError(f"{session_id} is {session['status']}, not open")
            intent = {
                "id": new_id("pi_"),
                "object": "payment_intent",
                "amount": session["amount_total"],
                "amount_received": session["amount_total"],
                "currency": session["currency"],
                "status": "succeeded",
                "latest_charge": new_id("ch_"),
                "metadata": session.pop("_intent_metadata", {}),
                "created": int(time.time()),
                "livemode": False,
            }
            self.payment_intents[intent["id"]] = intent
            session.update(
                status="complete", payment_status="paid", payment_intent=intent["id"], url=None
            )
            return self.event("checkout.session.completed", session)

    def expire(self, session_id: str) -> dict:
        """Expire an open session as Stripe does at expires_at; the checkout.session.expired event
        (not delivered)."""
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] != "open":
                raise ValueError(f"{session_id} is {session['status']}, not open")
            session.update(status="expired", url=None)
            return self.event("checkout.session.expired", session)

    def refund_event(self, refund: str | dict, type: str = "refund.created") -> dict:
        """An event about a refund made earlier (its id, or the refund itself)."""
        return self.event(type, self.refunds[refund] if isinstance(refund, str) else refund)

    def event(self, type: str, obj: dict) -> dict:
        """A Stripe Event carrying a snapshot of `obj`, as webhooks deliver it."""
        event = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": stripe.api_version,
            "created": int(time.time()),
            "data": {"object": _public(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
        }
        self.events.append(event)
        return event

    def deliver(self, event: dict, url: str | None = None) -> requests.Response:
        """POST `event`, signed with `secret`, to `url` (webhook_url if None), as Stripe does."""
        body, headers = signed(event, self.secret)
        try:
            response = requests.post(
                url or self.webhook_url, data=body, headers=headers, timeout=30
            )
        except requests.RequestException:
            self.deliveries.append((event, None))
            raise
        self.deliveries.append((event, response.status_code))
        return response

    def close(self) -> None:
        """Wake any "timeout" still sleeping, so the server can move on to the next test."""
        self._closing.set()

    # -- The API -----------------------------------------------------------------------------

    def _api(self, request: Request) -> Response:
        params = list(
            (request.form if request.method == "POST" else request.args).items(multi=True)
        )
        key = request.headers.get("Idempotency-Key")
        call = Call(request.method, request.path, nest(params), key)
        call.raw = params
        with self._lock:
            self.calls.append(call)
            failure = self._failures.popleft() if self._failures else None
            if failure in FAILURES:
                status, error = FAILURES[failure]
                return _json(status, {"error": dict(error)})
            status, body, replayed = self._answer(request, call)
        if failure == "timeout":
            self._closing.wait(self.timeout_delay)  # the client has given up by now
        response = _json(status, body)
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return response

    def _answer(self, request: Request, call: Call) -> tuple[int, dict, bool]:
        """(status, body, replayed): a saved answer for a repeated Idempotency-Key, or a new one."""
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            key = request.headers.get("Authorization", "").removeprefix("Bearer ")
            return 401, _error(401, f"Invalid API Key provided: {key[:8]}***"), False
        signature = (call.method, call.path, sorted(call.raw))
        if call.method == "POST" and call.idempotency_key in self._replays:
            first, status, body = self._replays[call.idempotency_key]
            if first != signature:
                message = (
                    "Keys for idempotent requests can only be used with the same parameters "
                    f"they were first used with. Try using a key other than "
                    f"'{call.idempotency_key}' if you meant to execute a different request."
                )
                return 400, _error(400, message, type="idempotency_error"), False
            return status, body, True
        status, body = self._route(call)
        # Stripe saves an answer once the endpoint ran; a request it refused may be retried.
        if call.method == "POST" and call.idempotency_key and status < 400:
            self._replays[call.idempotency_key] = (signature, status, body)
        return status, body, False

    def _route(self, call: Call) -> tuple[int, dict]:
        for method, pattern, handler in self._routes:
            match = re.fullmatch(pattern, call.path)
            if match and method == call.method:
                try:
                    obj = handler(call.params, *match.groups())
                except ApiError as e:
                    return e.status, {"error": e.body}
                return 200, self._expand(obj, call.params.get("expand") or [])
        message = (
            f"Unrecognized request URL ({call.method}: {call.path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/."
        )
        return 404, _error(404, message)

    def _expand(self, obj: dict, fields: list[str]) -> dict:
        """A copy of `obj` as sent, with `expand[]` fields (only payment_intent) as objects."""
        obj = _public(obj)
        for field in fields:
            if field == "payment_intent" and obj.get("payment_intent"):
                obj["payment_intent"] = copy.deepcopy(self.payment_intents[obj["payment_intent"]])
        return obj

    def _create_session(self, p: dict) -> dict:
        if p.get("mode") != "payment":
            message = "Missing required param: mode." if "mode" not in p else "Only mode=payment."
            raise ApiError(400, message, param="mode")
        for param in ("success_url", "line_items"):
            if not p.get(param):
                raise ApiError(400, f"Missing required param: {param}.", param=param)
        total, currencies = 0, set()
        for i, item in enumerate(p["line_items"]):
            if "price" in item:  # the fake has no catalogue: prices come inline
                raise _missing("price", item["price"], f"line_items[{i}][price]")
            data = item.get("price_data") or {}
            unit = _positive_int(data.get("unit_amount"), f"line_items[{i}][price_data]")
            total += unit * _positive_int(item.get("quantity", 1), f"line_items[{i}][quantity]")
            currencies.add(str(data.get("currency", "")).lower())
        if len(currencies) != 1 or "" in currencies:
            raise ApiError(400, "All line items need the same currency.", param="line_items")
        now = int(time.time())
        expires_at = _positive_int(p.get("expires_at", now + MAX_EXPIRY), "expires_at")
        if expires_at < now + MIN_EXPIRY:
            message = "The `expires_at` timestamp must be at least 30 minutes from Checkout "
            raise ApiError(400, message + "Session creation.", param="expires_at")
        if expires_at > now + MAX_EXPIRY:
            message = "The `expires_at` timestamp must be less than 24 hours from Checkout "
            raise ApiError(400, message + "Session creation.", param="expires_at")
        sid = new_id("cs_test_", 58)
        session = {
            "id": sid,
            "object": "checkout.session",
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": p.get("cancel_url"),
            "client_reference_id": p.get("client_reference_id"),
            "created": now,
            "currency": currencies.pop(),
            "customer_email": p.get("customer_email"),
            "expires_at": expires_at,
            "livemode": False,
            "locale": p.get("locale"),
            "metadata": p.get("metadata") or {},
            "mode": "payment",
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": p["success_url"],
            "url": f"{self.checkout_origin}/c/pay/{sid}",
            # Not sent (keys starting "_" never are): given to the payment intent when paid.
            "_intent_metadata": (p.get("payment_intent_data") or {}).get("metadata") or {},
        }
        self.sessions[sid] = session
        return session

    def _retrieve_session(self, p: dict, sid: str) -> dict:
        if sid not in self.sessions:
            raise _missing("checkout.session", sid, "session")
        return self.sessions[sid]

    def _expire_session(self, p: dict, sid: str) -> dict:
        session = self._retrieve_session(p, sid)
        if session["status"] != "open":
            message = 'Only Checkout Sessions with a status in ["open"] can be expired.'
            raise ApiError(400, message)
        self.expire(sid)  # the event is made; tests deliver it themselves if they want it
        return session

    def _create_refund(self, p: dict) -> dict:
        pid = p.get("payment_intent")
        if not pid:
            raise ApiError(400, "Missing required param: payment_intent.", param="payment_intent")
        if pid not in self.payment_intents:
            raise _missing("payment_intent", pid, "payment_intent")
        intent = self.payment_intents[pid]
        refunded = sum(
            r["amount"]
            for r in self.refunds.values()
            if r["payment_intent"] == pid and r["status"] != "failed"
        )
        left = intent["amount_received"] - refunded
        if left <= 0:
            message = f"Charge {intent['latest_charge']} has already been refunded."
            raise ApiError(400, message, code="charge_already_refunded")
        amount = _positive_int(p["amount"], "amount") if "amount" in p else left
        if amount > left:
            message = (
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})"
            )
            raise ApiError(400, message, param="amount")
        refund = {
            "id": new_id("re_"),
            "object": "refund",
            "amount": amount,
            "charge": intent["latest_charge"],
            "created": int(time.time()),
            "currency": intent["currency"],
            "metadata": p.get("metadata") or {},
            "payment_intent": pid,
            "reason": p.get("reason"),
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        return refund

    def _retrieve_refund(self, p: dict, rid: str) -> dict:
        if rid not in self.refunds:
            raise _missing("refund", rid, "refund")
        return self.refunds[rid]

    # -- The hosted checkout page --------------------------------------------------------------

    def _page(self, request: Request) -> Response:
        """Stripe's hosted page, reduced to the amount, Pay and Back (no outside resources)."""
        sid = request.path.rsplit("/", 1)[1]
        session = self.sessions.get(sid)
        if session is None:
            return _html(404, "<h1>Something went wrong</h1><p>This page was not found.</p>")
        if request.method == "POST" and session["status"] == "open":
            event = self.pay(sid)
            if self.webhook_url:  # outside the lock: the app may call back into the API
                # A failure is recorded in deliveries; Stripe would retry later, and still redirect.
                with contextlib.suppress(requests.RequestException):
                    self.deliver(event)
            success = session["success_url"].replace("{CHECKOUT_SESSION_ID}", sid)
            return Response(status=303, headers={"Location": success})
        amount = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}"
        if session["status"] == "open":
            button = '<button type="submit">Pay</button>'
            pay = f'<form method="post" action="/c/pay/{sid}">{button}</form>'
        else:
            pay = "<p>This Checkout Session is no longer active.</p>"
        back = f'<a href="{escape(session["cancel_url"] or "")}">Back</a>'
        status = 200 if request.method == "GET" else 400
        return _html(status, f"<h1>Pay {amount}</h1>{pay}{back}")


def _public(obj: dict) -> dict:
    """A deep copy of `obj` as Stripe sends it (without the fake's own "_" keys)."""
    return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}


def _error(status: int, message: str, **kwargs) -> dict:
    return {"error": ApiError(status, message, **kwargs).body}


def _json(status: int, body: dict) -> Response:
    headers = {"Request-Id": new_id("req_", 14), "Stripe-Version": stripe.api_version}
    return Response(json.dumps(body), status, headers, mimetype="application/json")


def _html(status: int, body: str) -> Response:
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        # No icon: the browser would ask this server for /favicon.ico, which it does not serve.
        '<link rel="icon" href="data:,">'
        f"<title>Checkout (fake Stripe)</title></head><body><main>{body}</main></body></html>"
    )
    return Response(page, status, mimetype="text/html")
