"""Listener rule evaluation, as an Application Load Balancer does it (pure: no I/O).

What the ELBv2 documentation says, and what this module does:

- Rules are evaluated in priority order, lowest number first; the default rule (no conditions)
  last. The first rule whose conditions all match handles the request.
- Within one condition its values are alternatives (any one matches); a rule's conditions must
  all match.
- `host-header`: not case sensitive; `*` (0 or more characters) and `?` (exactly one). Compared
  with the request's host name (the Host header without its port).
- `path-pattern`: case sensitive; `*` and `?`; compared with the path only, never the query.
- `query-string`: key/value pairs or values alone (a pair without `Key` matches any key); not
  case sensitive; `*` and `?`, and `\\*` / `\\?` for a literal star or question mark. The
  request's keys and values are compared percent-decoded.
- `http-request-method`: the method exactly (case sensitive, no wildcards).
- `http-header`: the named header (name not case sensitive), values as host-header.
- `source-ip`: the client address in one of the CIDR blocks.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

DEFAULT_PRIORITY = "default"


class UnsupportedCondition(ValueError):
    """A condition this front cannot evaluate: the request is answered with a 500, as a
    misconfiguration should be noticed, never silently skipped."""


@dataclass(frozen=True)
class Request:
    """What rule conditions look at."""

    method: str
    host: str  # as the Host header carries it, port included
    path: str  # as sent (percent-encoding kept)
    query: str = ""  # the raw query string, without '?'
    headers: Mapping[str, Sequence[str]] = field(default_factory=dict)  # lower-case names
    source_ip: str = "127.0.0.1"

    @property
    def host_name(self) -> str:
        host = self.host.strip()
        if host.startswith("["):  # [v6]:port
            return host[1 : host.find("]")] if "]" in host else host
        return host.rsplit(":", 1)[0] if host.count(":") == 1 else host

    def query_pairs(self) -> list[tuple[str, str]]:
        """Decoded (key, value) pairs; `a` alone is ('a', '')."""
        pairs = []
        for part in self.query.split("&"):
            if not part:
                continue
            key, _, value = part.partition("=")
            pairs.append((unquote(key), unquote(value)))
        return pairs


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, escapes: bool, ignore_case: bool) -> re.Pattern[str]:
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if escapes and char == "\\" and index + 1 < len(pattern) and pattern[index + 1] in "*?\\":
            out.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        out.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        index += 1
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(out), flags)


def wildcard_match(pattern: str, value: str, *, ignore_case: bool, escapes: bool = False) -> bool:
    """`*` = zero or more characters, `?` = exactly one; the whole value must match."""
    return _wildcard(pattern, escapes, ignore_case).fullmatch(value) is not None


def _values(condition: Mapping[str, Any], config_key: str) -> list[Any]:
    config = condition.get(config_key) or {}
    values = config.get("Values")
    return list(values if values is not None else condition.get("Values") or [])


def condition_matches(condition: Mapping[str, Any], request: Request) -> bool:
    name = condition.get("Field")
    configs = [v for k, v in condition.items() if k.endswith("Config") and isinstance(v, dict)]
    if any(config.get("RegexValues") for config in configs):
        raise UnsupportedCondition("regex match conditions are not supported by the local ALB")
    if name == "host-header":
        host = request.host_name
        return any(
            wildcard_match(v, host, ignore_case=True)
            for v in _values(condition, "HostHeaderConfig")
        )
    if name == "path-pattern":
        return any(
            wildcard_match(v, request.path, ignore_case=False)
            for v in _values(condition, "PathPatternConfig")
        )
    if name == "query-string":
        pairs = request.query_pairs()
        return any(
            _query_value_matches(wanted, pairs)
            for wanted in (condition.get("QueryStringConfig") or {}).get("Values") or []
        )
    if name == "http-request-method":
        return request.method in _values(condition, "HttpRequestMethodConfig")
    if name == "http-header":
        config = condition.get("HttpHeaderConfig") or {}
        header = str(config.get("HttpHeaderName", "")).lower()
        sent = request.headers.get(header, [])
        return any(
            wildcard_match(v, value, ignore_case=True)
            for v in config.get("Values") or []
            for value in sent
        )
    if name == "source-ip":
        address = ipaddress.ip_address(request.source_ip)
        return any(
            address in ipaddress.ip_network(block, strict=False)
            for block in _values(condition, "SourceIpConfig")
        )
    raise UnsupportedCondition(f"condition field {name!r} is not supported by the local ALB")


def _query_value_matches(wanted: Mapping[str, str], pairs: Iterable[tuple[str, str]]) -> bool:
    key, value = wanted.get("Key"), wanted.get("Value", "")
    for sent_key, sent_value in pairs:
        if key is not None and not wildcard_match(key, sent_key, ignore_case=True, escapes=True):
            continue
        if wildcard_match(value, sent_value, ignore_case=True, escapes=True):
            return True
    return False


def rule_matches(rule: Mapping[str, Any], request: Request) -> bool:
    return all(condition_matches(c, request) for c in rule.get("Conditions") or [])


def _order(rule: Mapping[str, Any]) -> tuple[int, int]:
    if rule.get("IsDefault") or rule.get("Priority") == DEFAULT_PRIORITY:
        return (1, 0)
    return (0, int(rule["Priority"]))


def select(rules: Iterable[Mapping[str, Any]], request: Request) -> Mapping[str, Any] | None:
    """The rule that handles `request`: the first match in priority order, default last."""
    for rule in sorted(rules, key=_order):
        if rule.get("IsDefault") or rule_matches(rule, request):
            return rule
    return None


def ordered_actions(rule: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A rule's actions in their `Order` (authenticate first, then the final action)."""
    actions = list(rule.get("Actions") or [])
    return sorted(actions, key=lambda a: (a.get("Order") is None, a.get("Order") or 0))
