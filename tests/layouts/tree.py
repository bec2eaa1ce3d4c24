"""Reading a built component tree in a test: every component, one by id, the ids, the text."""

from __future__ import annotations

from collections.abc import Iterator

from dash.development.base_component import Component


def nodes(root: object) -> Iterator[Component]:
    """Every component in ``root`` (a component, a list of them, or text), depth first."""
    if isinstance(root, Component):
        yield root
        yield from nodes(getattr(root, "children", None))
    elif isinstance(root, (list, tuple)):
        for child in root:
            yield from nodes(child)


def by_id(root: object, element_id: str) -> Component:
    found = [node for node in nodes(root) if getattr(node, "id", None) == element_id]
    assert len(found) == 1, f"{len(found)} elements with id {element_id!r}"
    return found[0]


def ids(root: object) -> list[str]:
    return [node.id for node in nodes(root) if isinstance(getattr(node, "id", None), str)]


def classes(node: Component) -> list[str]:
    return (getattr(node, "className", None) or "").split()


def with_class(root: object, name: str) -> list[Component]:
    return [node for node in nodes(root) if name in classes(node)]


def text(root: object) -> str:
    """The text a reader sees, pieces joined by single spaces (props such as ``title`` are not text)."""
    if isinstance(root, Component):
        return text(getattr(root, "children", None))
    if isinstance(root, (list, tuple)):
        return " ".join(piece for piece in (text(child) for child in root) if piece)
    return "" if root is None else str(root)
