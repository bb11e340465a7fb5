"""Accuracy of a model on held-out content of a synthetic dataset (the default model's targets).

On the ``test`` part of a split of a dataset made by ``lifeiqa make-synthetic`` (content-disjoint
by reference image), it measures:

* SRCC / PLCC of the scores against the pseudo-MOS (target: SRCC >= 0.90);
* for each (reference, distortion) series, the Spearman correlation between score and level; the
  median over series should be <= -0.9 (scores fall as the level rises);
* the share of (pristine, distorted) pairs of the same reference where the pristine image scores
  higher (target: >= 95%);
* for a Life-IQA model with a routed MoE head, the share of the tokens' expert assignments each
  expert got over the scored images (``expert_shares``; 1/E each under perfect balance).

Lower-is-better metrics (NIQE, BRISQUE, PIQE) are negated first, so every measure reads the same
way for every metric (``lifeiqa prepare-baselines`` makes NIQE and BRISQUE work offline).

``--by-distortion`` writes the same measures per distortion type (the SRCC within the type), and
``--by-reference`` per reference image (its pristine and distorted versions), to show where a model
fails. ``--phase val`` measures the validation part instead, to choose between
candidate weights (``--weights``: a checkpoint for the metric) without looking at the test part.

Usage:
    python benchmarks/default_model.py --data DATASET_ROOT [--metric lifeiqa] [--weights CKPT]
        [--split-index 1] [--phase test]
        [--csv benchmarks/results/default_model_photos.csv]
        [--by-distortion benchmarks/results/default_model_photos_by_distortion.csv]
        [--by-reference benchmarks/results/default_model_photos_by_reference.csv]
"""

from __future__ import annotations

import argparse
import pickle
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pyiqa
import torch
from pyiqa.metrics import calculate_plcc, calculate_srcc
from results_io import provenance, write_results

from pyiqa_lifeiqa import benchmark
from pyiqa_lifeiqa.classic_parameters import parameter_file
from pyiqa_lifeiqa.device import default_device
from pyiqa_lifeiqa.weights.resolve import resolve_weight_file


def held_out_rows(data: Path, split_index: int, phase: str = 'test') -> pd.DataFrame:
    """The meta rows of one part of a split, in the order pyiqa's dataset yields them."""
    meta = pd.read_csv(data / 'meta_info.csv')
    with open(data / 'splits.pkl', 'rb') as f:  # our own split file
        part = pickle.load(f)[split_index][phase]
    return meta.iloc[part].reset_index(drop=True)


def evaluate(scores: np.ndarray, rows: pd.DataFrame) -> dict[str, float]:
    """The three targets from scores aligned with ``rows``."""
    rows = rows.assign(score=scores)
    distorted = rows[rows.distortion != 'pristine']
    series_rho = [
        calculate_srcc(group.score.to_numpy(), group.level.to_numpy())
        for _, group in distorted.groupby(['ref_name', 'distortion'])
        if group.score.nunique() > 1
    ]
    pristine = rows[rows.distortion == 'pristine'].set_index('ref_name').score
    wins = (distorted.score.to_numpy() < pristine.loc[distorted.ref_name].to_numpy()).mean()
    return {
        'images': len(rows),
        'references': rows.ref_name.nunique(),
        'srcc': float(calculate_srcc(rows.score.to_numpy(), rows.mos.to_numpy())),
        'plcc': float(calculate_plcc(rows.score.to_numpy(), rows.mos.to_numpy())),
        'median_level_srcc': float(statistics.median(series_rho)),
        'series': len(series_rho),
        'pristine_wins': float(wins),
    }


def evaluate_by_distortion(scores: np.ndarray, rows: pd.DataFrame) -> list[dict[str, float | str]]:
    """The three measures for each distortion type: its images and their references' pristine images."""
    rows = rows.assign(score=scores)
    pristine = rows[rows.distortion == 'pristine']
    results = []
    for distortion, group in rows[rows.distortion != 'pristine'].groupby('distortion'):
        subset = pd.concat([pristine[pristine.ref_name.isin(group.ref_name)], group])
        measures = evaluate(subset.score.to_numpy(), subset.drop(columns='score'))
        measures['srcc'] = float(calculate_srcc(group.score.to_numpy(), group.mos.to_numpy()))
        del measures['plcc']
        results.append({'distortion': distortion, **measures})
    return results


def evaluate_by_reference(scores: np.ndarray, rows: pd.DataFrame) -> list[dict[str, float | str]]:
    """The measures for each reference image, over its pristine and distorted versions."""
    rows = rows.assign(score=scores)
    return [
        {'ref_name': ref, **evaluate(group.score.to_numpy(), group.drop(columns='score'))}
        for ref, group in rows.groupby('ref_name')
    ]


def record_expert_shares(net: torch.nn.Module) -> list[torch.Tensor] | None:
    """Collect, for every forward of a Life-IQA MoE head, the share of assignments each expert got.

    Returns the list the shares are appended to (one (E,) tensor per forward, over its tokens),
    or None when ``net`` has no routed MoE head.
    """
    moe = getattr(getattr(net, 'head', None), 'moe', None)
    if not hasattr(moe, 'router'):
        return None
    shares = []
    moe.register_forward_hook(lambda module, args, output: shares.append(output[1]['expert_share'].cpu()))
    return shares


def traced(metric: str, weights: Path | None, data: Path) -> dict[str, str]:
    """The provenance columns of a result of ``metric`` on ``data``, the same for every metric so that
    one CSV holds them all: ``weights_sha256`` is that of ``weights``, else of the lifeiqa metric's
    weight file or of NIQE's / BRISQUE's prepared parameters, else ``none`` (PIQE has no file)."""
    if weights is None:
        weights = resolve_weight_file(metric) if metric.startswith('lifeiqa') else parameter_file(metric)
    return {'weights_sha256': 'none', **provenance(weights=weights, dataset=data)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', type=Path, required=True, help='root of a make-synthetic dataset')
    parser.add_argument('--metric', default='lifeiqa')
    parser.add_argument('--weights', type=Path, help='checkpoint for the metric (its pretrained_model_path)')
    parser.add_argument('--split-index', type=int, default=1)
    parser.add_argument('--phase', choices=('test', 'val'), default='test', help='part of the split to measure')
    parser.add_argument('--device', default=default_device())
    parser.add_argument('--csv', type=Path, help='append the result row to this CSV')
    parser.add_argument('--by-distortion', type=Path, help='append the measures per distortion type to this CSV')
    parser.add_argument('--by-reference', type=Path, help='write the measures per reference image to this CSV')
    args = parser.parse_args()

    rows = held_out_rows(args.data, args.split_index, args.phase)
    opts = benchmark.csv_dataset_opts(
        args.data / 'meta_info.csv', args.data / 'images', args.data / 'splits.pkl', args.split_index, args.phase
    )
    weights = {} if args.weights is None else {'pretrained_model_path': str(args.weights)}
    metric = pyiqa.create_metric(args.metric, device=args.device, **weights)
    shares = record_expert_shares(metric.net)
    trace = traced(args.metric, args.weights, args.data)
    evaluation = benchmark.evaluate(metric, opts, args.device)
    scores, mos = evaluation.preds, evaluation.mos
    if not np.allclose(mos, rows.mos.to_numpy(), atol=1e-5):
        raise RuntimeError('dataset order does not match the split rows')
    scores = -np.asarray(scores) if metric.lower_better else np.asarray(scores)  # higher = better from here on
    result = {'metric': args.metric, 'split_index': args.split_index, 'phase': args.phase}
    result.update(evaluate(np.asarray(scores), rows))
    # Every forward routes the same number of tokens (one image's crops x queries); '' without a routed MoE.
    result['expert_shares'] = '/'.join(f'{v:.3f}' for v in torch.stack(shares).mean(0).tolist()) if shares else ''
    for key, value in result.items():
        print(f'{key:>18}: {value:.4f}' if isinstance(value, float) else f'{key:>18}: {value}')
    if args.csv:
        write_results([result], args.csv, trace, append=True)
    if args.by_distortion:
        by_distortion = evaluate_by_distortion(np.asarray(scores), rows)
        rows_out = [{'metric': args.metric, **r} for r in by_distortion]
        write_results(rows_out, args.by_distortion, trace, append=True)
        for r in sorted(by_distortion, key=lambda r: r['pristine_wins']):
            print(
                f'{r["distortion"]:>20}: srcc {r["srcc"]:.3f}  level {r["median_level_srcc"]:.3f}'
                f'  pristine wins {r["pristine_wins"]:.3f}'
            )

    if args.by_reference:
        by_reference = evaluate_by_reference(np.asarray(scores), rows)
        write_results([{'metric': args.metric, **r} for r in by_reference], args.by_reference, trace)
        for r in sorted(by_reference, key=lambda r: r['srcc']):
            print(f'{r["ref_name"]:>20}: srcc {r["srcc"]:.3f}  pristine wins {r["pristine_wins"]:.3f}')


if __name__ == '__main__':
    main()
