"""Score IQA datasets with any pyiqa metrics and tabulate PLCC/SRCC/KRCC as pyiqa's benchmark does.

Datasets are pyiqa's own (``pyiqa/default_dataset_configs.yml``, whose ``./datasets`` prefix is
replaced by a data root) or a CSV of ``path,mos`` rows. The table has pyiqa's benchmark layout:
a ``Metric name`` column, then one ``<dataset>(PLCC/SRCC/KRCC)`` column per dataset with cells
``plcc/srcc/krcc`` rounded to 4 decimals.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from pyiqa import create_metric, get_dataset_info
from pyiqa.data import build_dataset
from pyiqa.metrics import calculate_krcc, calculate_plcc, calculate_srcc
from torch.utils.data import DataLoader
from tqdm import tqdm

PYIQA_DATA_PREFIX = './datasets'


def pyiqa_dataset_opts(name: str, data_root: str | Path) -> dict:
    """pyiqa's options for a named dataset, with its files looked up under ``data_root``."""
    try:
        opts = dict(get_dataset_info(name))
    except AssertionError:
        known = ', '.join(sorted(get_dataset_info()))
        raise KeyError(f'unknown pyiqa dataset {name!r}; known: {known}') from None
    for key, value in opts.items():
        if isinstance(value, str) and value.startswith(PYIQA_DATA_PREFIX):
            opts[key] = str(Path(data_root) / value[len(PYIQA_DATA_PREFIX) :].lstrip('/'))
    opts.setdefault('phase', 'test')
    return opts


def csv_dataset_opts(
    csv_file: str | Path,
    image_root: str | Path | None = None,
    split_file: str | Path | None = None,
    split_index: int = 1,
    phase: str = 'test',
) -> dict:
    """Options of a pyiqa ``GeneralNRDataset`` over a CSV whose first two columns are path and MOS.

    Args:
        csv_file: The CSV (a header row, then ``path,mos,...`` rows).
        image_root: Folder the paths are relative to (default: the CSV's folder).
        split_file: Optional pyiqa split pickle; with it only the ``phase`` part is scored.
        split_index: Split to use from ``split_file``.
        phase: Part of the split to score.
    """
    csv_file = Path(csv_file)
    if not csv_file.is_file():
        raise FileNotFoundError(f'dataset CSV not found: {csv_file}')
    opts = {
        'name': csv_file.stem,
        'type': 'GeneralNRDataset',
        'dataroot_target': str(image_root or csv_file.parent),
        'meta_info_file': str(csv_file),
        'phase': phase,
    }
    if split_file is not None:
        opts.update(split_file=str(split_file), split_index=split_index)
    return opts


@dataclass(frozen=True)
class Evaluation:
    """A metric's scores on a dataset and their correlations with the MOS.

    Attributes:
        preds: Predicted scores, in dataset order, as the metric gives them.
        mos: Ground-truth MOS, in the same order.
        plcc, srcc, krcc: pyiqa's correlations, with the scores negated first for a metric whose
            lower scores are better.
    """

    preds: list[float]
    mos: list[float]
    plcc: float
    srcc: float
    krcc: float


def evaluate(
    metric: torch.nn.Module,
    dataset_opts: dict,
    device: str | torch.device,
    batch_size: int = 1,
    lower_better: bool | None = None,
) -> Evaluation:
    """Score every image of a pyiqa dataset and correlate the scores with its MOS: the one evaluation
    path of the project (``lifeiqa benchmark``, ``train-splits`` and the benchmark scripts use it).

    Args:
        metric: A pyiqa metric, or any network that maps an image batch to scores (taken as
            no-reference; put in eval mode here).
        dataset_opts: pyiqa dataset options; the dataset is built with its own test transforms
            (e.g. SPAQ's resize).
        device: Device the images (and so the network) run on.
        batch_size: Images scored together (only for datasets whose images share one size).
        lower_better: Whether lower scores are better; default: the metric's ``lower_better``.

    Raises:
        ValueError: A full-reference metric on a dataset without references, or fewer than 3 images.
    """
    dataset = build_dataset(dataset_opts)
    full_reference = getattr(metric, 'metric_mode', 'NR') == 'FR'
    if full_reference and 'dataroot_ref' not in dataset_opts:
        name = getattr(metric, 'metric_name', 'the metric')
        raise ValueError(
            f'{name} is a full-reference metric but dataset {dataset_opts["name"]!r} has no reference images; '
            'use no-reference metrics on it'
        )
    metric.eval()
    preds, mos = [], []
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    with torch.no_grad(), tqdm(total=len(dataset), desc=dataset_opts['name'], unit='img') as progress:
        for batch in loader:
            img = batch['img'].to(device)
            score = metric(img, batch['ref_img'].to(device)) if full_reference else metric(img)
            preds += score.flatten().tolist()
            mos += batch['mos_label'].flatten().tolist()
            progress.update(len(img))
    if lower_better is None:
        lower_better = bool(getattr(metric, 'lower_better', False))
    return Evaluation(preds, mos, *correlations(preds, mos, lower_better))


def correlations(preds: Sequence[float], mos: Sequence[float], lower_better: bool = False) -> tuple[float, ...]:
    """PLCC, SRCC and KRCC (pyiqa's functions), with scores negated for lower-is-better metrics."""
    if len(preds) < 3:
        raise ValueError(f'need at least 3 scored images to correlate, got {len(preds)}')
    signed = [-p for p in preds] if lower_better else list(preds)
    return tuple(float(f(signed, mos)) for f in (calculate_plcc, calculate_srcc, calculate_krcc))


def run_benchmark(
    metrics: Sequence[str],
    datasets: dict[str, dict],
    device: str | torch.device = 'cpu',
    csv_path: str | Path | None = None,
) -> list[list[str]]:
    """Score each dataset with each metric; return (and optionally write) pyiqa's benchmark table.

    Args:
        metrics: pyiqa metric names (built-ins and lifeiqa alike).
        datasets: Display name -> pyiqa dataset options.
        device: Device to run the metrics on.
        csv_path: Where to write the table as CSV.
    """
    table = [['Metric name'] + [f'{name}(PLCC/SRCC/KRCC)' for name in datasets]]
    for metric_name in metrics:
        metric = create_metric(metric_name, device=device)
        row = [metric_name]
        for opts in datasets.values():
            result = evaluate(metric, opts, device)
            row.append('/'.join(str(round(v, 4)) for v in (result.plcc, result.srcc, result.krcc)))
        table.append(row)
    if csv_path is not None:
        Path(csv_path).parent.mkdir(parents=True, exist_ok=True)
        with open(csv_path, 'w', newline='') as f:
            csv.writer(f).writerows(table)
    return table
