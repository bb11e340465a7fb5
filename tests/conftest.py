"""Shared pytest fixtures."""

from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest


@pytest.fixture
def weight_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """Empty weight folders in ``tmp_path`` replace every place weights are searched or cached.

    Returns a namespace with the folders ``env``, ``package`` (the package's shipped weights)
    and ``cache`` (pyiqa's cache). ``LIFEIQA_WEIGHTS_DIR`` is unset: set it to ``env`` to use it.
    """
    from pyiqa_lifeiqa.weights import locate

    dirs = SimpleNamespace(**{name: tmp_path / f'weights_{name}' for name in ('env', 'package', 'cache')})
    for folder in vars(dirs).values():
        folder.mkdir()
    monkeypatch.delenv(locate.ENV_WEIGHTS_DIR, raising=False)
    monkeypatch.setattr(locate, 'PACKAGE_WEIGHTS_DIR', dirs.package)
    monkeypatch.setattr(locate, 'CACHE_DIR', dirs.cache)
    return dirs


@pytest.fixture
def tiny_lifeiqa_config() -> dict:
    """A LifeIQA config that builds and runs in well under a second on a CPU (pass backbone_pretrain=False)."""
    return dict(backbone='resnet18', embed_dim=32, num_heads=4, num_experts=2, depth=2, test_sample=2)


@pytest.fixture
def lifeiqa_test_metric(tiny_lifeiqa_config: dict, tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> str:
    """A temporary pyiqa metric ``lifeiqa-test``: the tiny LifeIQA with fixed random weights.

    The weights are written to a file of their own (seed 0), so every ``create_metric`` of the
    metric scores alike. The entry is added to pyiqa's ``DEFAULT_CONFIGS`` for this test only.
    Returns the metric name.
    """
    import torch
    from pyiqa.archs import build_network
    from pyiqa.default_model_configs import DEFAULT_CONFIGS
    from safetensors.torch import save_file

    opts = {'type': 'LifeIQA', **tiny_lifeiqa_config, 'backbone_pretrain': False}
    torch.manual_seed(0)
    weights = tmp_path_factory.mktemp('lifeiqa-test-weights') / 'lifeiqa-test.safetensors'
    save_file(build_network(opts).state_dict(), str(weights))
    entry = {
        'metric_opts': {**opts, 'pretrained_model_path': str(weights)},
        'metric_mode': 'NR',
        'lower_better': False,
        'score_range': '~0, ~1',
    }
    monkeypatch.setitem(DEFAULT_CONFIGS, 'lifeiqa-test', entry)
    return 'lifeiqa-test'


@pytest.fixture
def tiny_nr_dataset(tmp_path: Path) -> Path:
    """A dataset in make-synthetic's layout: 5 references x (pristine + 2 noise levels) of 40x40 images.

    ROOT/images/*.png, ROOT/meta_info.csv (image, mos, ref_name, distortion, level) and
    ROOT/splits.pkl (3 content-disjoint splits). The MOS falls with the noise level.
    """
    import csv

    import numpy as np
    from PIL import Image

    from pyiqa_lifeiqa.data.splits import make_splits, save_splits

    root = tmp_path / 'tiny_dataset'
    (root / 'images').mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    for ref in range(5):
        clean = rng.random((40, 40, 3))
        for level in range(3):
            noisy = np.clip(clean + level * 0.2 * rng.standard_normal(clean.shape), 0, 1)
            name = f'ref{ref}_noise_{level}.png'
            Image.fromarray((noisy * 255).astype('uint8')).save(root / 'images' / name)
            rows.append((name, 1.0 - level / 2, f'ref{ref}', 'noise' if level else 'pristine', level))
    with open(root / 'meta_info.csv', 'w', newline='') as f:
        csv.writer(f).writerows([('image', 'mos', 'ref_name', 'distortion', 'level'), *rows])
    save_splits(
        make_splits(len(rows), [r[2] for r in rows], num_splits=3, test_ratio=0.2, val_ratio=0.25), root / 'splits.pkl'
    )
    return root


@pytest.fixture
def tiny_train_options(tiny_nr_dataset: Path, tmp_path: Path) -> Path:
    """A pyiqa option file that trains a tiny LifeIQA (LifeIQAModel) on ``tiny_nr_dataset`` for 4 iterations."""
    import yaml

    data = {
        'type': 'GeneralNRDataset',
        'dataroot_target': str(tiny_nr_dataset / 'images'),
        'meta_info_file': str(tiny_nr_dataset / 'meta_info.csv'),
        'split_file': str(tiny_nr_dataset / 'splits.pkl'),
        'split_index': 1,
        'num_worker_per_gpu': 0,
    }
    opt = {
        'name': 'tiny_lifeiqa',
        'model_type': 'LifeIQAModel',
        'num_gpu': 0,
        'manual_seed': 0,
        'datasets': {
            'train': {
                **data,
                'name': 'tiny_train',
                'phase': 'train',
                'augment': {'hflip': True, 'random_crop': 32},
                'use_shuffle': True,
                'batch_size_per_gpu': 4,
                'dataset_enlarge_ratio': 1,
                'prefetch_mode': None,
            },
            'val': {**data, 'name': 'tiny_val', 'phase': 'val', 'batch_size_per_gpu': 1},
        },
        'network': {
            'type': 'LifeIQA',
            'backbone': 'resnet18',
            'embed_dim': 32,
            'num_heads': 4,
            'depth': 2,
            'num_experts': 2,
            'crop_size': 32,
            'test_sample': 2,
            'drop_path_rate': 0.0,
            'backbone_pretrain': False,
        },
        'path': {'pretrain_network': None, 'strict_load': True, 'resume_state': None},
        'train': {
            'optim': {'type': 'AdamW', 'lr': 1e-3, 'weight_decay': 0.01},
            'scheduler': {'type': 'MultiStepLR', 'milestones': [100], 'gamma': 0.1},
            'total_iter': 4,
            'warmup_iter': -1,
            'grad_clip': 5.0,
            'mos_loss_opt': {'type': 'SmoothL1Loss', 'loss_weight': 1.0},
        },
        'val': {
            'val_freq': 2,
            'save_img': False,
            'pbar': False,
            'key_metric': 'srcc',
            'metrics': {'srcc': {'type': 'calculate_srcc'}, 'plcc': {'type': 'calculate_plcc'}},
        },
        'logger': {
            'print_freq': 1,
            'save_checkpoint_freq': 2,
            'save_latest_freq': 2,
            'use_tb_logger': False,
            'wandb': {'project': None, 'resume_id': None},
        },
        'dist_params': {'backend': 'gloo', 'port': 29500},
    }
    path = tmp_path / 'tiny_train.yml'
    path.write_text(yaml.safe_dump(opt))
    return path


class ReportPage(HTMLParser):
    """What a test reads of a ``lifeiqa score --report`` page: table rows, histogram counts, the worst and
    best figures' texts, every URL."""

    def __init__(self, text: str):
        super().__init__()
        self.rows, self.counts, self.urls, self.sections = [], [], [], {}
        self._cells, self._in_cell, self._section = None, False, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ('src', 'href', 'action', 'data'):
            if name in attrs:
                self.urls.append(attrs[name])
        if tag == 'div' and attrs.get('id') in ('worst', 'best'):
            self._section = self.sections.setdefault(attrs['id'], [])
        elif tag == 'figure' and self._section is not None:
            self._section.append('')
        elif tag == 'rect':
            self.counts.append(int(attrs['data-count']))
        elif tag == 'tr':
            self._cells = []
        elif tag == 'td':
            self._in_cell = True
            self._cells.append('')

    def handle_endtag(self, tag):
        if tag == 'td':
            self._in_cell = False
        elif tag == 'tr' and self._cells:
            self.rows.append(self._cells)
            self._cells = None
        elif tag == 'div':
            self._section = None

    def handle_data(self, data):
        if self._in_cell:
            self._cells[-1] += data
        elif self._section is not None and self._section:
            self._section[-1] += data


@pytest.fixture
def report_page() -> type[ReportPage]:
    """``report_page(html_text)`` reads a report page (pyiqa_lifeiqa/visual/report.py)."""
    return ReportPage
