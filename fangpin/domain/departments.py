"""Departments and their feeds (routing.yaml, SPEC §7): the name a person sees for each feed, which department
receives which risk types, and which department answers for the records of which feed."""

from __future__ import annotations

from collections.abc import Iterable

#: The name shown for a feed no department in routing.yaml claims.
FEED_LABELS = {
    "medical": "医保",
    "disaster": "应急管理",
    "civil_affairs": "民政",
    "employment": "人社",
    "property": "财产检索",
    "registry": "户籍系统",
    "housing": "住建",
    "education": "教育",
    "disability": "残联",
    "water": "水利",
}
#: Feeds that are not department data (no 未匹配记录 for them).
NOT_DEPARTMENT_FEEDS = frozenset({"registry", "feedback"})


def feed_labels(routing: dict) -> dict[str, str]:
    """feed → the department name shown for it: the routing.yaml department that sends it, else FEED_LABELS."""
    labels = dict(FEED_LABELS)
    for dept in (routing.get("departments") or {}).values():
        for feed in dept.get("feeds") or []:
            labels[feed] = str(dept.get("name", feed))
    return labels


def risk_types_of(routing: dict) -> dict[str, list[str]]:
    """department key → the risk types whose task list it receives (in routing.yaml order)."""
    out: dict[str, list[str]] = {}
    for rtype, depts in (routing.get("risk_types") or {}).items():
        for d in depts or []:
            out.setdefault(d, []).append(str(rtype))
    return out


def feed_owners(routing: dict, present: Iterable[str]) -> dict[str, list[str]]:
    """department name → the feeds (among ``present``) whose records it answers for; a present feed no department
    claims gets its own entry under its label."""
    present = {f for f in present if f and f not in NOT_DEPARTMENT_FEEDS}
    owners: dict[str, list[str]] = {}
    for key, dept in (routing.get("departments") or {}).items():
        feeds = [f for f in (dept.get("feeds") or []) if f in present]
        if feeds:
            owners[str(dept.get("name", key))] = feeds
    owned = {f for fs in owners.values() for f in fs}
    for feed in sorted(present - owned):
        owners[FEED_LABELS.get(feed, feed)] = [feed]
    return owners
