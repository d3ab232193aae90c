"""Who is asking, for limits kept per client: the socket's peer, unless that peer is a proxy we were
told to trust (TRUNKLINE_TRUSTED_PROXIES); then the right-most address in X-Forwarded-For that is not
a trusted proxy. Addresses left of it were written by the client and prove nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import Scope


class ClientAddress:
    def __init__(self, trusted_proxies: Iterable[str]) -> None:
        self.trusted = [ipaddress.ip_network(network) for network in trusted_proxies]

    def is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def of(self, scope: Scope) -> str:
        peer = (scope.get("client") or ("unknown", 0))[0]
        if not self.trusted or not self.is_trusted(peer):  # most deployments trust no proxy: no parsing then
            return peer
        forwarded = ",".join(Headers(scope=scope).getlist("x-forwarded-for"))
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self.is_trusted(hop):
                return hop
        # Every hop is a trusted proxy (or none was given): the farthest one is the best we know.
        return hops[0] if hops else peer
