"""Whether a host name means this machine, however it is spelled.

The broker is configured as ``localhost`` by default while a consumer on the same box hands out
``http://127.0.0.1:…`` upload URLs; doctor, the mirror's upload check and the consumer all need
to see that these are one host (and that nothing sent there crosses the network).
"""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (``127.0.0.0/8``, ``::1``, with or without brackets)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
