"""Training recipes shipped in the package (pyiqa option files under ``pyiqa_lifeiqa/recipes``).

Dataset paths in a recipe start with ``./datasets`` as in pyiqa's own option files; a recipe
is resolved against a data root by replacing that prefix.
"""

from __future__ import annotations

from pathlib import Path

RECIPES_DIR = Path(__file__).resolve().parents[1] / 'recipes'
DATA_PREFIX = './datasets'


def list_recipes() -> dict[str, str]:
    """Recipe name -> its one-line description (the first comment line of the file)."""
    recipes = {}
    for path in sorted(RECIPES_DIR.glob('*.yml')):
        first = path.read_text().splitlines()[0]
        recipes[path.stem] = first.lstrip('# ').strip() if first.startswith('#') else ''
    return recipes


def recipe_path(name: str) -> Path:
    """The option file of a recipe; a clear error lists the known recipes."""
    path = RECIPES_DIR / f'{name}.yml'
    if not path.is_file():
        raise ValueError(f'unknown recipe {name!r}; known recipes: {", ".join(list_recipes())}')
    return path


def resolve_recipe(name: str, data_root: str | Path) -> str:
    """The recipe's YAML text with its dataset paths under ``data_root``."""
    root = str(Path(data_root).resolve())
    return recipe_path(name).read_text().replace(DATA_PREFIX, root)
