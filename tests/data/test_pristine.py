"""Where pristine images come from (pyiqa_lifeiqa/data/pristine.py)."""

from pyiqa_lifeiqa.data.pristine import SKIMAGE_PHOTOS, pristine_images


def test_default_pristine_images_are_skimage_photographs_that_load_offline() -> None:
    references = pristine_images(None)
    assert [name for name, _ in references] == list(SKIMAGE_PHOTOS)
    for _, load in references:
        image = load()
        assert image.mode == 'RGB' and min(image.size) >= 300
