"""Deep merge of pod template fragments, shaped like a strategic merge patch.

Pure: no I/O.

Rules, for the fields a Worker or a PipelineJob sets in a pod template:
- mappings merge key by key, recursively;
- lists whose items are all mappings with a `name` (containers, initContainers,
  env, volumes, volumeMounts, named ports, imagePullSecrets) merge by name:
  an overlay item updates the base item of the same name in place, new names
  are appended, and `{name: x, $patch: delete}` removes item `x` (an empty
  overlay list changes nothing; `null` clears the list);
- `envFrom` items have no name, so overlay items are appended;
- any other list is replaced whole;
- a `None` value in the overlay deletes the key (as `null` does in a merge patch).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

# Lists of unnamed items that add up rather than replace, as users expect
# when a Worker and a job both bring their own ConfigMaps or Secrets.
_APPEND_KEYS = frozenset({"envFrom"})

# The strategic-merge-patch directive for removing a named list item.
_PATCH = "$patch"


def merge(*, base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """`overlay` merged over `base`, as a new dict; neither input is changed."""
    out: dict[str, Any] = {key: copy.deepcopy(value) for key, value in base.items()}
    for key, value in overlay.items():
        if key == _PATCH:
            continue
        if value is None:
            out.pop(key, None)
            continue
        current = out.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            out[key] = merge(base=current, overlay=value)
        elif isinstance(current, list) and isinstance(value, list):
            out[key] = _merge_lists(key=key, base=current, overlay=value)
        else:
            out[key] = _clean(value)
    return out


def _merge_lists(*, key: str, base: list[Any], overlay: list[Any]) -> list[Any]:
    if key in _APPEND_KEYS:
        return [*base, *(_clean(item) for item in overlay if not _is_delete(item))]
    if not (_named(base) and _named(overlay)):
        return [_clean(item) for item in overlay if not _is_delete(item)]
    out = list(base)
    for item in overlay:
        index = next((i for i, old in enumerate(out) if old["name"] == item["name"]), None)
        if _is_delete(item):
            if index is not None:
                del out[index]
        elif index is None:
            out.append(_clean(item))
        else:
            out[index] = merge(base=out[index], overlay=item)
    return out


def _named(items: Sequence[Any]) -> bool:
    return all(isinstance(item, Mapping) and "name" in item for item in items)


def _clean(value: Any) -> Any:
    """A deep copy of a new value, with the `None`s an overlay uses for deletion dropped."""
    if isinstance(value, Mapping):
        return {k: _clean(v) for k, v in value.items() if v is not None and k != _PATCH}
    if isinstance(value, list):
        return [_clean(item) for item in value if not _is_delete(item)]
    return copy.deepcopy(value)


def _is_delete(item: Any) -> bool:
    return isinstance(item, Mapping) and item.get(_PATCH) == "delete"
