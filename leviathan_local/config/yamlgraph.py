"""Walks over a composed YAML document as the graph its aliases make of it.

An alias is the very node its anchor names, so a document is a graph, not a tree: these loops
(never recursion: a deep document must not hit the recursion limit) find a node inside itself,
the path to a node, and how many nodes the aliases would add if the document were written out.
Nodes are told apart by PyYAML's ``id`` (`scalar`, `sequence`, `mapping`): this module reads
nodes that ``yamlio`` made and imports no YAML library itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Node = Any  # a yaml.nodes.Node (yamlio owns the YAML library)
Label = str | int  # a mapping's key, or a list's index
Found = tuple[Node, tuple[Label, ...]]


def find_cycle(root: Node) -> Found | None:
    """The first node found inside itself (the anchor of an alias within it, as in `&a [*a]`),
    with the keys and indexes from ``root`` to it; None when no node is."""
    for child, labels, stack in _steps(root):
        if stack is not None:
            depth = next(index for index, (seen, _) in enumerate(stack) if seen is child)
            return child, labels[:depth]
    return None


def path_to(root: Node, target: Node) -> tuple[Label, ...] | None:
    """The keys and indexes from ``root`` to ``target``; None when ``target`` is not in it."""
    if root is target:
        return ()
    return next((labels for child, labels, _ in _steps(root) if child is target), None)


Stack = list[tuple[Node, Iterator[tuple[Label, Node]]]]


def _steps(root: Node) -> Iterator[tuple[Node, tuple[Label, ...], Stack | None]]:
    """Every step of a depth-first walk in document order that does not lead back to a node
    already finished: the child, the labels from ``root`` to it, and the stack when the child is
    on it (a cycle; the walk does not enter it again), else None."""
    stack: Stack = [(root, _children(root))]
    labels: list[Label] = []  # labels[i] leads from stack[i] to stack[i + 1]
    walking, finished = {id(root)}, set()
    while stack:
        node, children = stack[-1]
        step = next(children, None)
        if step is None:
            stack.pop()
            walking.discard(id(node))
            finished.add(id(node))
            if stack:
                labels.pop()
            continue
        label, child = step
        if id(child) in finished:
            continue
        if id(child) in walking:
            yield child, (*labels, label), stack
            continue
        yield child, (*labels, label), None
        if child.id != "scalar":
            walking.add(id(child))
            labels.append(label)
            stack.append((child, _children(child)))


def _children(node: Node) -> Iterator[tuple[Label, Node]]:
    if node.id == "sequence":
        return enumerate(node.value)
    if node.id == "mapping":
        return ((key.value if key.id == "scalar" else "?", child) for key, value in node.value for child in (key, value))
    return iter(())


def alias_expansion(root: Node, limit: int) -> tuple[int, Node | None]:
    """How many nodes the aliases in ``root`` add to it when it is written out (each alias
    stands for its anchor's whole value, aliases inside included), counted over the distinct
    nodes only, so a "billion laughs" costs what its text does. Stops once the count passes
    ``limit``, with the node whose alias passed it; ``(count, None)`` when it stays within."""
    sizes: dict[int, int] = {}  # written-out size of every node finished so far
    walking: set[int] = {id(root)}
    stack: list[tuple[Node, Iterator[Node]]] = [(root, _nodes_in(root))]
    totals = [1]  # the written-out size of each node on the stack, so far
    added = 0
    while stack:
        node, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            walking.discard(id(node))
            sizes[id(node)] = size = totals.pop()
            if totals:
                totals[-1] += size
            continue
        known = sizes.get(id(child))
        if known is not None:  # seen before: an alias, which stands for that whole value again
            added += known
            totals[-1] += known
            if added > limit:
                return added, child
        elif id(child) in walking:
            continue  # an alias inside its own anchor: construct() reports it, with its position
        elif child.id == "scalar":
            sizes[id(child)] = 1
            totals[-1] += 1
        else:
            walking.add(id(child))
            totals.append(1)
            stack.append((child, _nodes_in(child)))
    return added, None


def _nodes_in(node: Node) -> Iterator[Node]:
    return (child for _, child in _children(node))
