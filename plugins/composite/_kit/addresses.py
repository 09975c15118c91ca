"""IPv4 addresses and networks ZIA can block: what remediation blocks and reverse unblocks."""

from __future__ import annotations

import ipaddress

from .lookups import check_cidr

__all__ = ["INTERNAL_NETWORKS", "blockable_address"]

_WIDEST_PREFIX = 8  # a network wider than /8 blocks a large part of the internet: never
INTERNAL_NETWORKS = tuple((ipaddress.ip_network(net), label) for net, label in (
    ("0.0.0.0/8", "'this network'"), ("10.0.0.0/8", "RFC 1918 private"),
    ("100.64.0.0/10", "carrier-grade NAT shared space"), ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"), ("172.16.0.0/12", "RFC 1918 private"),
    ("192.168.0.0/16", "RFC 1918 private")))


def blockable_address(allow_private: bool):
    """A check for `checked`: an IPv4 address or network ZIA can block, in canonical form."""

    def check(text: str) -> str:
        value = check_cidr(text)
        network = ipaddress.ip_network(value)
        if network.version == 6:
            raise ValueError(f"{text!r} is IPv6: ZIA destination IP groups hold IPv4 addresses only, and OneAPI "
                             "has no operation that creates an IPv6 destination group")
        if network.prefixlen < _WIDEST_PREFIX:
            raise ValueError(f"{text!r} spans {network.num_addresses:,} addresses; networks wider than "
                             f"/{_WIDEST_PREFIX} are refused")
        if not allow_private:
            for internal, label in INTERNAL_NETWORKS:
                if network.overlaps(internal):
                    raise ValueError(
                        f"{text!r} is in {internal}, a {label} range: a BLOCK rule on it can cut the tenant's users "
                        "off from their own networks (blocking 10.0.0.0/8 stops internal traffic that goes through "
                        "ZIA); pass allow_private=true if that is what you mean")
        return str(network.network_address) if network.num_addresses == 1 else value  # 1.2.3.4/32 is 1.2.3.4

    return check
