"""Training recipes shipped in the package (pyiqa option files under ``pyiqa_lifeiqa/recipes``).

A recipe may name a ``base`` recipe and give only what differs from it: mappings are merged key
by key (recursively; the recipe's keys first), any other value replaces the base's, and a null
(``~``) removes the base's entry. Files whose name starts with ``_`` are bases only. Dataset
paths start with ``./datasets`` as in pyiqa's own option files; a recipe is resolved against a
data root by replacing that prefix.
Frequencies may be given in epochs (``val_freq_epochs``...; see
:mod:`pyiqa_lifeiqa.train.runner`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

RECIPES_DIR = Path(__file__).resolve().parents[1] / 'recipes'
DATA_PREFIX = './datasets'
BASE_KEY = 'base'


def list_recipes() -> dict[str, str]:
    """Recipe name -> its one-line description (the first comment line of the file); bases are left out."""
    recipes = {}
    for path in sorted(RECIPES_DIR.glob('*.yml')):
        if path.stem.startswith('_'):
            continue
        first = path.read_text().splitlines()[0]
        recipes[path.stem] = first.lstrip('# ').strip() if first.startswith('#') else ''
    return recipes


def recipe_path(name: str) -> Path:
    """The option file of a recipe (or base); a clear error lists the known recipes."""
    path = RECIPES_DIR / f'{name}.yml'
    if not path.is_file():
        raise ValueError(f'unknown recipe {name!r}; known recipes: {", ".join(list_recipes())}')
    return path


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` laid over ``base``: mappings merged recursively, other values replaced, None removes.

    The override's keys come first, in its order, then the base's other keys: order matters where
    pyiqa applies entries in turn (``augment``: a recipe's ``resize`` runs before the base's crop).
    """
    merged = {}
    for key, value in override.items():
        if value is None:
            continue
        merged[key] = merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    merged.update((key, value) for key, value in base.items() if key not in override)
    return merged


def load_recipe(name: str, _seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """A recipe's options with its base (and the base's base...) merged in.

    Raises:
        ValueError: An unknown recipe or base, or a cycle of bases.
    """
    if name in _seen:
        raise ValueError(f'recipe bases form a cycle: {" -> ".join((*_seen, name))}')
    options = yaml.safe_load(recipe_path(name).read_text()) or {}
    base = options.pop(BASE_KEY, None)
    return merge(load_recipe(base, (*_seen, name)), options) if base else options


def _under(value: Any, root: str) -> Any:
    if isinstance(value, dict):
        return {key: _under(item, root) for key, item in value.items()}
    if isinstance(value, list):
        return [_under(item, root) for item in value]
    return value.replace(DATA_PREFIX, root, 1) if isinstance(value, str) and value.startswith(DATA_PREFIX) else value


def resolve_recipe(name: str, data_root: str | Path) -> str:
    """The recipe's complete pyiqa options (bases merged) as YAML, with its dataset paths under ``data_root``.

    Raises:
        ValueError: An unknown recipe, or a base (a name starting with ``_``), which has no dataset.
    """
    if name.startswith('_'):
        raise ValueError(f'{name!r} is a base of recipes, not a recipe; known recipes: {", ".join(list_recipes())}')
    options = _under(load_recipe(name), str(Path(data_root).resolve()))
    return yaml.safe_dump(options, sort_keys=False)
