"""The fake's object store: Jobs and Pods under one lock, one increasing resourceVersion, and the
history of every change, which watches replay and follow. Every change notifies one
`threading.Condition`, so whoever waits (a watch, a log follower, a test) wakes on it, never polls."""

from __future__ import annotations

import bisect
import copy
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .objects import ApiError, matches

Key = tuple[str, str]  # (namespace, name)


@dataclass(frozen=True)
class Change:
    resource_version: int
    resource: str  # "jobs" or "pods"
    type: str  # ADDED, MODIFIED, DELETED
    obj: dict[str, Any]  # a snapshot as it was then


@dataclass(frozen=True)
class Selection:
    """What a list or watch asks for: a resource, a namespace (None: all) and equality selectors."""
    resource: str
    namespace: str | None
    labels: dict[str, str]
    fields: dict[str, str]

    def holds(self, obj: dict[str, Any]) -> bool:
        return (self.namespace is None or obj["metadata"]["namespace"] == self.namespace) and \
            matches(obj, self.labels, self.fields)


class Store:
    def __init__(self) -> None:
        self.changed = threading.Condition(threading.RLock())
        self.objects: dict[str, dict[Key, dict[str, Any]]] = {"jobs": {}, "pods": {}}
        self.closed = False
        self._version = 100  # never "0", which a watch reads as "from any point", not "from the start"
        self._history: list[Change] = []
        self._versions: list[int] = []  # the history's resourceVersions, for bisect
        self._oldest_kept = 0  # a watch from before this gets 410 Gone (expire_history)

    @property
    def version(self) -> str:
        with self.changed:
            return str(self._version)

    def record(self, resource: str, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Stamp ``obj`` with the next resourceVersion and keep the change; the caller holds the lock."""
        self._version += 1
        obj["metadata"]["resourceVersion"] = str(self._version)
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        if kind == "DELETED":
            self.objects[resource].pop(key, None)
        else:
            self.objects[resource][key] = obj
        snapshot = copy.deepcopy(obj)
        self._history.append(Change(self._version, resource, kind, snapshot))
        self._versions.append(self._version)
        self.changed.notify_all()
        return snapshot

    def get(self, resource: str, key: Key) -> dict[str, Any] | None:
        with self.changed:
            found = self.objects[resource].get(key)
            return copy.deepcopy(found) if found is not None else None

    def listing(self, selection: Selection) -> tuple[list[dict[str, Any]], str]:
        with self.changed:
            items = [copy.deepcopy(obj) for obj in self.objects[selection.resource].values() if selection.holds(obj)]
            return items, str(self._version)

    def expire_history(self) -> None:
        with self.changed:
            self._oldest_kept = self._version
            self._history.clear()
            self._versions.clear()

    def wait(self, condition: Callable[[], Any], timeout: float, what: str | Callable[[], str]) -> Any:
        with self.changed:
            if not self.changed.wait_for(condition, timeout):
                raise TimeoutError(f"the fake cluster waited {timeout} s for {what() if callable(what) else what}")
            return condition()

    def watch(self, selection: Selection, since: str | None, timeout: float) -> Iterator[dict[str, Any]]:
        """Watch events for ``selection``: every change after ``since``, or (none given, or "0") an
        ADDED for each existing object first; then live changes until ``timeout`` or close."""
        deadline = time.monotonic() + timeout
        with self.changed:
            if since in (None, "", "0"):
                last = self._version
                pending = [{"type": "ADDED", "object": copy.deepcopy(obj)}
                           for obj in self.objects[selection.resource].values() if selection.holds(obj)]
            else:
                last = _version_number(since)
                if last < self._oldest_kept:
                    expired = ApiError(410, "Expired", f"too old resource version: {last} ({self._oldest_kept})")
                    yield {"type": "ERROR", "object": expired.status()}
                    return
                pending = []
        while True:
            yield from pending
            with self.changed:
                self.changed.wait_for(lambda: self.closed or self._version > last, max(0.0, deadline - time.monotonic()))
                if self.closed or self._version <= last:
                    return  # closed, or the timeout passed with nothing new
                fresh = self._history[bisect.bisect_right(self._versions, last):]
                last = self._version
            pending = [{"type": change.type, "object": change.obj} for change in fresh
                       if change.resource == selection.resource and selection.holds(change.obj)]

def _version_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ApiError(400, "BadRequest", f"invalid resource version: {text!r}") from None
