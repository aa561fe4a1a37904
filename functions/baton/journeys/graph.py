"""The step graph of a journey: where each step can go, what is unreachable, loops without a wait."""

from __future__ import annotations

from dataclasses import dataclass

from baton.journeys.models import END, Journey


@dataclass(frozen=True, slots=True)
class Edge:
    """From step `source` (its index) to `target` (a step id or `end`); `loc` is the key that says so
    inside the step (`("next",)`, `("branch", "cases", 0, "next")`, `("branch", "default")`,
    `("split", "variants", 0, "next")`), or
    `()` when the step simply falls through to the next one in the list."""

    source: int
    target: str
    loc: tuple[str | int, ...]


def edges_of(journey: Journey, index: int) -> list[Edge]:
    step = journey.steps[index]
    if step.branch is not None:
        edges = [
            Edge(index, case.next, ("branch", "cases", number, "next"))
            for number, case in enumerate(step.branch.cases)
        ]
        return [*edges, Edge(index, step.branch.default, ("branch", "default"))]
    if step.split is not None:
        return [
            Edge(index, variant.next, ("split", "variants", number, "next"))
            for number, variant in enumerate(step.split.variants)
        ]
    return [Edge(index, journey.next_of(index), ("next",) if step.next is not None else ())]


def edges(journey: Journey) -> list[Edge]:
    return [edge for index in range(len(journey.steps)) for edge in edges_of(journey, index)]


def reachable(journey: Journey) -> set[int]:
    """Indexes of the steps reachable from the first one (targets pointing nowhere are ignored)."""
    index_of = _index_of(journey)
    seen: set[int] = set()
    todo = [0]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(index_of[edge.target] for edge in edges_of(journey, current) if edge.target in index_of)
    return seen


def loops_without_wait(journey: Journey) -> list[tuple[list[int], Edge]]:
    """Every loop of steps that passes through no `wait` (it would send again without pause), as
    (its steps' indexes in list order, the backward edge that closes it)."""
    index_of = _index_of(journey)
    graph: dict[int, list[Edge]] = {
        index: [
            edge
            for edge in edges_of(journey, index)
            if edge.target in index_of and journey.steps[index_of[edge.target]].wait is None
        ]
        for index, step in enumerate(journey.steps)
        if step.wait is None
    }
    found: list[tuple[list[int], Edge]] = []
    for component in _strongly_connected(graph, index_of):
        members = set(component)
        closing = [
            edge
            for index in sorted(members)
            for edge in graph[index]
            if edge.target in index_of and index_of[edge.target] in members and index_of[edge.target] <= index
        ]
        if len(component) > 1 or closing:
            found.append((sorted(members), closing[0]))
    return found


def in_loops(journey: Journey) -> set[int]:
    """Indexes of the steps that a run can enter more than once (on a loop of any kind)."""
    index_of = _index_of(journey)
    graph = {index: edges_of(journey, index) for index in range(len(journey.steps))}
    looping: set[int] = set()
    for component in _strongly_connected(graph, index_of):
        members = set(component)
        if len(members) > 1 or any(index_of.get(edge.target) in members for edge in graph[component[0]]):
            looping |= members
    return looping


def loop_heads(journey: Journey) -> set[int]:
    """Indexes of the steps where a depth-first walk from the first step closes a loop (the
    targets of its backward edges). Every loop passes through at least one of them, so a run that
    counts its entries into these steps counts every turn of every loop."""
    index_of = _index_of(journey)
    heads: set[int] = set()
    state: dict[int, bool] = {}  # on the walk's path (True) or done (False)
    for root in range(len(journey.steps)):
        if root in state:
            continue
        state[root] = True
        work = [(root, iter(edges_of(journey, root)))]
        while work:
            node, pending = work[-1]
            edge = next(pending, None)
            if edge is None:
                state[node] = False
                work.pop()
                continue
            target = index_of.get(edge.target)
            if target is None:
                continue
            if state.get(target) is True:
                heads.add(target)
            elif target not in state:
                state[target] = True
                work.append((target, iter(edges_of(journey, target))))
    return heads


def _index_of(journey: Journey) -> dict[str, int]:
    index_of: dict[str, int] = {}
    for index, step in enumerate(journey.steps):
        index_of.setdefault(step.id, index)  # a duplicate id is reported elsewhere; the first counts
    index_of.pop(END, None)
    return index_of


def _strongly_connected(graph: dict[int, list[Edge]], index_of: dict[str, int]) -> list[list[int]]:
    """Tarjan's algorithm, iterative; components with one node are kept (a self-loop is a loop)."""
    counter = 0
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    components: list[list[int]] = []
    for root in sorted(graph):
        if root in order:
            continue
        work: list[tuple[int, int]] = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                order[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = [index_of[edge.target] for edge in graph[node] if index_of.get(edge.target) in graph]
            if position < len(targets):
                work.append((node, position + 1))
                target = targets[position]
                if target not in order:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], order[target])
                continue
            if low[node] == order[node]:
                component: list[int] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components
