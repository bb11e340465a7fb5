"""Score files (``path,score`` CSV, or a JSON list of ``{path, score}``) written row by row and read back.

:class:`ScoreWriter` flushes after every batch of rows, and a JSON file stays a valid JSON list
after each write, so an interrupted run leaves a readable file that :func:`read_scores` takes
up again (``lifeiqa score --resume``).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from pathlib import Path

FIELDS = ('path', 'score')
_JSON_END = b'\n]\n'


def is_json(path: Path) -> bool:
    return path.suffix.lower() == '.json'


class ScoreWriter:
    """Appends ``(path, score)`` rows to a new CSV or JSON file (the suffix picks the format).

    Use it as a context manager; the file is replaced if it exists.
    """

    def __init__(self, path: Path):
        self.path = path
        self.json = is_json(path)
        self.rows = 0
        self.file = open(path, 'wb')  # noqa: SIM115 (closed by __exit__)
        self.file.write(b'[]\n' if self.json else ','.join(FIELDS).encode() + b'\r\n')
        self.file.flush()

    def write(self, rows: Iterable[tuple[str, float]]) -> None:
        """Append rows and flush them to the file."""
        rows = list(rows)
        if not rows:
            return
        if self.json:
            body = ',\n'.join(f'  {json.dumps(dict(zip(FIELDS, row, strict=True)))}' for row in rows).encode()
            # overwrite the closing bracket, so that the file is a whole JSON list again after each write
            self.file.seek(-len(_JSON_END) if self.rows else -len(b']\n'), os.SEEK_END)
            self.file.write((b',\n' if self.rows else b'\n') + body + _JSON_END)
        else:
            text = io.StringIO()
            csv.writer(text).writerows(rows)
            self.file.write(text.getvalue().encode())
        self.file.flush()
        self.rows += len(rows)

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> ScoreWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def write_scores(rows: Iterable[tuple[str, float]], path: Path) -> None:
    """Write a whole score file at once: to a temporary file beside it, then renamed over it."""
    partial = path.with_name(f'.{path.stem}.partial{path.suffix}')  # the suffix keeps the format
    with ScoreWriter(partial) as writer:
        writer.write(rows)
    partial.replace(path)


def read_scores(path: Path) -> dict[str, float]:
    """The rows of a score file written by :class:`ScoreWriter` or :func:`write_scores`.

    A CSV whose last line was cut off by an interrupted run loses that line only.

    Raises:
        ValueError: The file is not a score file (another format, other columns, a score that
            is not a number).
    """
    text = path.read_bytes().decode('utf-8', errors='replace')
    try:
        if is_json(path):
            records = json.loads(text)
            rows = [(r['path'], r['score']) for r in records]
        else:
            if not text.endswith('\n'):  # interrupted in the middle of a row
                text = text[: text.rfind('\n') + 1]
            reader = csv.DictReader(io.StringIO(text))
            if reader.fieldnames is not None and tuple(reader.fieldnames) != FIELDS:
                raise ValueError(f'its columns are {reader.fieldnames}, not {list(FIELDS)}')
            rows = [(r['path'], r['score']) for r in reader]
        return {str(p): float(s) for p, s in rows}
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f'{path} is not a score file of lifeiqa score ({error})') from None
