"""The client's address, as every throttle, block and audit record must see it.

Behind reverse proxies ``REMOTE_ADDR`` is the last proxy, and the client's address is in
``X-Forwarded-For``, which the client itself can also write. Only the hops our own proxies appended are
believed, counted from the right:

* ``NUM_PROXIES`` (default 0): how many reverse proxies (load balancer, ingress, ...) stand in front of the
  application and append to ``X-Forwarded-For``. 0 means the header is ignored and ``REMOTE_ADDR`` is the
  client. With 1, the client is the last address of the header (the one our proxy appended); anything a client
  wrote to the left of it is ignored.
* ``TRUSTED_PROXIES`` (default empty): addresses or CIDR ranges of our proxies. When set, the header is read
  only from a peer in that list (a request that reached the application directly keeps its ``REMOTE_ADDR``),
  and the client is the right-most address that is not a trusted proxy.

DRF's own ``get_ident`` reads the same ``NUM_PROXIES`` (``REST_FRAMEWORK["NUM_PROXIES"]``), and our throttles
call :func:`client_ip`, so a spoofed header changes no limit and no block.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in spec if item.strip())


def trusted_networks() -> tuple[Network, ...]:
    value = getattr(settings, "TRUSTED_PROXIES", ()) or ()
    if isinstance(value, str):
        value = value.split(",")
    return _networks(tuple(value))


def _address(value: str) -> str | None:
    """A normalised IP address out of one header entry (``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``), or None."""
    value = value.strip().strip('"')
    if value.startswith("["):  # [v6]:port
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:  # v4:port
        value = value.partition(":")[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in networks)


def client_ip(request) -> str:
    """The client's IP address (``""`` when the server gave none), believing only our own proxies' hops."""
    meta = request.META
    peer = meta.get("REMOTE_ADDR") or ""
    hops = int(getattr(settings, "NUM_PROXIES", 0) or 0)
    if hops <= 0 and not getattr(settings, "TRUSTED_PROXIES", None):
        return peer  # the common case, and the hot paths': no parsing at all
    networks = trusted_networks()
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if not forwarded:
        return peer
    chain: list[str] = []
    for entry in forwarded.split(","):
        address = _address(entry)
        # A hop that is not an address makes everything to its left unreadable: only what follows counts.
        chain = [] if address is None else [*chain, address]
    peer_address = _address(peer)
    if peer_address is None:
        return peer
    chain.append(peer_address)
    if networks:
        if not _is_trusted(peer_address, networks):
            return peer_address  # reached us directly: its header is its own word
        for address in reversed(chain):
            if not _is_trusted(address, networks):
                return address
        return chain[0]
    # NUM_PROXIES: the peer is our last proxy; each of ours appended one address.
    return chain[max(0, len(chain) - 1 - hops)]
