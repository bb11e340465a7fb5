"""ReferenceGroupDataset: each item is one image with others of its reference, cropped and flipped alike."""

import csv
import random
import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image
from pyiqa.data import build_dataset
from torchvision.transforms.functional import to_tensor

from pyiqa_lifeiqa.data.reference_groups import ReferenceGroupDataset

CROP = 24


def options(root: Path, **extra) -> dict:
    """pyiqa dataset options for the tiny dataset (5 references x 3 images), all of it in the train phase."""
    return {
        'type': 'ReferenceGroupDataset',
        'name': 'tiny',
        'dataroot_target': str(root / 'images'),
        'meta_info_file': str(root / 'meta_info.csv'),
        'phase': 'train',
        **extra,
    }


def meta_rows(root: Path) -> dict[str, dict]:
    with open(root / 'meta_info.csv', newline='') as f:
        return {row['image']: row for row in csv.DictReader(f)}


def test_pyiqa_builds_it_by_name_and_an_epoch_visits_every_image_once_first(tiny_nr_dataset):
    data = build_dataset(options(tiny_nr_dataset, group_size=3))
    assert isinstance(data, ReferenceGroupDataset)
    assert len(data) == 15
    assert sorted(Path(data[i]['img_path']).name for i in range(len(data))) == sorted(meta_rows(tiny_nr_dataset))


def test_a_group_is_the_image_its_pristine_version_and_others_of_its_reference(tiny_nr_dataset):
    data = build_dataset(options(tiny_nr_dataset, group_size=3))
    rows = meta_rows(tiny_nr_dataset)
    for index in range(len(data)):
        names = [Path(data.paths_mos[i][0]).name for i in data.group(index)]
        assert names[0] == Path(data[index]['img_path']).name
        assert len(set(names)) == 3
        assert {rows[name]['ref_name'] for name in names} == {rows[names[0]]['ref_name']}
        assert any(rows[name]['distortion'] == 'pristine' for name in names)


def test_without_include_pristine_the_others_are_drawn_at_random(tiny_nr_dataset):
    data = build_dataset(options(tiny_nr_dataset, group_size=2, include_pristine=False))
    rows = meta_rows(tiny_nr_dataset)
    partners = {Path(data.paths_mos[data.group(1)[1]][0]).name for _ in range(50)}
    assert len(partners) == 2  # image 1 has two others in its reference, the pristine one and a noisy one
    assert {rows[name]['distortion'] for name in partners} == {'pristine', 'noise'}


def test_items_stack_the_group_with_its_labels(tiny_nr_dataset):
    data = build_dataset(options(tiny_nr_dataset, group_size=3))
    rows = meta_rows(tiny_nr_dataset)
    item = data[4]
    assert item['img'].shape == (3, 3, 40, 40)
    names = [Path(data.paths_mos[i][0]).name for i in data.group(4)]
    assert set(item['mos_label'].ravel().tolist()) == {float(rows[name]['mos']) for name in names}
    assert item['mos_label'].shape == (3, 1)


def test_the_group_is_cropped_at_one_position_and_flipped_alike(tiny_nr_dataset):
    data = build_dataset(options(tiny_nr_dataset, group_size=3, augment={'random_crop': CROP, 'hflip': True}))
    positions = set()
    for seed in range(20):
        random.seed(seed)  # the members are drawn with `random`: the same seed draws the same group
        full = [to_tensor(Image.open(data.paths_mos[i][0]).convert('RGB')) for i in data.group(7)]
        random.seed(seed)
        crops = data[7]['img']
        found = [
            (top, left, flip)
            for top in range(40 - CROP + 1)
            for left in range(40 - CROP + 1)
            for flip in (False, True)
            if torch.equal(crops[0], crop_of(full[0], top, left, flip))
        ]
        assert len(found) == 1
        assert all(torch.equal(crop, crop_of(image, *found[0])) for crop, image in zip(crops, full, strict=True))
        positions.add(found[0])
    assert len({top for top, _, _ in positions}) > 1 and len({flip for _, _, flip in positions}) == 2


def crop_of(image: torch.Tensor, top: int, left: int, flip: bool) -> torch.Tensor:
    crop = image[:, top : top + CROP, left : left + CROP]
    return crop.flip(-1) if flip else crop


@pytest.mark.parametrize(
    ('extra', 'message'),
    [
        ({'group_size': 1}, 'group_size must be at least 2'),
        ({'group_size': 4}, 'has 3 images in the train split, fewer than group_size 4'),
        ({'augment': {'random_crop': CROP, 'resize': 32}}, 'takes the augmentations .*; got resize'),
    ],
)
def test_bad_options_are_clear_errors(tiny_nr_dataset, extra, message):
    with pytest.raises(ValueError, match=message):
        build_dataset(options(tiny_nr_dataset, **extra))


def test_a_meta_info_file_without_references_is_a_clear_error(tiny_nr_dataset, tmp_path):
    plain = tmp_path / 'meta_info.csv'
    plain.write_text(
        'image,mos\n' + ''.join(f'{name},{row["mos"]}\n' for name, row in meta_rows(tiny_nr_dataset).items())
    )
    with pytest.raises(ValueError, match='has no column ref_name, distortion'):
        build_dataset({**options(tiny_nr_dataset), 'meta_info_file': str(plain)})


def test_a_reference_without_its_pristine_image_in_the_split_is_a_clear_error(tiny_nr_dataset, tmp_path):
    rows = list(meta_rows(tiny_nr_dataset).values())
    without = tmp_path / 'meta_info.csv'
    with open(without, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(row for row in rows if row['image'] != 'ref2_noise_0.png')
    with pytest.raises(ValueError, match="reference 'ref2' has no pristine image"):
        build_dataset({**options(tiny_nr_dataset, group_size=2), 'meta_info_file': str(without)})


def test_images_of_one_group_in_different_sizes_are_a_clear_error(tiny_nr_dataset, tmp_path):
    copy = tmp_path / 'copy'
    shutil.copytree(tiny_nr_dataset, copy)
    Image.new('RGB', (30, 40)).save(copy / 'images' / 'ref1_noise_1.png')
    data = build_dataset(options(copy, group_size=3))
    with pytest.raises(ValueError, match='differ in size: .*ref1_noise_1.png \\(40, 30\\)'):
        data[3]  # ref1's pristine image: its group is the whole reference
