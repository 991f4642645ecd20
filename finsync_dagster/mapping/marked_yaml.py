"""YAML that remembers where things were written, so every spec error can name its line."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import yaml


class MarkedMap(dict[Any, Any]):
    """A mapping with the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]


class MarkedList(list[Any]):
    """A sequence with the line of itself and of each item (1-based)."""

    line: int = 0
    item_lines: list[int]


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> MarkedMap:
    result = MarkedMap()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> MarkedList:
    result = MarkedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _decimal(loader: _Loader, node: yaml.ScalarNode) -> Decimal | float:
    """A YAML float is read from its text as a Decimal, so 1234567890123456.78 keeps every digit."""
    try:
        return Decimal(str(loader.construct_scalar(node)).replace("_", ""))
    except InvalidOperation:
        return loader.construct_yaml_float(node)  # .inf, .nan, 1:30.5


_Loader.add_constructor("tag:yaml.org,2002:float", _decimal)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def load(text: str) -> Any:
    """Parse one YAML document; mappings and lists come back marked. Raises ``yaml.MarkedYAMLError``."""
    return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: no arbitrary objects


def line_of(container: Any, key: Any = None) -> int:
    """The line of ``container[key]`` (or of the container itself), 0 when unknown."""
    if key is None:
        return getattr(container, "line", 0)
    if isinstance(container, MarkedMap):
        return container.key_lines.get(key, container.line)
    if isinstance(container, MarkedList) and isinstance(key, int) and key < len(container.item_lines):
        return container.item_lines[key]
    return getattr(container, "line", 0)
