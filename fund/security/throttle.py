"""A small rate limiter on the shared cache, for public forms (e.g. starting a card payment).

Only a keyed hash (HMAC with SECRET_KEY) of what is counted reaches the cache, never a client
address or an e-mail address: a cache dump tells nothing about who came. Counting is a sliding
window estimated from two fixed windows (this one, and the last weighted by how much of it still
overlaps), so a burst across a window's edge is not let through twice. The database cache counts
with a read and a write, so a few concurrent requests may slip past the limit; the limit bounds
abuse, it is not an exact quota.
"""

import ipaddress
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

# IPv6 clients are counted by their /64: one home or one server gets a whole /64 to pick from.
IPV6_PREFIX = 64


def allow(scope: str, key: str, limit: int, seconds: int) -> bool:
    """Count one attempt of `key` in `scope`; return whether it is within `limit` per `seconds`.

    The attempt is counted even when refused, so hammering a closed door keeps it closed.
    """
    digest = salted_hmac(f"fund.security.throttle:{scope}", key, algorithm="sha256").hexdigest()
    now = time.time()
    window, into = divmod(now, seconds)
    current = f"throttle:{scope}:{digest}:{int(window)}"
    previous = f"throttle:{scope}:{digest}:{int(window) - 1}"
    cache.add(current, 0, timeout=2 * seconds)
    try:
        count = cache.incr(current)
    except ValueError:  # expired between add and incr
        cache.set(current, 1, timeout=2 * seconds)
        count = 1
    earlier: int = cache.get(previous, 0)
    return bool(count + earlier * (1 - into / seconds) <= limit)


def client_address(request: HttpRequest) -> str:
    """Return the client's address as the sign-in limits see it (TRUSTED_PROXY_COUNT), to count by.

    An IPv6 address stands for its /64 network. Never store or log what this returns.
    """
    address = request.META.get("REMOTE_ADDR") or ""
    proxies = settings.ALLAUTH_TRUSTED_PROXY_COUNT
    forwarded = request.headers.get("X-Forwarded-For", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        parsed = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return "unknown"
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_PREFIX}", strict=False))
    return str(parsed)
