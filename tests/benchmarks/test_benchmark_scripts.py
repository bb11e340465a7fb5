"""Smoke tests of the benchmark scripts' building blocks (accuracy and its modules, baselines, default_model,
restoration_loss, score_throughput, speed)."""

import csv
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image, ImageFilter

from pyiqa_lifeiqa.data.photos import photo_part
from pyiqa_lifeiqa.data.splits import make_splits, save_splits

BENCHMARKS = Path(__file__).resolve().parents[2] / 'benchmarks'
RESULTS = BENCHMARKS / 'results'


def load_script(name: str):
    """Import a script of benchmarks/ by path (the folder is not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


accuracy = load_script('accuracy')
accuracy_heads = load_script('accuracy_heads')
accuracy_summary = load_script('accuracy_summary')
accuracy_training = load_script('accuracy_training')
costs = load_script('costs')
baselines = sys.modules['baselines']
default_model = load_script('default_model')
multisize = load_script('multisize')
restoration_loss = load_script('restoration_loss')
score_throughput = load_script('score_throughput')
speed = load_script('speed')


@pytest.fixture
def tiny_setup():
    """Every head on a small backbone from scratch, with tiny widths, crops, images and budget."""
    return accuracy_heads.Setup(
        backbone='regnetx_002',
        backbone_pretrain=False,
        embed_dim=32,
        num_heads=4,
        num_experts=2,
        crop_size=64,
        test_sample=2,
        image_size=(64, 80),
        splits=1,
        iters=2,
        batch_size=2,
    )


@pytest.fixture
def tiny_dataset(tmp_path, tiny_setup) -> Path:
    """A 3-reference, 4-level blur dataset in make_synthetic_dataset's layout."""
    root = tmp_path / 'data'
    (root / 'images').mkdir(parents=True)
    rows, groups = [], []
    for ref in range(3):
        noise = np.random.default_rng(ref).random((*tiny_setup.image_size, 3))
        base = Image.fromarray((noise * 255).astype('uint8'))
        for level in range(4):
            name = f'ref{ref}_{level}.png'
            base.filter(ImageFilter.GaussianBlur(level)).save(root / 'images' / name)
            rows.append((name, 1.0 - level / 4))
            groups.append(f'ref{ref}')
    with open(root / 'meta_info.csv', 'w', newline='') as f:
        csv.writer(f).writerows([('image', 'mos'), *rows])
    save_splits(make_splits(len(rows), groups, num_splits=1), root / 'splits.pkl')
    return root


def test_every_head_builds_from_its_pyiqa_options_and_scores_images(tiny_setup):
    from pyiqa.archs import build_network

    images = torch.rand(2, 3, *tiny_setup.image_size)
    for name, head in accuracy_heads.HEADS.items():
        net = build_network(head.network(tiny_setup)).eval()
        with torch.no_grad():
            scores = net(images)
        assert scores.shape == (2, 1), name
        assert torch.isfinite(scores).all(), name


def test_lifeiqa_heads_share_width_and_differ_only_in_the_ablated_part(tiny_setup):
    options = {name: accuracy_heads.HEADS[name].network(tiny_setup) for name in accuracy_heads.HEADS}
    lifeiqa = options['lifeiqa']
    assert lifeiqa['embed_dim'] == tiny_setup.embed_dim
    assert options['vanilla_decoder'] == {**lifeiqa, 'decoder': 'vanilla'}
    assert options['gcn_to_self_attn'] == {**lifeiqa, 'query_mixer': 'self_attn'}
    assert options['moe_to_ffn'] == {**lifeiqa, 'num_experts': 1}
    assert options['topiq_nr']['inter_dim'] == tiny_setup.embed_dim
    assert {o.get('backbone', o.get('semantic_model_name')) for o in options.values()} == {tiny_setup.backbone}
    # the MoE auxiliary losses come with pyiqa_lifeiqa's training model; baselines use pyiqa's own
    model_types = {name: head.model_type for name, head in accuracy_heads.HEADS.items()}
    assert {name for name, kind in model_types.items() if kind == 'LifeIQAModel'} == {
        'lifeiqa',
        'vanilla_decoder',
        'gcn_to_self_attn',
        'moe_to_ffn',
    }
    assert model_types['topiq_nr'] == model_types['gap_linear'] == 'GeneralIQAModel'


def test_baselines_take_lifeiqa_crops_and_average_them_in_eval(tiny_setup):
    from pyiqa_lifeiqa.archs.crops import take_crops

    gap = baselines.GAPLinearIQA(backbone='regnetx_002', crop_size=64, test_sample=3).eval()
    x = torch.rand(2, 3, 64, 80)
    crops, per_image = take_crops(x, 64, min_crops=3)
    with torch.no_grad():
        per_crop = gap.fc(gap.backbone((crops - gap.mean) / gap.std)).view(2, per_image)
        assert torch.allclose(gap(x), per_crop.mean(dim=1, keepdim=True), atol=1e-6)
    assert per_image >= 3


def test_baselines_load_the_offline_imagenet_backbone_and_its_normalisation():
    from pyiqa_lifeiqa.weights.backbones import BACKBONE_SOURCES

    scratch = baselines.GAPLinearIQA(backbone='tf_efficientnet_lite0', crop_size=64)
    pretrained = baselines.GAPLinearIQA(backbone='tf_efficientnet_lite0', crop_size=64, backbone_pretrain=True)
    name = 'conv_stem.weight'
    assert not torch.equal(scratch.backbone.state_dict()[name], pretrained.backbone.state_dict()[name])
    source = BACKBONE_SOURCES['tf_efficientnet_lite0']
    assert pretrained.mean.flatten().tolist() == list(source.mean)
    topiq = baselines.TopiqNRScratch(
        semantic_model_name='tf_efficientnet_lite0', inter_dim=32, num_heads=4, crop_size=64, backbone_pretrain=True
    )
    assert torch.equal(topiq.semantic_model.state_dict()[name], pretrained.backbone.state_dict()[name])
    assert topiq.default_std.flatten().tolist() == list(source.std)
    with pytest.raises(ValueError, match='no offline ImageNet weights'):
        baselines.GAPLinearIQA(backbone='regnetx_002', backbone_pretrain=True)


def test_topiq_scratch_trains_backbone_batchnorm_unless_told_to_freeze_it():
    def bn_means(net):
        return torch.cat([m.running_mean for m in net.semantic_model.modules() if isinstance(m, torch.nn.BatchNorm2d)])

    x = torch.rand(2, 3, 64, 64)
    trainable = baselines.TopiqNRScratch(semantic_model_name='regnetx_002', inter_dim=32, num_heads=4, crop_size=64)
    assert all(p.requires_grad for p in trainable.parameters())
    trainable.train()
    trainable(x)
    after_first = bn_means(trainable).clone()
    trainable(x)  # CFANet leaves its backbone in eval mode after a forward; the next must still update BN
    assert not torch.equal(after_first, bn_means(trainable))

    frozen = baselines.TopiqNRScratch(
        semantic_model_name='regnetx_002', inter_dim=32, num_heads=4, crop_size=64, train_bn=False
    )
    bn_params = [
        p for m in frozen.semantic_model.modules() if isinstance(m, torch.nn.BatchNorm2d) for p in m.parameters()
    ]
    assert bn_params and not any(p.requires_grad for p in bn_params)
    frozen.train()
    frozen(x)  # as in CFANet, the first forward after train() still runs the backbone in train mode
    before = bn_means(frozen).clone()
    frozen(x)
    assert torch.equal(before, bn_means(frozen))


def test_costs_count_the_head_apart_from_the_backbone(tiny_setup):
    from pyiqa.archs import build_network

    gap = accuracy_heads.HEADS['gap_linear'].network(tiny_setup)
    lifeiqa = accuracy_heads.HEADS['lifeiqa'].network(tiny_setup)
    total, head = costs.parameter_counts(gap, tiny_setup.backbone)
    assert head == 368 + 1  # regnetx_002's 368 features -> one score
    assert costs.parameter_counts(lifeiqa, tiny_setup.backbone)[1] > head
    assert costs.flops_per_crop(lifeiqa) > costs.flops_per_crop(gap) > 0
    nets = {'gap': build_network(gap), 'lifeiqa': build_network(lifeiqa)}
    latency = costs.latencies_ms(nets, tiny_setup.image_size, repeats=2)
    assert set(latency) == {'gap', 'lifeiqa'} and min(latency.values()) > 0


def test_run_trains_with_pyiqa_scores_classic_metrics_and_writes_csv_and_plot(tiny_setup, tiny_dataset, tmp_path):
    out, work = tmp_path / 'results', tmp_path / 'work'
    rows = accuracy.run(['gap_linear', 'lifeiqa', 'piqe'], tiny_dataset, tiny_setup, work, out, 'acc')
    assert [row['head'] for row in rows] == ['gap_linear', 'lifeiqa', 'piqe']
    for row in rows:
        assert -1.0 <= row['srcc_min'] <= row['srcc_median'] <= row['srcc_max'] <= 1.0
    for row in rows[:2]:
        assert row['params_total'] > row['params_head'] > 0
    assert 'params_total' not in rows[2] and rows[2]['latency_ms'] > 0
    # paired against Life-IQA split by split
    assert rows[0]['srcc_minus_lifeiqa_median'] == pytest.approx(rows[0]['srcc_median'] - rows[1]['srcc_median'])
    assert 'srcc_minus_lifeiqa_median' not in rows[1]
    splits = accuracy_summary.read_csv(out / 'acc_splits.csv')
    assert [(r['head'], r['split']) for r in splits] == [('gap_linear', '1'), ('lifeiqa', '1'), ('piqe', '1')]
    assert all(r['commit'] and r['dataset_meta_sha256'] for r in splits)
    assert (out / 'acc.csv').is_file() and (out / 'acc.png').stat().st_size > 0
    checkpoint = work / 'experiments' / 'lifeiqa_split01' / 'models' / 'net_best.pth'
    assert checkpoint.is_file()

    # resumed: the finished pairs are kept and not trained again
    before = checkpoint.stat().st_mtime_ns
    accuracy.train_and_test(['gap_linear', 'lifeiqa'], tiny_dataset, tiny_setup, work, out / 'acc_splits.csv', True)
    assert accuracy_summary.read_csv(out / 'acc_splits.csv') == splits
    assert checkpoint.stat().st_mtime_ns == before
    with open(tiny_dataset / 'meta_info.csv', 'a') as f:
        f.write('ref0_0.png,0.5\n')  # another dataset now: its rows cannot be resumed
    with pytest.raises(SystemExit, match='holds rows of another dataset'):
        accuracy.train_and_test(['lifeiqa'], tiny_dataset, tiny_setup, work, out / 'acc_splits.csv', True)


def test_paired_differences_count_splits_and_give_a_sign_test():
    rows = [
        {'head': head, 'split': split, 'test_srcc': value}
        for head, values in (('lifeiqa', (0.5, 0.6, 0.7, 0.8, 0.9)), ('gap_linear', (0.6, 0.7, 0.8, 0.9, 1.0)))
        for split, value in enumerate(values, start=1)
    ]
    paired = accuracy_summary.paired_differences(rows, 'gap_linear')
    assert paired['srcc_minus_lifeiqa_median'] == pytest.approx(0.1)
    assert paired['splits_above_lifeiqa'] == '5/5'
    assert paired['sign_test_p'] == pytest.approx(2 / 32)  # the smallest two-sided p that 5 splits can give
    assert accuracy_summary.paired_differences(rows, 'lifeiqa') == {}
    assert accuracy_summary.sign_test_p(2, 2) == 1.0


def test_photo_sample_is_seeded_and_links_the_chosen_photographs(tmp_path):
    photos = tmp_path / 'photos'
    photos.mkdir()
    for index in range(6):
        Image.new('RGB', (8, 8)).save(photos / f'p{index}.png')
    (photos / 'notes.txt').write_text('not an image')
    first = accuracy_training.photo_sample(photos, 3, 0, tmp_path / 'a')
    again = accuracy_training.photo_sample(photos, 3, 0, tmp_path / 'b')
    chosen = (first / 'photos.txt').read_text().split()
    assert chosen == (again / 'photos.txt').read_text().split() and len(chosen) == 3
    assert sorted(p.name for p in first.glob('*.png')) == chosen
    assert all((first / name).resolve() == (photos / name).resolve() for name in chosen)
    with pytest.raises(SystemExit, match='has 6 images'):
        accuracy_training.photo_sample(photos, 7, 0, tmp_path / 'c')


def test_report_only_rebuilds_the_summary_from_the_per_split_csv(tmp_path, monkeypatch):
    splits = [
        {
            'head': 'gap_linear',
            'split': s,
            'best_val_iter': 4,
            'val_srcc': 0.5,
            'test_srcc': v,
            'test_plcc': v,
            'train_s': 1.0,
        }
        for s, v in ((1, 0.2), (2, 0.6), (3, 0.4))
    ]
    accuracy_summary.write_csv(splits, tmp_path / 'acc_splits.csv', {})
    tiny = accuracy_heads.Setup(
        backbone='regnetx_002', backbone_pretrain=False, embed_dim=32, num_heads=4, crop_size=64, image_size=(64, 80)
    )
    monkeypatch.setattr(accuracy, 'Setup', lambda: tiny)  # main() builds the default Setup()
    assert accuracy.main(['--report-only', '--name', 'acc', '--out', str(tmp_path)]) == 0
    with open(tmp_path / 'acc.csv') as f:
        (row,) = list(csv.DictReader(f))
    assert (row['head'], row['splits'], row['srcc_median'], row['srcc_min'], row['srcc_max']) == (
        'gap_linear',
        '3',
        '0.4000',
        '0.2000',
        '0.6000',
    )
    assert (tmp_path / 'acc.png').is_file()
    with pytest.raises(SystemExit, match='no per-split results'):
        accuracy.main(['--report-only', '--name', 'missing', '--out', str(tmp_path)])


def test_bad_budget_on_the_command_line_is_refused(tmp_path):
    with pytest.raises(SystemExit, match='--iters must be positive'):
        accuracy.main(['--iters', '0', '--work', str(tmp_path), '--out', str(tmp_path)])


def synthetic_rows() -> pd.DataFrame:
    """Meta rows as make-synthetic writes them: 2 references, each pristine + 2 distortions x 3 levels."""
    rows = []
    for ref in ('a', 'b'):
        rows.append({'image': f'{ref}.png', 'mos': 1.0, 'ref_name': ref, 'distortion': 'pristine', 'level': 0})
        for distortion in ('blur', 'noise'):
            for level in (1, 2, 3):
                mos = 1.0 - 0.2 * level - (0.05 if ref == 'b' else 0.0)
                rows.append({'image': f'{ref}_{distortion}_{level}.png', 'mos': mos, 'ref_name': ref,
                             'distortion': distortion, 'level': level})  # fmt: skip
    return pd.DataFrame(rows)


def test_default_model_measures_are_perfect_for_the_pseudo_mos_itself():
    rows = synthetic_rows()
    measures = default_model.evaluate(rows.mos.to_numpy(), rows)
    assert measures['srcc'] == pytest.approx(1.0)
    assert measures['median_level_srcc'] == pytest.approx(-1.0)
    assert measures['series'] == 4
    assert measures['pristine_wins'] == 1.0


def test_default_model_results_of_every_metric_have_the_same_columns(tmp_path, monkeypatch):
    from pyiqa_lifeiqa import classic_parameters
    from pyiqa_lifeiqa.weights.resolve import resolve_weight_file, sha256sum

    monkeypatch.setattr(classic_parameters, 'pyiqa_cache_dir', lambda: tmp_path)
    (tmp_path / classic_parameters.NIQE_FILE).write_bytes(b'niqe parameters')
    traced = {m: default_model.traced(m, None, tmp_path / 'data') for m in ('lifeiqa', 'niqe', 'piqe')}
    assert list(traced['lifeiqa']) == list(traced['niqe']) == list(traced['piqe'])  # one CSV holds them all
    assert traced['lifeiqa']['weights_sha256'] == sha256sum(resolve_weight_file('lifeiqa'))
    assert traced['niqe']['weights_sha256'] == sha256sum(tmp_path / classic_parameters.NIQE_FILE)
    assert traced['piqe']['weights_sha256'] == 'none'


def test_default_model_measures_per_distortion_show_which_type_fails():
    rows = synthetic_rows()
    scores = rows.mos.to_numpy().copy()
    noise = (rows.distortion == 'noise').to_numpy()
    scores[noise] = 2.0 - scores[noise]  # noise: above the pristine image, and rising with the level
    overall = default_model.evaluate(scores, rows)
    assert overall['pristine_wins'] == 0.5
    by_type = {r['distortion']: r for r in default_model.evaluate_by_distortion(scores, rows)}
    assert set(by_type) == {'blur', 'noise'}
    assert by_type['blur']['pristine_wins'] == 1.0 and by_type['noise']['pristine_wins'] == 0.0
    assert by_type['blur']['median_level_srcc'] == pytest.approx(-1.0)
    assert by_type['noise']['median_level_srcc'] == pytest.approx(1.0)
    assert by_type['blur']['srcc'] == pytest.approx(1.0) and by_type['noise']['srcc'] == pytest.approx(-1.0)
    assert by_type['noise']['images'] == 8  # its 6 images and the 2 pristine ones


def test_default_model_measures_per_reference_show_which_image_fails():
    rows = synthetic_rows()
    scores = rows.mos.to_numpy().copy()
    b = (rows.ref_name == 'b').to_numpy()
    scores[b] = 2.0 - scores[b]  # reference b: every distorted version above its pristine image
    by_ref = {r['ref_name']: r for r in default_model.evaluate_by_reference(scores, rows)}
    assert set(by_ref) == {'a', 'b'}
    assert by_ref['a']['srcc'] == pytest.approx(1.0) and by_ref['b']['srcc'] == pytest.approx(-1.0)
    assert by_ref['a']['pristine_wins'] == 1.0 and by_ref['b']['pristine_wins'] == 0.0
    assert by_ref['a']['images'] == by_ref['b']['images'] == 7 and by_ref['b']['references'] == 1


def test_default_model_reads_the_val_or_test_part_of_the_split(tiny_dataset):
    meta = pd.read_csv(tiny_dataset / 'meta_info.csv')
    parts = {phase: default_model.held_out_rows(tiny_dataset, 1, phase) for phase in ('val', 'test')}
    for rows in parts.values():
        assert len(rows) == 4  # one reference's 4 levels: 3 references split train/val/test
        assert rows.merge(meta).shape == rows.shape  # rows of the dataset, unchanged
    refs = {phase: {name.split('_')[0] for name in rows.image} for phase, rows in parts.items()}
    assert len(refs['val']) == len(refs['test']) == 1 and refs['val'] != refs['test']


def test_restoration_starts_from_the_degraded_image_and_keeps_it_valid():
    torch.manual_seed(0)
    clean = torch.rand(1, 3, 48, 48)
    for task in restoration_loss.TASKS.values():
        degraded = task.degrade(clean, seed=0)
        assert torch.equal(degraded, task.degrade(clean, seed=0)) and not torch.equal(degraded, clean)
        for form in ('pixels', 'network'):
            assert torch.equal(restoration_loss.restore(degraded, task, form, 0, None), degraded)
            restored = restoration_loss.restore(degraded, task, form, 2, lambda x: -x.mean())
            assert restored.shape == degraded.shape and 0 <= restored.min() and restored.max() <= 1
            assert not torch.equal(restored, degraded)
    denoise = restoration_loss.TASKS['denoise']
    noisy = denoise.degrade(clean, seed=1)
    for form in ('pixels', 'network'):  # alone, the denoising fidelity term keeps the noisy input
        assert torch.allclose(restoration_loss.restore(noisy, denoise, form, 3, None), noisy, atol=1e-6)
    with pytest.raises(ValueError, match="'pixels' or 'network'"):
        restoration_loss.restore(noisy, denoise, 'latent', 1, None)
    deblur, blurred = restoration_loss.TASKS['deblur'], restoration_loss.TASKS['deblur'].degrade(clean, seed=1)
    default = restoration_loss.restore(blurred, deblur, 'pixels', 2, None)
    lr = restoration_loss.LEARNING_RATE['pixels']
    assert torch.equal(restoration_loss.restore(blurred, deblur, 'pixels', 2, None, lr=lr), default)
    assert not torch.equal(restoration_loss.restore(blurred, deblur, 'pixels', 2, None, lr=10 * lr), default)


def test_restoration_command_line_checks_learning_rates_and_methods(tmp_path, capsys):
    parse = restoration_loss.parse_arguments
    defaults = parse(['--photos', 'photos'])
    assert defaults.learning_rates == restoration_loss.LEARNING_RATE and defaults.methods == list(METHODS)
    chosen = parse(['--photos', 'photos', '--forms', 'pixels', '--lr', 'pixels=0.01'])
    assert chosen.learning_rates == {'pixels': 0.01}  # recorded for the forms run only
    refused = {
        ('--lr', 'pixels=abc'): "'abc' is not a number",
        ('--lr', 'pixels'): 'expected FORM=LR',
        ('--lr', 'latent=0.1'): 'expected FORM=LR',
        ('--lr', 'pixels=0'): 'positive and finite',
        ('--lr', 'pixels=inf'): 'positive and finite',
        ('--lr', 'pixels=nan'): 'positive and finite',
        ('--lr', 'pixels=0.1', 'pixels=0.2'): 'names a form twice',
        ('--methods', '+ robust'): "add 'fidelity only'",
        ('--measures', 'psnr'): 'needs --measures psnr niqe brisque piqe lifeiqa',
    }
    for extra, message in refused.items():
        with pytest.raises(SystemExit):
            parse(['--photos', 'photos', *extra])
        assert message in capsys.readouterr().err
    fidelity_alone = parse(['--photos', 'photos', '--methods', 'fidelity only', '--measures', 'psnr'])
    assert fidelity_alone.measures == ['psnr']  # nothing to compare, so nothing more to measure
    with pytest.raises(SystemExit):
        parse([])
    assert '--photos is required' in capsys.readouterr().err
    rows = [
        {'image': 'a', 'task': 'deblur', 'form': 'pixels', 'method': 'fidelity only', **dict.fromkeys(MEASURES, 1.0)}
    ]
    restoration_loss.write_results(rows, tmp_path / 'scan.csv', {'commit': 'abc'})
    with pytest.raises(SystemExit, match='holds no Life-IQA term to compare with fidelity only'):
        restoration_loss.main(['--from-csv', str(tmp_path / 'scan.csv')])
    assert not (tmp_path / 'scan_paired.csv').exists()


def test_restoration_rows_measure_every_method_and_summarise_as_medians(tmp_path):
    rows = [
        {'task': 'deblur', 'form': 'pixels', 'method': 'fidelity only', **dict.fromkeys(MEASURES, value)}
        for value in (1.0, 2.0, 10.0)
    ]
    (summary,) = restoration_loss.summarise(rows)
    assert summary['images'] == 3 and all(summary[m] == 2.0 for m in MEASURES)
    judge = restoration_loss.Judge('cpu', measures=('psnr', 'ssim', 'piqe'))
    clean = torch.rand(1, 3, 64, 64)
    measured = judge(clean, clean)
    assert measured['psnr'] == float('inf') and measured['ssim'] == pytest.approx(1.0)
    assert judge((clean * 0.5), clean)['psnr'] < 20


MEASURES = restoration_loss.FIDELITY + restoration_loss.NO_REFERENCE
METHODS = restoration_loss.METHODS


def test_restoration_terms_are_paired_with_fidelity_only_photograph_by_photograph(tmp_path):
    def row(image, form, method, psnr, niqe, lifeiqa):
        values = {**dict.fromkeys(MEASURES, 5.0), 'psnr': psnr, 'niqe': niqe, 'lifeiqa': lifeiqa}
        return {'image': image, 'task': 'deblur', 'form': form, 'method': method, **values}

    rows = [
        *(row(i, '-', 'clean', float('inf'), 1.0, 0.9) for i in 'ab'),
        row('a', 'pixels', 'fidelity only', 26.0, 8.0, 0.92),  # both already above the clean score
        row('b', 'pixels', 'fidelity only', 24.0, 6.0, 0.91),
        row('a', 'pixels', '+ robust', 25.0, 7.0, 0.95),  # better NIQE, above the clean score, -1 dB
        row('b', 'pixels', '+ robust', 24.0, 9.0, 0.85),  # worse NIQE, below, 0 dB
    ]
    (pair,) = restoration_loss.paired(rows)
    assert (pair['method'], pair['images'], pair['better_niqe'], pair['better_brisque']) == ('+ robust', 2, 1, 0)
    assert pair['above_clean_lifeiqa'] == 1 and pair['fidelity_only_above_clean_lifeiqa'] == 2
    assert pair['median_psnr_change'] == -0.5
    path = tmp_path / 'run.csv'
    restoration_loss.write_results(rows, path, {'commit': 'abc', 'weights_sha256': 'def'})
    again, traced = restoration_loss.read_rows(path)
    assert restoration_loss.paired(again) == [pair] and traced == {'commit': 'abc', 'weights_sha256': 'def'}


def test_restoration_figure_is_one_captioned_row_written_into_a_new_folder(tmp_path):
    images = {key: torch.rand(1, 3, 32, 32) for key in [('-', 'clean'), ('-', 'degraded'), ('pixels', '+ robust')]}
    rows = [{'form': form, 'method': method, 'psnr': 20.0} for form, method in images]  # no lifeiqa measured
    path = tmp_path / 'new' / 'figure.png'
    restoration_loss.save_figure(images, rows, path)
    assert Image.open(path).size == (3 * 32, 32 + restoration_loss.CAPTION)


def test_restoration_photographs_are_the_first_large_enough_of_a_part(tmp_path):
    names = photo_part('val')
    for i, name in enumerate([*names[:3], 'not_held_out']):
        Image.new('RGB', (300, 260 if i != 1 else 100)).save(tmp_path / f'{name}.png')
    assert restoration_loss.split_photographs(tmp_path, 2, 256, 'val') == [
        tmp_path / f'{names[0]}.png',
        tmp_path / f'{names[2]}.png',  # names[1] is smaller than 256 px
    ]
    with pytest.raises(SystemExit, match='holds 2 val photographs of at least 256 px, not 3'):
        restoration_loss.split_photographs(tmp_path, 3, 256, 'val')
    with pytest.raises(SystemExit, match='holds 0 test photographs'):
        restoration_loss.split_photographs(tmp_path, 1, 256)


def test_throughput_jpegs_are_distinct_512x384_images(tmp_path):
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8)).save(tmp_path / 'a.png')
    made = score_throughput.make_jpegs(tmp_path / 'a.png', 5, tmp_path / 'jpegs')
    assert len(made) == 5 and len({p.read_bytes() for p in made}) == 5
    assert all(Image.open(p).size == (512, 384) for p in made)


def test_the_restoration_figure_shows_input_results_and_target_in_that_order(tmp_path):
    images = {
        key: torch.full((1, 3, 32, 40), value)
        for key, value in (
            (('-', 'clean'), 1.0),
            (('-', 'degraded'), 0.0),
            (('pixels', 'fidelity only'), 0.5),
            (('pixels', '+ robust'), 0.75),
        )
    }
    rows = [{'form': f, 'method': m, 'psnr': 20.0, 'lifeiqa': 0.5} for f, m in images]
    restoration_loss.save_figure(images, rows, tmp_path / 'figure.png')
    figure = np.asarray(Image.open(tmp_path / 'figure.png').convert('L'))
    assert figure.shape == (32 + restoration_loss.CAPTION, 4 * 40)
    below_captions = figure[restoration_loss.CAPTION :, ::40]
    assert list(below_captions[0]) == [0, 127, 191, 255]  # degraded, the two results, clean (to_pil_image floors)


def test_speed_times_the_crops_the_paper_model_scores():
    from pyiqa_lifeiqa.archs.config import LifeIQAConfig
    from pyiqa_lifeiqa.archs.crops import take_crops

    image = torch.rand(1, 3, 384, 512)
    paper = LifeIQAConfig()
    expected, _ = take_crops(image, paper.crop_size, min_crops=paper.test_sample, working_size=paper.working_size)
    assert torch.equal(speed.lifeiqa_crops(image), expected)
    square = torch.rand(1, 3, paper.crop_size, paper.crop_size)
    assert speed.lifeiqa_crops(square) is square


def test_multisize_series_run_mildest_first_and_mark_the_everyday_levels(tmp_path):
    clean = np.asarray(
        Image.fromarray((np.random.default_rng(0).random((64, 96, 3)) * 255).astype(np.uint8)).filter(
            ImageFilter.GaussianBlur(2)
        )
    )
    for series in multisize.SERIES:
        errors = [
            np.abs(apply(clean, np.random.default_rng(1)).astype(float) - clean).mean() for apply in series.levels
        ]
        assert errors == sorted(errors), series.name
        assert 1 <= series.mild < len(series.levels)


def test_multisize_sizes_never_enlarge_and_native_only_beyond_1024():
    photo = Image.new('RGB', (1280, 960))
    assert multisize.at_size(photo, '512').size == (512, 384)
    assert multisize.at_size(photo, 'native') is photo
    assert multisize.at_size(Image.new('RGB', (800, 600)), '1024') is None
    assert multisize.at_size(Image.new('RGB', (1024, 768)), 'native') is None
    assert multisize.at_size(Image.new('RGB', (1920, 1080)), 'native') is None  # shrunk by the model itself


def test_multisize_measures_count_clean_wins_overall_mild_and_per_series():
    meta = pd.DataFrame(
        {
            'ref_name': ['a'] * 4 + ['b'] * 4,
            'distortion': ['pristine', 'noise', 'noise', 'noise'] * 2,
            'level': [0, 1, 2, 3] * 2,
            'mild': [False, True, True, False] * 2,
            'mos': [1.0, 0.8, 0.6, 0.2, 0.9, 0.7, 0.5, 0.1],
        }
    )
    scores = np.array([5.0, 6.0, 4.0, 1.0, 5.0, 4.5, 3.0, 2.0])  # a's mild level 1 beats its clean version
    overall, per_series = multisize.measure(scores, meta)
    assert overall['pristine_wins'] == pytest.approx(5 / 6)
    assert overall['clean_wins_mild'] == pytest.approx(3 / 4)
    assert per_series == [
        {'distortion': 'noise', 'clean_wins': pytest.approx(5 / 6), 'clean_wins_mild': 0.75, 'median_level_srcc': -1.0}
    ]
