"""The synthetic IQA dataset: layout, pyiqa compatibility, splits, determinism, labels, bad input."""

import csv
import pickle
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from pyiqa_lifeiqa.data.pseudo_mos import FR_METRICS, fuse_scores
from pyiqa_lifeiqa.data.synthetic import CSV_COLUMNS, MIN_SIZE, make_synthetic_dataset

SIZE = (176, 176)
DISTORTIONS = ['gaussian_blur', 'jpeg', 'gaussian_noise', 'contrast']
LEVELS = 2
# the default metrics, and MS-SSIM for its float32 path
METRICS = ('ms_ssim', *FR_METRICS)


@pytest.fixture(scope='module')
def pristine_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two photographs (not yet at SIZE, so they get resized and cropped) and a non-image file."""
    folder = tmp_path_factory.mktemp('pristine')
    Image.fromarray(skimage.data.astronaut()).resize((230, 200)).save(folder / 'astronaut.png')
    Image.fromarray(skimage.data.coffee()).resize((240, 160)).save(folder / 'coffee.jpg', quality=95)
    (folder / 'notes.txt').write_text('not an image')
    return folder


def build(out: Path, images: Path, workers: int = 1) -> Path:
    """The small dataset of these tests: 2 photographs + 1 procedural image, 4 distortions x 2 levels."""
    return make_synthetic_dataset(
        out,
        images=images,
        levels=LEVELS,
        seed=3,
        size=SIZE,
        procedural=1,
        distortions=DISTORTIONS,
        batch_size=4,
        metrics=METRICS,
        workers=workers,
    )


@pytest.fixture(scope='module')
def dataset(tmp_path_factory: pytest.TempPathFactory, pristine_folder: Path) -> Path:
    return build(tmp_path_factory.mktemp('synthetic') / 'set', pristine_folder)


def read_rows(root: Path) -> list[dict]:
    with open(root / 'meta_info.csv', newline='') as f:
        return list(csv.DictReader(f))


def test_layout_and_csv_columns(dataset: Path) -> None:
    with open(dataset / 'meta_info.csv', newline='') as f:
        header = next(csv.reader(f))
    assert header == [*CSV_COLUMNS, *METRICS]
    assert header[:2] == ['image', 'mos']
    rows = read_rows(dataset)
    refs = ['astronaut', 'coffee', 'procedural_0000']
    assert [row['ref_name'] for row in rows[:: 1 + len(DISTORTIONS) * LEVELS]] == refs
    assert len(rows) == len(refs) * (1 + len(DISTORTIONS) * LEVELS)
    assert sorted(p.name for p in (dataset / 'images').iterdir()) == sorted(row['image'] for row in rows)
    for row in rows:
        with Image.open(dataset / 'images' / row['image']) as image:
            assert image.format == 'PNG' and image.mode == 'RGB' and image.size == SIZE[::-1]
        assert 0.0 <= float(row['mos']) <= 1.0
        assert all(np.isfinite(float(row[name])) for name in METRICS)
    pristine = [row for row in rows if row['distortion'] == 'pristine']
    assert [(row['image'], row['level']) for row in pristine] == [(f'{ref}.png', '0') for ref in refs]
    series = {(row['distortion'], row['level']) for row in rows if row['distortion'] != 'pristine'}
    assert series == {(d, str(level)) for d in DISTORTIONS for level in range(1, LEVELS + 1)}


def test_pristine_rows_hold_the_metrics_perfect_scores(dataset: Path) -> None:
    for row in read_rows(dataset):
        if row['distortion'] == 'pristine':
            assert float(row['ms_ssim']) == pytest.approx(1.0, abs=1e-5)
            assert float(row['vsi']) == pytest.approx(1.0, abs=1e-5)
            assert float(row['gmsd']) == pytest.approx(0.0, abs=1e-6)
            assert float(row['nlpd']) == pytest.approx(0.0, abs=1e-6)


def test_pristine_rows_score_highest_per_reference(dataset: Path) -> None:
    rows = read_rows(dataset)
    for ref in {row['ref_name'] for row in rows}:
        own = [row for row in rows if row['ref_name'] == ref]
        best = max(float(row['mos']) for row in own if row['distortion'] != 'pristine')
        assert float(next(row['mos'] for row in own if row['distortion'] == 'pristine')) > best


def test_pseudo_mos_falls_as_the_level_rises(dataset: Path) -> None:
    mos = {(r['ref_name'], r['distortion'], int(r['level'])): float(r['mos']) for r in read_rows(dataset)}
    series = {(ref, distortion) for ref, distortion, level in mos if level > 0}
    falling = [mos[(ref, d, 1)] > mos[(ref, d, 2)] for ref, d in series]
    assert len(falling) == 3 * len(DISTORTIONS)
    assert sum(falling) >= 0.9 * len(falling)
    assert max(mos.values()) == 1.0 and min(mos.values()) == 0.0


def test_splits_are_ten_content_disjoint_partitions(dataset: Path) -> None:
    rows = read_rows(dataset)
    with open(dataset / 'splits.pkl', 'rb') as f:
        splits = pickle.load(f)  # written by this test's own call
    assert sorted(splits) == list(range(1, 11))
    for split in splits.values():
        assert sorted(split['train'] + split['val'] + split['test']) == list(range(len(rows)))
        refs = {part: {rows[i]['ref_name'] for i in split[part]} for part in ('train', 'val', 'test')}
        assert all(refs.values())
        assert not refs['train'] & refs['val'] and not refs['train'] & refs['test'] and not refs['val'] & refs['test']


@pytest.mark.parametrize('phase', ['train', 'val', 'test'])
def test_pyiqa_general_nr_dataset_reads_it(dataset: Path, phase: str) -> None:
    from pyiqa.data.general_nr_dataset import GeneralNRDataset

    opt = {
        'name': 'synthetic',
        'type': 'GeneralNRDataset',
        'dataroot_target': str(dataset / 'images'),
        'meta_info_file': str(dataset / 'meta_info.csv'),
        'split_file': str(dataset / 'splits.pkl'),
        'split_index': 2,
        'phase': phase,
    }
    data = GeneralNRDataset(opt)
    with open(dataset / 'splits.pkl', 'rb') as f:
        expected = pickle.load(f)[2][phase]
    assert len(data) == len(expected) > 0
    rows = read_rows(dataset)
    item = data[0]
    assert tuple(item['img'].shape) == (3, *SIZE)
    assert Path(item['img_path']).name == rows[expected[0]]['image']
    assert item['mos_label'].item() == pytest.approx(float(rows[expected[0]]['mos']))


def test_same_arguments_give_identical_bytes_whatever_the_workers(
    dataset: Path, pristine_folder: Path, tmp_path: Path
) -> None:
    again = build(tmp_path / 'again', pristine_folder, workers=2)
    files = sorted(p.relative_to(dataset) for p in dataset.rglob('*') if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob('*') if p.is_file())
    for name in files:
        assert (dataset / name).read_bytes() == (again / name).read_bytes(), name


def test_crops_make_many_named_references_from_each_photograph(pristine_folder: Path, tmp_path: Path) -> None:
    root = make_synthetic_dataset(
        tmp_path / 'crops',
        images=pristine_folder,
        levels=1,
        size=SIZE,
        crops=2,
        vary_tone=True,
        distortions=['gaussian_blur'],
        metrics=['gmsd'],
        seed=1,
    )
    rows = read_rows(root)
    refs = ['astronaut_crop0', 'astronaut_crop1', 'coffee_crop0', 'coffee_crop1']
    assert [row['ref_name'] for row in rows[::2]] == refs
    pristine = [np.asarray(Image.open(root / 'images' / f'{ref}.png')) for ref in refs]
    assert all(image.shape == (*SIZE, 3) for image in pristine)
    assert not np.array_equal(pristine[0], pristine[1])
    with open(root / 'splits.pkl', 'rb') as f:
        assert len(pickle.load(f)[1]['test']) > 0


def test_photo_parts_keep_only_the_photographs_of_those_parts(tmp_path: Path) -> None:
    from pyiqa_lifeiqa.data.photos import photo_part

    photos = tmp_path / 'photos'
    photos.mkdir()
    chosen = [*photo_part('val')[:2], photo_part('train')[0], *photo_part('test')[:2]]
    for index, name in enumerate(chosen):
        Image.fromarray(np.full((*SIZE, 3), 40 * index + 20, np.uint8)).save(photos / f'{name}.png')
    root = make_synthetic_dataset(
        tmp_path / 'out',
        images=photos,
        photo_parts=['train', 'val'],
        levels=1,
        size=SIZE,
        distortions=['gaussian_blur'],
        metrics=['gmsd'],
    )
    assert sorted({row['ref_name'] for row in read_rows(root)}) == sorted(chosen[:3])  # no test photograph
    with pytest.raises(ValueError, match="unknown part 'nope'"):
        make_synthetic_dataset(tmp_path / 'none', images=photos, photo_parts=['nope'], size=SIZE)


def test_missing_images_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match='does not exist'):
        make_synthetic_dataset(tmp_path / 'out', images=tmp_path / 'missing', size=SIZE)
    assert not (tmp_path / 'out').exists()


def test_images_folder_without_images_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'empty' / 'readme.txt').write_text('no pictures here')
    with pytest.raises(ValueError, match='holds no images'):
        make_synthetic_dataset(tmp_path / 'out', images=tmp_path / 'empty', size=SIZE)
    assert not (tmp_path / 'out').exists()


def test_unreadable_image_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / 'bad').mkdir()
    (tmp_path / 'bad' / 'broken.png').write_bytes(b'not a png')
    with pytest.raises(ValueError, match='cannot read image .*broken.png'):
        make_synthetic_dataset(tmp_path / 'out', images=tmp_path / 'bad', size=SIZE)


def test_fewer_than_three_pristine_images_cannot_be_split(pristine_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match='at least 3 pristine images'):
        make_synthetic_dataset(tmp_path / 'out', images=pristine_folder, size=SIZE)
    assert not (tmp_path / 'out').exists()


def test_non_empty_output_folder_is_left_alone(pristine_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'keep.txt').write_text('mine')
    with pytest.raises(ValueError, match='not empty'):
        make_synthetic_dataset(out, images=pristine_folder, procedural=1, size=SIZE)
    assert [p.name for p in out.iterdir()] == ['keep.txt'] and (out / 'keep.txt').read_text() == 'mine'


@pytest.mark.parametrize(
    ('kwargs', 'message'),
    [
        ({'levels': 0}, 'levels'),
        ({'size': (MIN_SIZE - 1, 256)}, 'at least 161'),
        ({'size': (384,)}, 'height, width'),
        ({'procedural': -1}, 'procedural'),
        ({'distortions': ['jpeg', 'blurry']}, 'unknown distortion.*blurry'),
        ({'distortions': []}, 'distortions is empty'),
        ({'metrics': ['ssim', 'niqe']}, 'not a pyiqa full-reference metric: niqe'),
        ({'batch_size': 0}, 'batch_size'),
        ({'workers': 0}, 'workers'),
        ({'crops': -1}, 'crops'),
        ({'vary_tone': True}, 'vary_tone needs crops'),
        ({'scales': (384, 1536)}, 'scales needs crops'),
        ({'crops': 1, 'scales': (1536, 384)}, r'scales must be \(least, most\)'),
        ({'crops': 1, 'scales': (100, 1536)}, 'longer sides of at least'),
    ],
)
def test_bad_arguments_are_clear_errors(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_synthetic_dataset(tmp_path / 'out', **{'size': SIZE, **kwargs})
    assert not (tmp_path / 'out').exists()


def test_pristine_images_with_the_same_name_are_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / 'twins').mkdir()
    for name in ('a.png', 'a.jpg', 'b.png'):
        Image.new('RGB', (200, 200), 'gray').save(tmp_path / 'twins' / name)
    with pytest.raises(ValueError, match='clashing file names: a.png'):
        make_synthetic_dataset(tmp_path / 'out', images=tmp_path / 'twins', size=SIZE)
    assert not (tmp_path / 'out').exists()


def test_every_distortion_runs_through_the_pipeline(tmp_path: Path) -> None:
    """Smoke run of the full distortion list: one tiny photograph plus two procedural images, one level."""
    from pyiqa_lifeiqa.data.distortions import DISTORTIONS as ALL

    (tmp_path / 'one').mkdir()
    Image.fromarray(skimage.data.chelsea()).save(tmp_path / 'one' / 'cat.png')
    root = make_synthetic_dataset(
        tmp_path / 'all', images=tmp_path / 'one', levels=1, size=SIZE, procedural=2, metrics=['gmsd'], batch_size=16
    )
    rows = read_rows(root)
    assert len(rows) == 3 * (1 + len(ALL))
    assert [row['distortion'] for row in rows[: 1 + len(ALL)]] == ['pristine', *ALL]
    assert all(float(row['gmsd']) > 0 for row in rows if row['distortion'] != 'pristine')


def test_luminance_metrics_barely_see_desaturation_and_vsi_does(pristine_folder: Path, tmp_path: Path) -> None:
    """Why the default model's set adds VSI: GMSD and NLPD compare luminance, VSI also colour."""
    metrics = ['gmsd', 'nlpd', 'vsi']
    root = make_synthetic_dataset(
        tmp_path / 'set',
        images=pristine_folder,
        levels=2,
        size=SIZE,
        procedural=1,
        distortions=['desaturate', 'gaussian_blur'],
        metrics=metrics,
        batch_size=8,
    )
    rows = read_rows(root)
    raw = np.array([[float(row[name]) for name in metrics] for row in rows])
    with_vsi = np.array([float(row['mos']) for row in rows])
    luminance_only = fuse_scores(raw[:, :2], lower_better=[True, True])  # the labels GMSD + NLPD alone give
    photos = ('astronaut', 'coffee')
    key = {(row['ref_name'], row['distortion'], row['level']): i for i, row in enumerate(rows)}
    for ref in photos:
        grey, blurred = raw[key[(ref, 'desaturate', '2')]], raw[key[(ref, 'gaussian_blur', '2')]]
        assert grey[0] < 0.1 * blurred[0]  # GMSD
        assert grey[2] < 0.99  # VSI
    grey_rows = [key[(ref, 'desaturate', '2')] for ref in photos]
    assert np.mean(1 - with_vsi[grey_rows]) > 5 * np.mean(1 - luminance_only[grey_rows])


def test_rendering_jobs_in_a_process_pool_come_back_in_order() -> None:
    from pyiqa_lifeiqa.data.synthetic import _job_runner

    jobs = [partial(pow, base, 2) for base in range(12)]  # more jobs than the pool runs ahead (2 x 2)
    with _job_runner(2) as run_jobs:
        assert list(run_jobs(jobs)) == [base**2 for base in range(12)]
