"""The loaded backlog: tasks in file order, with the text and item spans they came from."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from leviathan_local.backlog.items import LocatedItem, ParsedItem
from leviathan_local.backlog.model import Status, Task, parse_status
from leviathan_local.backlog.validate import Problem
from leviathan_local.errors import BacklogError, UnknownTaskError
from leviathan_local.wording import suggestion


class InvalidBacklogError(BacklogError):
    title = "Invalid backlog"

    def __init__(self, message: str, hint: str, problems: list[Problem]) -> None:
        super().__init__(message, hint)
        self.problems = problems


@dataclass
class Backlog:
    """Treat as immutable: loads are memoized and shared."""

    path: Path
    source: str  # the path as shown to people (relative to the repository)
    text: str
    tasks: list[Task]
    warnings: list[Problem] = field(default_factory=list)
    items: list[LocatedItem] = field(default_factory=list, repr=False)
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {task.id: position for position, task in enumerate(self.tasks)}

    @property
    def by_id(self) -> dict[str, Task]:
        return {task.id: task for task in self.tasks}

    def task(self, task_id: str) -> Task:
        return self.tasks[self.index_of(task_id)]

    def index_of(self, task_id: str) -> int:
        if task_id not in self._index:
            raise UnknownTaskError(
                f"no task {task_id!r} in {self.source}{suggestion(task_id, self._index)}",
                hint="`leviathan plan` lists the task ids; ids are case-sensitive",
            )
        return self._index[task_id]

    def with_item_replaced(self, index: int, chunk: str, item: ParsedItem) -> Backlog:
        """This backlog with task ``index``'s text replaced; later tasks shift, nothing re-parses.

        Valid only for chunked layouts, where tasks and items correspond one to one.
        """
        old = self.items[index]
        text = self.text[:old.start] + chunk + self.text[old.end:]
        shift = len(chunk) - (old.end - old.start)
        line_shift = chunk.count("\n") - self.text.count("\n", old.start, old.end)
        items = self.items[:index]
        items.append(LocatedItem(item, old.line - old.item.line_in_chunk + item.line_in_chunk, old.start,
                                 old.start + len(chunk)))
        items.extend(LocatedItem(later.item, later.line + line_shift, later.start + shift, later.end + shift)
                     for later in self.items[index + 1:])
        value = item.value
        status = parse_status(value.get("status"), value.get("ready")) or Status.NEW
        tasks = self.tasks[:index]
        tasks.append(Task(self.tasks[index].id, value, status, items[index].line, item.positions))
        if line_shift:
            tasks.extend(replace(task, line=task.line + line_shift) for task in self.tasks[index + 1:])
        else:
            tasks.extend(self.tasks[index + 1:])
        return Backlog(self.path, self.source, text, tasks, self.warnings, items)
