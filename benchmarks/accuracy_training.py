"""Data and training for ``accuracy.py``: the synthetic set, pyiqa's options, one split trained and tested.

Training is pyiqa's own loop (``pyiqa.train.train_pipeline`` with ``GeneralNRDataset``; the
checkpoint is chosen on the validation part by SRCC); testing is the project's one evaluation path
(:func:`pyiqa_lifeiqa.benchmark.evaluate`).
"""

from __future__ import annotations

import argparse
import copy
import logging
from pathlib import Path

import numpy as np
from accuracy_heads import HEADS, Head, Setup
from pyiqa import create_metric
from pyiqa.archs import build_network
from pyiqa.data import build_dataset
from pyiqa.train import train_pipeline
from pyiqa.utils import get_root_logger, set_random_seed

import pyiqa_lifeiqa.models.lifeiqa_model  # noqa: F401  (registers LifeIQAModel)
from pyiqa_lifeiqa.benchmark import evaluate
from pyiqa_lifeiqa.data.synthetic import make_synthetic_dataset
from pyiqa_lifeiqa.io import IMAGE_EXTENSIONS
from pyiqa_lifeiqa.weights.checkpoint import load_weights_into

METRICS = {'srcc': {'type': 'calculate_srcc'}, 'plcc': {'type': 'calculate_plcc'}}


def photo_sample(photos: Path, count: int, seed: int, folder: Path) -> Path:
    """Link a seeded sample of ``count`` photographs of ``photos`` into ``folder``.

    The sample is drawn from the sorted file names with numpy's generator, so that it depends
    only on the folder's content, ``count`` and ``seed``; ``folder/photos.txt`` lists it.
    """
    names = sorted(p.name for p in photos.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
    if len(names) < count:
        raise SystemExit(f'--photos: {photos} has {len(names)} images, the setup asks for {count}')
    chosen = sorted(np.random.default_rng(seed).choice(names, size=count, replace=False).tolist())
    folder.mkdir(parents=True, exist_ok=True)
    for name in chosen:
        link = folder / name
        if not link.exists():
            link.symlink_to((photos / name).resolve())
    (folder / 'photos.txt').write_text(''.join(f'{name}\n' for name in chosen))
    return folder


def prepare_dataset(root: Path, setup: Setup, photos: Path | None = None) -> Path:
    """Make the synthetic dataset at ``root`` unless it is already there.

    Its pristine images are :func:`photo_sample` of ``photos`` (e.g. ``lifeiqa fetch-photos``'s
    ``images/``), or scikit-image's photographs when ``photos`` is None.
    """
    if not (root / 'meta_info.csv').is_file():
        images = photo_sample(photos, setup.photos, setup.seed, root.parent / f'{root.name}_photos') if photos else None
        make_synthetic_dataset(
            root,
            images=images,
            size=setup.image_size,
            levels=setup.levels,
            distortions=list(setup.distortions),
            metrics=setup.metrics,
            seed=setup.seed,
        )
    return root


def dataset_options(data: Path, phase: str, split: int, setup: Setup) -> dict:
    """pyiqa ``GeneralNRDataset`` options for one part of one split.

    Training sees one random ``crop_size`` crop per image (plus horizontal flip); validation and
    test see the whole image, which every head scores as the mean of ``test_sample`` uniform crops.
    """
    options = {
        'name': f'synthetic_{phase}',
        'type': 'GeneralNRDataset',
        'dataroot_target': str(data / 'images'),
        'meta_info_file': str(data / 'meta_info.csv'),
        'split_file': str(data / 'splits.pkl'),
        'split_index': split,
        'phase': phase,
        'num_worker_per_gpu': 0,
        'batch_size_per_gpu': 1,
    }
    if phase == 'train':
        options.update(
            augment={'hflip': True, 'random_crop': setup.crop_size},
            batch_size_per_gpu=setup.batch_size,
            use_shuffle=True,
            dataset_enlarge_ratio=1,
        )
    return options


def training_options(name: str, head: Head, data: Path, split: int, setup: Setup, root: Path) -> dict:
    """A complete pyiqa training option dict (what ``parse_options`` makes of a YAML file)."""
    experiment = root / 'experiments' / name
    return {
        'name': name,
        'model_type': head.model_type,
        'num_gpu': 0,
        'manual_seed': setup.seed,
        'dist': False,
        'rank': 0,
        'world_size': 1,
        'is_train': True,
        'auto_resume': False,
        'root_path': str(root),
        'datasets': {phase: dataset_options(data, phase, split, setup) for phase in ('train', 'val')},
        'network': head.network(setup),
        'path': {
            'experiments_root': str(experiment),
            'models': str(experiment / 'models'),
            'training_states': str(experiment / 'training_states'),
            'log': str(experiment),
            'visualization': str(experiment / 'visualization'),
        },
        'train': {
            'optim': {'type': 'AdamW', 'lr': setup.lr, 'weight_decay': setup.weight_decay},
            'scheduler': {'type': 'CosineAnnealingLR', 'T_max': epochs(data, split, setup), 'eta_min': 0.0},
            'total_iter': setup.iters,
            'warmup_iter': -1,
            # the loss of the default model's recipe (pyiqa_lifeiqa/recipes/default_model.yml)
            'mos_loss_opt': {'type': 'MSELoss', 'loss_weight': 1.0},
            'metric_loss_opt': {'type': 'RankLoss', 'loss_weight': 1.0},
        },
        'val': {'val_freq': val_freq(setup), 'save_img': False, 'key_metric': 'srcc', 'metrics': METRICS},
        'logger': {
            'print_freq': val_freq(setup),
            'save_checkpoint_freq': 10**9,
            'save_latest_freq': 10**9,
            'use_tb_logger': False,
        },
    }


def epochs(data: Path, split: int, setup: Setup) -> int:
    """Epochs pyiqa's loop runs for ``setup.iters`` iterations (its LR scheduler steps once per epoch)."""
    train_size = len(build_dataset(dataset_options(data, 'train', split, setup)))
    return -(-setup.iters * setup.batch_size // train_size)


def val_freq(setup: Setup, checks: int = 4) -> int:
    """Validation interval giving ``checks`` validations, the last one being pyiqa's end-of-training check."""
    return max(1, (setup.iters - 1) // (checks - 1))


def write_options(options: dict, path: Path) -> Path:
    """Write pyiqa options as YAML (pyiqa copies this file into the experiment folder)."""
    import yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(options, sort_keys=False))
    return path


def log_pyiqa_to(path: Path) -> Path:
    """Send pyiqa's full training log (options, losses, every validation) to ``path``; only its warnings to the console.

    pyiqa's logger takes its file from the first call that sets it up, so this must run before any
    pyiqa dataset or model is built.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = get_root_logger(log_level=logging.INFO, log_file=str(path))
    for handler in logger.handlers:
        if not isinstance(handler, logging.FileHandler):
            handler.setLevel(logging.WARNING)
    return path


def train_split(head_name: str, data: Path, split: int, setup: Setup, root: Path) -> tuple[Path, dict]:
    """Train one head on one split with pyiqa's training loop.

    Returns:
        The checkpoint chosen on the validation part (``net_best.pth``) and pyiqa's best
        validation record ``{metric: {'val': value, 'iter': iteration}}``.
    """
    name = f'{head_name}_split{split:02d}'
    options = training_options(name, HEADS[head_name], data, split, setup, root)
    options_file = write_options(options, root / 'options' / f'{name}.yml')
    set_random_seed(setup.seed)  # what pyiqa's parse_options does for a YAML run
    best = train_pipeline(str(root), copy.deepcopy(options), argparse.Namespace(opt=str(options_file)))
    return Path(options['path']['models']) / 'net_best.pth', best['synthetic_val']


def test_scores(network: dict, checkpoint: Path, data: Path, split: int, setup: Setup) -> dict[str, float]:
    """SRCC and PLCC of a checkpoint on the test part of a split (the project's one evaluation path)."""
    net = build_network(copy.deepcopy(network))
    load_weights_into(net, path=checkpoint)
    result = evaluate(net, dataset_options(data, 'test', split, setup), 'cpu', batch_size=setup.batch_size)
    return {'srcc': result.srcc, 'plcc': result.plcc}


def test_classic(name: str, data: Path, split: int, setup: Setup) -> dict[str, float]:
    """SRCC and PLCC of one of pyiqa's classic metrics on the test part of a split (same evaluation path)."""
    result = evaluate(create_metric(name, device='cpu'), dataset_options(data, 'test', split, setup), 'cpu')
    return {'srcc': result.srcc, 'plcc': result.plcc}
