"""Image-method datasets on real files: images written with Pillow (grey, RGBA, palette, 16-bit,
truncated, not an image at all) and videos written with PyAV then prepared; batches through
DataLoader workers, exact per-(seed, epoch, item) samples, broken files replaced and counted."""

from __future__ import annotations

import logging
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from media_factory import LOSSLESS_VIDEO, frame_index_of, write_video
from PIL import Image
from torch.utils.data import DataLoader

from avssl.config import load_config
from avssl.data.build_image_dataset import build_image_dataset
from avssl.data.data_config import ViewConfig
from avssl.data.image_dataset import ImageFolderDataset, VideoFrameDataset
from avssl.data.image_files import read_image
from avssl.data.image_views import MultiViewTransform, ViewSpec
from avssl.data.manifest import read_manifest
from avssl.data.prepare import prepare

SMALL_VIEWS = (ViewSpec(size=16, scale=(0.2, 1.0), count=2), ViewSpec(size=8, scale=(0.05, 0.3), count=1))


def small_transform() -> MultiViewTransform:
    return MultiViewTransform(SMALL_VIEWS)


def raw_image(image: torch.Tensor, generator: torch.Generator) -> list[torch.Tensor]:
    """A transform that returns the decoded pixels, to check what was decoded."""
    return [image]


def pixels(h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def save(path: Path, image: Image.Image, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **options)
    return path


@pytest.fixture()
def image_folder(tmp_path) -> Path:
    """Two classes of good images in every supported format and colour mode."""
    root = tmp_path / "images"
    save(root / "cats" / "a.jpg", Image.fromarray(pixels(24, 30, 0)), quality=95)
    save(root / "cats" / "b_grey.png", Image.fromarray(pixels(20, 20, 1)).convert("L"))
    save(root / "cats" / "sub" / "c.webp", Image.fromarray(pixels(26, 22, 2)), lossless=True)
    save(root / "dogs" / "d_rgba.png", Image.fromarray(pixels(30, 24, 3)).convert("RGBA"))
    save(root / "dogs" / "e_palette.png", Image.fromarray(pixels(22, 28, 4)).convert("P"))
    save(root / "dogs" / "f.bmp", Image.fromarray(pixels(20, 26, 5)))
    (root / "dogs" / "notes.txt").write_text("not an image extension: ignored\n")
    save(root / ".hidden" / "g.png", Image.fromarray(pixels(20, 20, 6)))
    return root


def add_broken_files(root: Path) -> list[str]:
    """A truncated JPEG and a text file named .jpg; returns their relative paths."""
    truncated = save(root / "dogs" / "truncated.jpg", Image.fromarray(pixels(64, 64, 7)), quality=95)
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    (root / "cats").mkdir(exist_ok=True)
    (root / "cats" / "not_an_image.jpg").write_text("this is text, not a JPEG\n" * 10)
    return ["cats/not_an_image.jpg", "dogs/truncated.jpg"]


def key_loader(dataset, epoch: int, num_workers: int, batch_size: int = 2) -> DataLoader:
    """(epoch, item) keys in item order, as avssl's resumable sampler hands them to workers."""
    return DataLoader(dataset, batch_size=batch_size, sampler=[(epoch, i) for i in range(len(dataset))],
                      num_workers=num_workers)


# ---------------------------------------------------------------- files and instances


def test_instances_are_images_in_sorted_relative_path_order_with_folder_labels(image_folder):
    dataset = ImageFolderDataset(image_folder, small_transform())
    assert dataset.instance_paths == ["cats/a.jpg", "cats/b_grey.png", "cats/sub/c.webp", "dogs/d_rgba.png",
                                      "dogs/e_palette.png", "dogs/f.bmp"]
    assert dataset.class_names == ["cats", "dogs"]
    assert [dataset[i]["label"] for i in range(len(dataset))] == [0, 0, 0, 1, 1, 1]
    assert [dataset[i]["index"] for i in range(len(dataset))] == list(range(6))


def test_flat_folder_has_no_labels(tmp_path):
    for i in range(3):
        save(tmp_path / f"img_{i}.png", Image.fromarray(pixels(20, 20, i)))
    dataset = ImageFolderDataset(tmp_path, small_transform())
    assert dataset.class_names == [] and len(dataset) == 3
    assert "label" not in dataset[0]


def test_images_beside_class_folders_are_unlabelled(image_folder):
    save(image_folder / "loose.png", Image.fromarray(pixels(20, 20, 9)))
    dataset = ImageFolderDataset(image_folder, small_transform())
    assert dataset[dataset.instance_paths.index("loose.png")]["label"] == -1


@pytest.mark.parametrize("name", ["cats/b_grey.png", "dogs/d_rgba.png", "dogs/e_palette.png", "dogs/f.bmp",
                                  "cats/sub/c.webp"])
def test_lossless_images_decode_to_the_rgb_pixels_pillow_sees(image_folder, name):
    image = read_image(image_folder / name)
    with Image.open(image_folder / name) as reference:
        expected = torch.from_numpy(np.array(reference.convert("RGB"))).permute(2, 0, 1)
    assert image.dtype == torch.uint8 and image.shape[0] == 3
    assert torch.equal(image, expected)


def test_sixteen_bit_png_is_scaled_to_eight_bits(tmp_path):
    values = np.random.default_rng(0).integers(0, 65536, (12, 14), dtype=np.uint16)
    path = save(tmp_path / "deep.png", Image.fromarray(values))
    image = read_image(path)
    assert image.dtype == torch.uint8
    assert torch.equal(image, torch.from_numpy((values >> 8).astype(np.uint8)).expand(3, 12, 14))


def test_empty_or_missing_root_is_an_error_naming_the_folder(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "sub" / "readme.txt").write_text("no images here")
    with pytest.raises(ValueError, match=r"empty: no images .*data\.images\.root"):
        ImageFolderDataset(tmp_path / "empty", small_transform())
    with pytest.raises(ValueError, match=r"missing: no such folder"):
        ImageFolderDataset(tmp_path / "missing", small_transform())


# ---------------------------------------------------------------- batches and determinism


def test_two_worker_loader_yields_views_index_and_labels(image_folder):
    dataset = ImageFolderDataset(image_folder, small_transform())
    seen = []
    for batch in key_loader(dataset, epoch=0, num_workers=2, batch_size=4):
        b = batch["index"].shape[0]
        assert [tuple(v.shape) for v in batch["views"]] == [(b, 3, 16, 16), (b, 3, 16, 16), (b, 3, 8, 8)]
        assert all(v.dtype == torch.float32 and torch.isfinite(v).all() for v in batch["views"])
        assert batch["label"].tolist() == [dataset.labels[i] for i in batch["index"].tolist()]
        assert (batch["decode_failures"] == 0).all()
        seen += batch["index"].tolist()
    assert seen == list(range(len(dataset)))


def assert_same_samples(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert torch.equal(torch.as_tensor(x["index"]), torch.as_tensor(y["index"]))
        assert all(torch.equal(u, v) for u, v in zip(x["views"], y["views"]))


def test_samples_depend_only_on_seed_epoch_and_item_not_on_workers(image_folder):
    dataset = ImageFolderDataset(image_folder, small_transform(), seed=3)
    in_process = list(key_loader(dataset, epoch=1, num_workers=0))
    assert_same_samples(list(key_loader(dataset, epoch=1, num_workers=2)), in_process)
    dataset.set_epoch(1)  # dataset[item] uses the epoch set here
    assert all(torch.equal(u, v) for u, v in zip(dataset[4]["views"], dataset[(1, 4)]["views"]))
    other_epoch, other_seed = dataset[(2, 4)]["views"], ImageFolderDataset(image_folder, small_transform())[(1, 4)]
    assert not torch.equal(other_epoch[0], dataset[4]["views"][0])
    assert not torch.equal(other_seed["views"][0], dataset[4]["views"][0])


# ---------------------------------------------------------------- broken files


def test_broken_files_are_replaced_by_another_image_with_its_own_index(image_folder, caplog):
    broken = add_broken_files(image_folder)
    dataset = ImageFolderDataset(image_folder, small_transform())
    broken_items = [dataset.instance_paths.index(p) for p in broken]
    with caplog.at_level(logging.WARNING):
        samples = [dataset[(epoch, item)] for epoch in range(3) for item in broken_items]
        good = [dataset[i] for i in range(len(dataset)) if i not in broken_items]
    for sample in samples:
        assert sample["decode_failures"] >= 1
        assert sample["index"] not in broken_items
        assert sample["label"] == dataset.labels[sample["index"]]
    assert all(s["decode_failures"] == 0 for s in good)
    for path in broken:
        assert sum(path in r.getMessage() for r in caplog.records) == 1, "a bad file is logged once"


def test_loader_counts_failures_per_sample(image_folder):
    broken = add_broken_files(image_folder)
    dataset = ImageFolderDataset(image_folder, small_transform())
    batches = list(key_loader(dataset, epoch=0, num_workers=2, batch_size=len(dataset)))
    (batch,) = batches
    failed = {dataset.instance_paths[i] for i, n in enumerate(batch["decode_failures"].tolist()) if n}
    assert failed == set(broken)
    assert not set(batch["index"].tolist()) & {dataset.instance_paths.index(p) for p in broken}


def test_only_broken_files_is_an_error_after_bounded_retries(tmp_path):
    add_broken_files(tmp_path)
    dataset = ImageFolderDataset(tmp_path, small_transform(), max_retries=3)
    with pytest.raises(RuntimeError, match="4 consecutive images failed to decode"):
        dataset[0]


# ---------------------------------------------------------------- frames of videos


@pytest.fixture(scope="module")
def lossless_videos(tmp_path_factory) -> Path:
    """Two lossless 4 s, 25 fps videos (frame i has grey level 8·i mod 256), prepared."""
    src = tmp_path_factory.mktemp("frame_videos")
    for name in ("a/one.mkv", "b/two.mkv"):
        write_video(src / name, seconds=4.0, fps=25.0, video_encoding=LOSSLESS_VIDEO, audio_codec="flac",
                    container_format="matroska")
    out = tmp_path_factory.mktemp("frame_videos_prepared")
    prepare(src, out, workers=0, progress=False)
    return out


def test_frame_is_the_one_shown_at_the_sampled_time(lossless_videos):
    manifest = read_manifest(lossless_videos)
    dataset = VideoFrameDataset(manifest, raw_image, frames_per_video=5, seed=1)
    assert len(dataset) == 10
    times = []
    for item in range(len(dataset)):
        video, k = divmod(item, 5)
        sample = dataset[item]
        span = dataset.span_for(video, k, dataset.generator_for(item))  # the draw the sample made
        (t,) = span.video_times
        row = manifest.rows[video]
        assert row.start <= t < row.start + row.duration
        (image,) = sample["views"]
        assert image.shape == (3, row.height, row.width)
        assert frame_index_of(image.permute(1, 2, 0).numpy()) == int((t - row.start) * 25 + 1e-6) % 32
        assert sample["index"] == video and sample["label"] == manifest.label_index(video)
        times.append(t)
    assert len(set(times)) == len(times), "each frame of an epoch is drawn at its own time"


def test_frames_are_decoded_at_the_short_side(lossless_videos):
    dataset = VideoFrameDataset(read_manifest(lossless_videos), raw_image, decode_short_side=36)
    (image,) = dataset[0]["views"]
    assert image.shape == (3, 36, 45)  # 72 x 90 source, aspect kept


def test_video_frames_through_the_builder_and_two_workers(prepared_mixed):
    cfg = load_config(overrides=[f"data.manifest={prepared_mixed}", "data.images.frames_per_video=2",
                                 "data.images.views=[{size: 32, count: 2}, {size: 16, scale: [0.05, 0.3]}]"]).data
    dataset = build_image_dataset(cfg, seed=0)
    assert isinstance(dataset, VideoFrameDataset)
    manifest = dataset.manifest
    assert len(dataset) == 2 * len(manifest)
    assert dataset.instance_paths == [row.path for row in manifest.rows]
    seen = []
    for batch in key_loader(dataset, epoch=0, num_workers=2, batch_size=3):
        b = batch["index"].shape[0]
        assert [tuple(v.shape) for v in batch["views"]] == [(b, 3, 32, 32), (b, 3, 32, 32), (b, 3, 16, 16)]
        assert batch["label"].tolist() == [manifest.label_index(i) for i in batch["index"].tolist()]
        seen += batch["index"].tolist()
    assert seen == [i // 2 for i in range(len(dataset))]


def test_video_frames_are_the_same_in_and_out_of_workers(prepared_mixed):
    cfg = load_config(overrides=[f"data.manifest={prepared_mixed}", "data.images.views=[{size: 24, count: 2}]"]).data
    dataset = build_image_dataset(cfg, seed=5)
    from_workers = list(key_loader(dataset, epoch=2, num_workers=2, batch_size=1))
    in_process = list(key_loader(dataset, epoch=2, num_workers=0, batch_size=1))
    assert_same_samples(from_workers, in_process)


def test_broken_video_is_replaced_by_another_row_with_its_own_index(prepared_mixed, tmp_path):
    manifest = read_manifest(prepared_mixed)
    bad = tmp_path / "gone.mp4"
    bad.write_bytes(b"not a video any more")
    manifest.rows[1] = replace(manifest.rows[1], path=str(bad))
    dataset = VideoFrameDataset(manifest, small_transform(), frames_per_video=2)
    for item in (2, 3):
        sample = dataset[item]
        assert sample["decode_failures"] >= 1 and sample["index"] != 1
        assert sample["label"] == manifest.label_index(sample["index"])


# ---------------------------------------------------------------- config and builder


def test_view_list_from_override_and_yaml_validates(tmp_path):
    cfg = load_config(overrides=["data.images.views=[{size: 32, count: 2}]"]).data
    (view,) = cfg.images.views
    assert (view.size, view.count, list(view.scale)) == (32, 2, [0.08, 1.0])
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  images:\n    source: folder\n    views:\n      - {size: 48, scale: [0.2, 1.0]}\n"
                    "      - size: 24\n        count: 4\n        solarize_prob: 0.2\n")
    views = load_config(path).data.images.views
    assert [(v.size, v.count, v.solarize_prob) for v in views] == [(48, 1, 0.0), (24, 4, 0.2)]


@pytest.mark.parametrize("override", ["data.images.views=[{sise: 32}]", "data.images.views=[{size: big}]"])
def test_bad_key_or_value_inside_a_view_is_an_error(override):
    from avssl.config import ConfigError

    with pytest.raises(ConfigError, match=r"data\.images\.views"):
        load_config(overrides=[override])


def test_builder_needs_a_recipe_or_views(image_folder):
    cfg = load_config(overrides=["data.images.source=folder", f"data.images.root={image_folder}"]).data
    with pytest.raises(ValueError, match=r"data\.images\.recipe.*data\.images\.views.*swav, seer, byol"):
        build_image_dataset(cfg)
    cfg.images.recipe = "simclr"
    with pytest.raises(ValueError, match="'simclr' is not a recipe"):
        build_image_dataset(cfg)


def test_builder_uses_the_recipe_or_the_explicit_views(image_folder):
    cfg = load_config(overrides=["data.images.source=folder", f"data.images.root={image_folder}",
                                 "data.images.recipe=byol"]).data
    dataset = build_image_dataset(cfg, seed=0)
    assert isinstance(dataset, ImageFolderDataset)
    assert [tuple(v.shape) for v in dataset[0]["views"]] == [(3, 224, 224)] * 2
    cfg.images.views = [ViewConfig(size=16, count=3)]
    assert [tuple(v.shape) for v in build_image_dataset(cfg)[0]["views"]] == [(3, 16, 16)] * 3


def test_builder_names_the_keys_of_a_bad_source(image_folder):
    cfg = load_config(overrides=["data.images.source=folder", "data.images.recipe=simsiam"]).data
    with pytest.raises(ValueError, match=r"data\.images\.root"):
        build_image_dataset(cfg)
    cfg.images.source = "webcam"
    with pytest.raises(ValueError, match=r"data\.images\.source='webcam'.*video_frames, folder"):
        build_image_dataset(cfg)


def test_builder_passes_seed_and_retries(image_folder):
    shutil.rmtree(image_folder / "dogs")
    cfg = load_config(overrides=["data.images.source=folder", f"data.images.root={image_folder}",
                                 "data.images.recipe=simsiam", "data.max_retries=4"]).data
    dataset = build_image_dataset(cfg, seed=9)
    assert (dataset.seed, dataset.max_retries, len(dataset)) == (9, 4, 3)
