"""What setup and destroy did: one line per resource, and a summary the tests can assert on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

CREATE, UPDATE, DELETE, UNCHANGED = "create", "update", "delete", "unchanged"


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
        return ", ".join(f"{count} {action}" for action, count in counts.items())
