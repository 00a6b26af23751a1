"""What setup and destroy did — or, with `plan`, would do: one line per resource and a summary.

In a plan (`setup --plan`) every module observes as usual but makes no change: it reports the
action it would take, and where a later step needs something that does not exist yet (a new
target group's ARN) it gets a `planned(...)` stand-in, which compares unequal to anything real.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

CREATE, UPDATE, DELETE, UNCHANGED = "create", "update", "delete", "unchanged"
PLANNED_PREFIX = "planned:"


def planned(kind: str, name: str) -> str:
    """A stand-in for the ARN of a resource a plan would create."""
    return f"{PLANNED_PREFIX}{kind}:{name}"  # ends in :<name>, as ARNs do


def is_planned(value: str | None) -> bool:
    return bool(value) and str(value).startswith(PLANNED_PREFIX)


@dataclass(frozen=True)
class Change:
    action: str  # create | update | delete | unchanged
    kind: str  # e.g. iam-role, lambda-function, listener-rule
    name: str
    detail: str = ""

    def line(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.action:<9} {self.kind:<22} {self.name}{detail}"


@dataclass
class Report:
    """Collects changes; `echo` (print by default) shows each one as it happens."""

    echo: Callable[[str], None] | None = print
    changes: list[Change] = field(default_factory=list)
    plan: bool = False  # True: observe and report, change nothing

    def add(self, action: str, kind: str, name: str, detail: str = "") -> None:
        change = Change(action, kind, name, detail)
        self.changes.append(change)
        if self.echo:
            self.echo(change.line())

    def made_changes(self) -> list[Change]:
        return [change for change in self.changes if change.action != UNCHANGED]

    def summary(self) -> str:
        counts = {action: 0 for action in (CREATE, UPDATE, DELETE, UNCHANGED)}
        for change in self.changes:
            counts[change.action] += 1
        text = ", ".join(f"{count} {action}" for action, count in counts.items())
        return f"would {text} (nothing changed)" if self.plan else text
