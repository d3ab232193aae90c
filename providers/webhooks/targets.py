"""Which webhook urls and addresses may be sent to: a receiver must not be a way into our own network.

A url is checked when an endpoint is created (its scheme, and its host when that is an address or a
local name); a host name is checked again at each delivery, on the addresses it resolves to then, and
only those checked addresses are connected to (resolver.py), so a name that later points inwards
(DNS rebinding) is refused too.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class TargetRules:
    """production: https:// to public addresses only. development: also http:// and loopback, for a
    receiver on the developer's machine. allow_private (TRUNKLINE_WEBHOOK_ALLOW_PRIVATE): any address,
    http:// or https://."""

    production: bool = False
    allow_private: bool = False

    def address_allowed(self, address: Address) -> bool:
        if self.allow_private:
            return True
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if address.is_loopback:
            return not self.production
        return address.is_global and not (address.is_multicast or address.is_reserved or address.is_link_local)

    def format_problem(self, url: str) -> str | None:
        """Why `url` is not an absolute http(s) url we can show and send to, or None."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return "must be an absolute https:// url"
        if parts.scheme not in ("http", "https") or not _host(parts.hostname) or port == 0:
            return "must be an absolute https:// url"
        if parts.username is not None or parts.password is not None:
            return "must not carry a user name or password"  # it would be shown wherever the url is
        return None

    def safety_problem(self, url: str) -> str | None:
        """Why these rules refuse a well-formed `url`, or None; a host name is judged by its addresses
        when it is resolved (resolver.CheckedResolver), except local names."""
        parts = urlsplit(url)
        host = _host(parts.hostname)
        address = _address(host)
        loopback = host == "localhost" or host.endswith(".localhost") or (address is not None and address.is_loopback)
        if loopback and self.production and not self.allow_private:
            return "must not point at this machine"
        if address is not None and not self.address_allowed(address):
            return "must not point at a private, loopback, link-local, multicast or reserved address"
        if parts.scheme == "http" and not (self.allow_private or (loopback and not self.production)):
            return "must use https://" + ("" if self.production else " (http:// only to localhost)")
        return None


def _host(hostname: str | None) -> str:
    return (hostname or "").rstrip(".")


def _address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
