"""Which destinations a command may reach under policies `internet` and `allow` (netpolicy.py has the filter,
netsupervisor.py asks `Rules.judge` for each connect and each datagram with an address).

A policy is spelled as one string everywhere (the env STIGMER_SANDBOX_NETWORK, the launcher's `run`):
`none`, `internet`, or `allow:ENTRY,ENTRY,...` where an ENTRY is `HOST`, `IP`, `CIDR`, each optionally with
`:PORT` (an IPv6 address or CIDR with a port in brackets: `[2001:db8::1]:443`, `[fd00::/8]:53`).

- `internet`: global unicast addresses only (Python's `ipaddress` is_global: never loopback, private,
  link-local such as a cloud's metadata service 169.254.169.254, CGNAT, multicast, reserved), and never
  an address of the host (STIGMER_SANDBOX_HOST_ADDRESSES, given by the CLI for a local engine), of the
  container itself or of its gateways.
- `allow`: only the entries. A name is resolved when a command first connects, and again after
  NAME_TTL seconds; an address a name resolves to counts only if it is global: a private, loopback or
  link-local destination must be listed by address.
- Both: the container's nameservers (resolv.conf) on port 53, so that names resolve. DNS is then a way
  out for data (docs/security.md).
"""
from __future__ import annotations

import ipaddress
import os
import socket
import time
from dataclasses import dataclass
from typing import Iterable, List, Optional, Set, Tuple, Union

NONE, INTERNET, ALLOW = "none", "internet", "allow"
NAME_TTL = 60.0
DNS_PORT = 53
HOST_ADDRESSES = "STIGMER_SANDBOX_HOST_ADDRESSES"  # config.SANDBOX_HOST_ADDRESSES (config imports this module)

Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
ENTRY_FORMS = ("host.example", "host.example:443", "203.0.113.7", "203.0.113.7:443", "10.0.0.0/8",
               "10.0.0.0/8:5432", "[2001:db8::1]:443")


class RuleError(ValueError):
    """A policy or allow-list entry that cannot be read."""


@dataclass(frozen=True)
class Entry:
    """One allow-list entry: a network (an address is a /32 or /128) or a name, and a port or any."""

    text: str
    network: Optional[Network]
    name: Optional[str]
    port: Optional[int]


def _port(text: str, entry: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise RuleError(f"allow entry {entry!r}: the port {text!r} is not a number from 1 to 65535")
    return int(text)


def parse_entry(entry: str) -> Entry:
    text = entry.strip()
    if not text or any(c.isspace() or c == "," for c in text):
        raise RuleError(f"allow entry {entry!r} is empty or holds a space or a comma; write one of "
                        + ", ".join(ENTRY_FORMS))
    host, port = text, None
    if text.startswith("["):
        close = text.find("]")
        if close < 0 or (close + 1 < len(text) and text[close + 1] != ":"):
            raise RuleError(f"allow entry {entry!r}: write an IPv6 address with a port as [2001:db8::1]:443")
        host = text[1:close]
        port = _port(text[close + 2:], entry) if close + 1 < len(text) else None
    elif text.count(":") == 1:
        host, raw_port = text.split(":")
        port = _port(raw_port, entry)
    try:
        return Entry(text, ipaddress.ip_network(host, strict=False), None, port)
    except ValueError:
        pass
    if "/" in host or ":" in host:
        raise RuleError(f"allow entry {entry!r}: {host!r} is neither an address, a CIDR nor a host name")
    labels = host.rstrip(".").split(".")
    if not all(label and len(label) < 64 and all(c.isalnum() or c in "-_" for c in label) for label in labels):
        raise RuleError(f"allow entry {entry!r}: {host!r} is not a host name; write one of " + ", ".join(ENTRY_FORMS))
    return Entry(text, None, host.rstrip(".").lower(), port)


def parse(spec: str) -> Tuple[str, List[Entry]]:
    """The policy's kind and its allow list; RuleError names the bad part and the forms it takes."""
    spec = spec.strip()
    if spec in (NONE, INTERNET):
        return spec, []
    if spec.startswith(ALLOW + ":"):
        entries = [parse_entry(part) for part in spec[len(ALLOW) + 1:].split(",") if part.strip()]
        if not entries:
            raise RuleError("policy allow: the list is empty (to allow nothing, use none)")
        return ALLOW, entries
    raise RuleError(f"unknown network policy {spec!r}: use none, internet or allow:ENTRY,ENTRY "
                    f"(an entry: {', '.join(ENTRY_FORMS)})")


def canonical(spec: str) -> str:
    kind, entries = parse(spec)
    return kind if kind != ALLOW else ALLOW + ":" + ",".join(entry.text for entry in entries)


def nameservers(path: str = "/etc/resolv.conf") -> Set[Address]:
    found: Set[Address] = set()
    try:
        with open(path) as handle:
            for line in handle:
                parts = line.split()
                if len(parts) >= 2 and parts[0] == "nameserver":
                    try:
                        found.add(ipaddress.ip_address(parts[1].split("%")[0]))
                    except ValueError:
                        pass
    except OSError:
        pass
    return found


def own_addresses() -> Set[Address]:
    """The container's addresses and its gateways (IPv4 from /proc/net/route and fib_trie, IPv6 from if_inet6)."""
    found: Set[Address] = set()
    try:
        with open("/proc/net/route") as handle:
            for line in list(handle)[1:]:
                fields = line.split()
                if len(fields) > 2 and fields[2] != "00000000":
                    found.add(ipaddress.IPv4Address(int(fields[2], 16).to_bytes(4, "little")))
        with open("/proc/net/fib_trie") as handle:
            previous = ""
            for line in handle:
                if "/32 host LOCAL" in line and previous.strip().startswith("|--"):
                    found.add(ipaddress.IPv4Address(previous.split()[-1]))
                previous = line
        with open("/proc/net/if_inet6") as handle:
            for line in handle:
                found.add(ipaddress.IPv6Address(bytes.fromhex(line.split()[0])))
    except (OSError, ValueError):
        pass
    return found


def _unmapped(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class Rules:
    """Judges destinations for one policy; built in the supervisor of a command."""

    def __init__(self, spec: str, host_addresses: Iterable[str] = (), resolver=socket.getaddrinfo) -> None:
        self.kind, self.entries = parse(spec)
        self.dns = nameservers()
        self.denied: Set[Address] = own_addresses()
        for text in host_addresses:
            try:
                self.denied.add(ipaddress.ip_address(text.strip().split("%")[0]))
            except ValueError:
                pass
        self._resolver = resolver
        self._resolved: List[Tuple[Network, Optional[int]]] = []
        self._resolved_at = -NAME_TTL

    @classmethod
    def from_env(cls, spec: str) -> "Rules":
        return cls(spec, [a for a in os.environ.get(HOST_ADDRESSES, "").split(",") if a.strip()])

    def _names(self) -> List[Tuple[Network, Optional[int]]]:
        if time.monotonic() - self._resolved_at >= NAME_TTL:
            resolved: List[Tuple[Network, Optional[int]]] = []
            for entry in self.entries:
                if entry.name is None:
                    continue
                try:
                    infos = self._resolver(entry.name, None, 0, socket.SOCK_STREAM)
                except OSError:
                    continue
                for info in infos:
                    address = _unmapped(ipaddress.ip_address(info[4][0].split("%")[0]))
                    if address.is_global and not address.is_multicast:  # a name never opens a private address
                        resolved.append((ipaddress.ip_network(address), entry.port))
            self._resolved, self._resolved_at = resolved, time.monotonic()
        return self._resolved

    def judge(self, host: str, port: int) -> Optional[str]:
        """None when the command may reach host:port, else why not (shown to the command and the user)."""
        try:
            address = _unmapped(ipaddress.ip_address(host.split("%")[0]))
        except ValueError:
            return f"{host} is not an IP address"
        if port == DNS_PORT and address in self.dns:
            return None
        if self.kind == INTERNET:
            if not address.is_global or address.is_multicast:
                return "not a public address (policy internet)"
            if address in self.denied:
                return "an address of the host, the container or its gateway (policy internet)"
            return None
        if self.kind == ALLOW:
            for entry in self.entries:
                if entry.network is not None and address in entry.network and entry.port in (None, port):
                    return None
            for network, allowed_port in self._names():
                if address in network and allowed_port in (None, port) and address not in self.denied:
                    return None
            return "not on the allow list (policy allow)"
        return "commands have no network (policy none)"


def narrowing_problem(agent: str, runner: str) -> Optional[str]:
    """None when policy `agent` allows nothing that `runner` does not (an agent may narrow, never widen)."""
    agent_kind, agent_entries = parse(agent)
    runner_kind, runner_entries = parse(runner)
    if agent_kind == NONE or agent_kind == runner_kind == INTERNET:
        return None
    wider = f"is wider than the runner's policy ({canonical(runner)}); an agent may only narrow it: widen agentRunner.sandbox.network in config.yaml, or let agents widen it with agentRunner.sandbox.agentsMayWiden: true"
    if runner_kind == NONE or agent_kind == INTERNET:
        return f"{canonical(agent)} {wider}"
    for entry in agent_entries:
        if runner_kind == INTERNET:
            covered = entry.network is None or entry.network.is_global
        else:
            covered = any(
                other.port in (None, entry.port)
                and ((entry.name is not None and entry.name == other.name)
                     or (entry.network is not None and other.network is not None
                         and entry.network.version == other.network.version and entry.network.subnet_of(other.network)))
                for other in runner_entries)
        if not covered:
            return f"the entry {entry.text!r} {wider}"
    return None
