"""Every shipped recipe (pyiqa_lifeiqa/recipes) builds its pyiqa datasets and model (pyiqa_lifeiqa/train/recipes.py)."""

import csv
import pickle
from pathlib import Path

import numpy as np
import pyiqa
import pytest
import torch
import yaml
from PIL import Image
from pyiqa.data import build_dataset
from pyiqa.models import build_model

from pyiqa_lifeiqa.archs.config import LifeIQAConfig
from pyiqa_lifeiqa.data.splits import make_splits, save_splits
from pyiqa_lifeiqa.train import recipes
from pyiqa_lifeiqa.train.recipes import list_recipes, load_recipe, merge, recipe_path, resolve_recipe
from pyiqa_lifeiqa.weights.registry import WEIGHT_SETS

DATASET_RECIPES = ['csiq', 'flive', 'kadid10k', 'koniq10k', 'live', 'livec', 'spaq', 'synthetic', 'tid2013']
# The reference's settings per dataset: (experts, depth, base lr, crops per image, schedule), and the
# authors' warm-up start lr (their configs' WARMUP_LR); 'synthetic' takes KADID-10k's.
AUTHORS = {
    'live': (8, 4, 2e-5, 35, 'step', 2e-7),
    'csiq': (8, 4, 2e-4, 35, 'step', 2e-4),
    'tid2013': (8, 4, 2e-4, 25, 'step', 2e-4),
    'kadid10k': (8, 4, 2e-5, 35, 'step', 2e-4),
    'livec': (2, 2, 3e-5, 50, 'cosine', 2e-7),
    'koniq10k': (2, 4, 2e-5, 40, 'step', 2e-7),
    'spaq': (8, 4, 2e-5, 40, 'step', 2e-7),
    'flive': (2, 4, 2e-5, 40, 'step', 2e-6),
    'synthetic': (8, 4, 2e-5, 35, 'step', 2e-7),
}


def fake_dataset(opts: dict, n: int = 12) -> None:
    """Write images, a meta CSV in the dataset type's column order, and a split file for ``opts``.

    The synthetic recipe gets make-synthetic's layout: extra columns ref_name, distortion, level and
    splits by reference image.
    """
    target = Path(opts['dataroot_target'])
    ref_dir = Path(opts.get('dataroot_ref', target))
    target.mkdir(parents=True, exist_ok=True)
    ref_dir.mkdir(parents=True, exist_ok=True)
    synthetic = opts['name'].startswith('synthetic')
    if opts['type'] == 'GeneralFRDataset':
        header = ('ref', 'image', 'mos')
    else:
        header = ('image', 'mos', 'ref_name', 'distortion', 'level') if synthetic else ('image', 'mos')
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        Image.fromarray((rng.random((240, 260, 3)) * 255).astype('uint8')).save(target / f'd{i}.png')
        if opts['type'] == 'GeneralFRDataset':
            Image.fromarray((rng.random((240, 260, 3)) * 255).astype('uint8')).save(ref_dir / f'r{i % 3}.png')
            rows.append((f'r{i % 3}.png', f'd{i}.png', float(i)))
        else:
            rows.append((f'd{i}.png', i / n, f'r{i % 4}', 'noise', i // 4)[: len(header)])
    meta = Path(opts['meta_info_file'])
    meta.parent.mkdir(parents=True, exist_ok=True)
    with open(meta, 'w', newline='') as f:
        csv.writer(f).writerows([header, *rows])
    if synthetic:
        save_splits(make_splits(n, [row[2] for row in rows], num_splits=1), opts['split_file'])
        return
    kept = n - 7 if opts['type'] == 'LIVEChallengeDataset' else n
    with open(opts['split_file'], 'wb') as f:
        pickle.dump({1: {'train': list(range(kept - 2)), 'val': [kept - 2], 'test': [kept - 1]}}, f)


def test_every_dataset_has_a_recipe_and_each_recipe_a_description():
    recipes = list_recipes()
    assert set(DATASET_RECIPES) <= set(recipes)
    assert all(recipes.values())
    with pytest.raises(ValueError, match='unknown recipe'):
        recipe_path('imagenet')


@pytest.mark.parametrize('name', DATASET_RECIPES)
def test_recipe_reproduces_the_authors_settings(name):
    opt = load_recipe(name)
    experts, depth, lr, crops, sched, warmup_lr = AUTHORS[name]
    assert opt['model_type'] == 'LifeIQAModel'
    named = opt['network'].get('config')  # a weight set's network, or the paper's defaults
    base = WEIGHT_SETS[named].config if named else LifeIQAConfig()
    config = base.updated(**{k: v for k, v in opt['network'].items() if k in LifeIQAConfig().to_dict()})
    assert config.backbone == 'swin_base_patch4_window7_224'
    assert (config.num_experts, config.depth, config.test_sample) == (experts, depth, crops)
    assert opt['train']['optim'] == {'type': 'AdamW', 'lr': lr, 'weight_decay': 0.01}
    # 30 epochs, 2 warm-up epochs, timm's schedule stepped every iteration; step: x0.1 every 10 epochs
    assert opt['train']['total_epoch'] == 30 and 'total_iter' not in opt['train']
    scheduler = opt['train']['scheduler']
    assert (scheduler['type'], scheduler['sched']) == ('TimmScheduler', sched)
    assert (scheduler['warmup_epochs'], scheduler['warmup_lr']) == (2, warmup_lr)
    if sched == 'step':
        assert (scheduler['decay_epochs'], scheduler['decay_rate']) == (10, 0.1)
    else:
        assert 'decay_epochs' not in scheduler and 'decay_rate' not in scheduler  # removed from the base
    # once per epoch, whatever the batch size and number of GPUs of the run
    assert opt['val']['val_freq_epochs'] == opt['logger']['save_checkpoint_freq_epochs'] == 1
    assert 'val_freq' not in opt['val']
    assert opt['datasets']['train']['dataset_enlarge_ratio'] == crops
    assert opt['datasets']['train']['augment']['random_crop'] == 224
    assert opt['datasets']['train']['augment']['hflip'] is True
    assert opt['train']['mos_loss_opt']['type'] == 'SmoothL1Loss'
    assert 'aux_loss' not in opt['train']  # LifeIQAModel's defaults: the paper's weights
    assert opt['train']['grad_clip'] == 5.0
    resized = opt['datasets']['train']['augment'].get('resize')
    assert resized == ([512, 384] if name in ('koniq10k', 'spaq') else None)


@pytest.mark.parametrize('name', DATASET_RECIPES)
def test_recipe_builds_datasets_and_model_on_a_fake_layout(name, tmp_path):
    opt = yaml.safe_load(resolve_recipe(name, tmp_path / 'datasets'))
    for phase in ('train', 'val'):
        fake_dataset(opt['datasets'][phase])
        opts = {**opt['datasets'][phase], 'phase': phase}
        dataset = build_dataset(opts)
        item = dataset[0]
        assert item['img'].shape[0] == 3
        if phase == 'train':
            assert item['img'].shape[1:] == (224, 224)
    # the recipe's model, with a small backbone so that nothing is downloaded
    opt['network'].update(backbone='resnet18', embed_dim=32, num_heads=4, backbone_pretrain=False)
    opt.update(is_train=True, dist=False, rank=0, world_size=1, num_gpu=0, root_path=str(tmp_path))
    opt['train']['total_iter'] = opt['train']['total_epoch'] * 3  # pyiqa's pipeline sets it from total_epoch
    opt['path'].update(
        experiments_root=str(tmp_path / 'exp'), models=str(tmp_path / 'exp'), training_states=str(tmp_path / 'exp')
    )
    model = build_model(opt)
    scores = model.net(torch.rand(2, 3, 224, 224), return_aux=True)[0]
    assert scores.shape == (2, 1)
    assert model.get_current_learning_rate()[0] == pytest.approx(AUTHORS[name][5])  # the warm-up's start


def test_recipes_that_train_a_registered_weight_set_name_its_network():
    assert load_recipe('koniq10k')['network']['config'] == 'lifeiqa-koniq'
    assert WEIGHT_SETS['lifeiqa-koniq'].recipe == 'koniq10k'


def test_the_default_model_recipe_trains_the_network_of_the_shipped_weight_set():
    opt = load_recipe('default_model')
    assert opt['network']['config'] == 'lifeiqa'
    assert not set(opt['network']) & set(LifeIQAConfig().to_dict())  # its fields are never listed again
    assert 'fp16' not in opt['train'] and opt['train']['scheduler']['sched'] == 'cosine'
    # it trains on crops of the size the weight set scores
    assert opt['datasets']['train']['augment']['random_crop'] == WEIGHT_SETS['lifeiqa'].config.crop_size


@pytest.mark.parametrize(
    ('earlier', 'later', 'start', 'views'),
    [
        ('default_model', 'default_model_stage2', 'lifeiqa_default_stage1', 'photos_multiscale_s1'),
        ('default_model_stage2', 'default_model_stage3', 'lifeiqa_default_stage2', 'photos_multiscale_s2'),
    ],
)
def test_each_later_stage_trains_the_earlier_stages_weights_further_on_new_views(earlier, later, start, views):
    first, second = load_recipe(earlier), load_recipe(later)
    assert second['network'] == {
        **first['network'],
        'pretrained_model_path': f'./datasets/{start}.safetensors',
        'backbone_pretrain': False,
    }
    assert second['datasets']['train']['augment'] == first['datasets']['train']['augment']
    assert second['datasets']['train']['meta_info_file'] == f'./datasets/{views}/meta_info.csv'
    assert second['datasets']['val']['meta_info_file'] == f'./datasets/{views}/meta_info.csv'
    assert second['train']['total_iter'] > 0 and second['name'] != first['name']


def test_the_robust_finetune_recipe_starts_from_the_shipped_weights_with_the_penalty_at_a_constant_lr(tmp_path):
    opt = yaml.safe_load(resolve_recipe('robust_finetune', tmp_path / 'datasets'))
    default = yaml.safe_load(resolve_recipe('default_model', tmp_path / 'datasets'))
    assert opt['datasets'] == default['datasets']  # the same data, split and crops
    assert opt['network'] == {**default['network'], 'pretrained': True, 'backbone_pretrain': False}
    assert opt['train']['input_gradient_penalty'] > 0
    assert 'total_epoch' not in opt['train'] and 'val_freq_epochs' not in opt['val']
    opt.update(is_train=True, dist=False, rank=0, world_size=1, num_gpu=0, root_path=str(tmp_path))
    opt['path'].update(
        experiments_root=str(tmp_path / 'exp'), models=str(tmp_path / 'exp'), training_states=str(tmp_path / 'exp')
    )
    model = build_model(opt)
    assert model.input_gradient_penalty == opt['train']['input_gradient_penalty']
    shipped = pyiqa.create_metric('lifeiqa', device='cpu').net.state_dict()
    tuned = model.get_bare_model(model.net).state_dict()
    assert tuned.keys() == shipped.keys() and all(torch.equal(tuned[k], shipped[k]) for k in shipped)
    lr = opt['train']['optim']['lr']
    for current_iter in (1, opt['train']['total_iter']):
        model.update_learning_rate(current_iter)
        assert model.get_current_learning_rate()[0] == pytest.approx(lr)


def test_a_recipe_over_its_base_merges_sections_replaces_values_and_null_removes():
    base = {'train': {'optim': {'type': 'AdamW', 'lr': 1e-4}, 'fp16': True}, 'name': 'base'}
    override = {'train': {'optim': {'lr': 2e-4}, 'fp16': None}, 'name': 'run'}
    assert merge(base, override) == {'train': {'optim': {'type': 'AdamW', 'lr': 2e-4}}, 'name': 'run'}
    assert base['train']['fp16'] is True  # the base is not changed


def test_bases_are_not_listed_nor_run_and_a_cycle_of_bases_is_refused(tmp_path, monkeypatch):
    assert '_authors' not in list_recipes() and recipe_path('_authors').is_file()
    with pytest.raises(ValueError, match="'_authors' is a base of recipes, not a recipe"):
        resolve_recipe('_authors', tmp_path)
    (tmp_path / 'a.yml').write_text('# a\nbase: b\n')
    (tmp_path / 'b.yml').write_text('# b\nbase: a\n')
    monkeypatch.setattr(recipes, 'RECIPES_DIR', tmp_path)
    with pytest.raises(ValueError, match='recipe bases form a cycle: a -> b -> a'):
        load_recipe('a')


def test_every_weight_set_that_names_a_recipe_names_a_shipped_one():
    named = {weights.recipe for weights in WEIGHT_SETS.values() if weights.recipe}
    assert named and named <= set(list_recipes())
