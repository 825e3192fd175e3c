"""Features on disk, with the manifest rows they belong to (what `avssl extract` writes).

A features folder holds, for every key `<modality>/<stage>`:

    <modality>_<stage>_clips.npy    (N_clips, D) float32, clip order of clips.csv
    <modality>_<stage>_videos.npy   (V, D) float32, the mean of each video's clips, row order of videos.csv
    <modality>_<stage>_videos.faiss optional exact inner-product FAISS index of the L2-normalised rows

or, with format "pt", one `features.pt` holding the same tensors under "clips/<key>", "videos/<key>";
plus `clips.csv` (clip, video), `videos.csv` (video, path, label: the manifest rows, in order) and
`features.json` (keys, shapes, how they were made). Every file is written atomically; a folder
whose `features.json` is missing is incomplete.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import torch

from avssl.atomic_io import atomic_path, write_text_atomic
from avssl.core.faiss_index import build_faiss_index
from avssl.core.search_spec import SearchSpec
from avssl.core.top_k_selection import faiss
from avssl.data.manifest import Manifest
from avssl.eval.features import ClipFeatures

FORMATS = ("npy", "pt")
META_NAME = "features.json"


def _file_stem(key: str) -> str:
    return key.replace("/", "_")


def _csv(rows: list[list], header: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def save_features(out_dir: str | Path, clips: ClipFeatures, manifest: Manifest, fmt: str = "npy",
                  faiss_index: bool = False, meta: dict | None = None) -> Path:
    """Write `clips` and their video means to `out_dir` (see the module docstring); returns it."""
    if fmt not in FORMATS:
        raise ValueError(f"features format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if faiss_index and faiss is None:
        raise ImportError("a FAISS index needs the faiss package: pip install faiss-cpu")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / META_NAME).unlink(missing_ok=True)  # incomplete until the end
    videos = clips.video_level()
    if fmt == "npy":
        for key in clips.features:
            for level, tensor in (("clips", clips.features[key]), ("videos", videos[key])):
                with atomic_path(out / f"{_file_stem(key)}_{level}.npy") as tmp:
                    np.save(tmp, tensor.numpy().astype(np.float32))
    else:
        payload = {f"clips/{k}": v for k, v in clips.features.items()}
        payload.update({f"videos/{k}": v.float() for k, v in videos.items()})
        payload["clip_video"] = clips.clip_video
        with atomic_path(out / "features.pt") as tmp:
            torch.save(payload, tmp)
    if faiss_index:
        for key, tensor in videos.items():
            # A CPU index: faiss.write_index cannot serialise the GPU indices faiss-gpu would build.
            index = build_faiss_index(torch.nn.functional.normalize(tensor, dim=1),
                                      SearchSpec(backend="faiss", use_gpu=False))
            with atomic_path(out / f"{_file_stem(key)}_videos.faiss") as tmp:
                faiss.write_index(index, str(tmp))
    write_text_atomic(out / "clips.csv", _csv([[i, int(v)] for i, v in enumerate(clips.clip_video)], ["clip", "video"]))
    write_text_atomic(out / "videos.csv", _csv([[i, r.path, r.label] for i, r in enumerate(manifest.rows)],
                                               ["video", "path", "label"]))
    info = {"format": fmt, "keys": sorted(clips.features), "num_clips": int(clips.clip_video.shape[0]),
            "num_videos": clips.num_videos, "dims": {k: int(v.shape[1]) for k, v in clips.features.items()},
            "decode_failures": clips.decode_failures, "faiss_index": faiss_index, **(meta or {})}
    write_text_atomic(out / META_NAME, json.dumps(info, indent=2) + "\n")
    return out


def load_features(folder: str | Path) -> tuple[ClipFeatures, list[dict]]:
    """(clip features, the video rows {"video", "path", "label"}) written by `save_features`."""
    folder = Path(folder)
    meta_path = folder / META_NAME
    if not meta_path.is_file():
        raise FileNotFoundError(f"{folder}: no {META_NAME}; the extraction did not finish (rerun 'avssl extract', "
                                "it resumes)")
    info = json.loads(meta_path.read_text())
    with open(folder / "videos.csv", newline="", encoding="utf-8") as handle:
        rows = [{"video": int(r["video"]), "path": r["path"], "label": r["label"]} for r in csv.DictReader(handle)]
    if info["format"] == "pt":
        payload = torch.load(folder / "features.pt", weights_only=True)
        features = {k: payload[f"clips/{k}"] for k in info["keys"]}
        clip_video = payload["clip_video"]
    else:
        features = {k: torch.from_numpy(np.load(folder / f"{_file_stem(k)}_clips.npy")) for k in info["keys"]}
        with open(folder / "clips.csv", newline="", encoding="utf-8") as handle:
            clip_video = torch.tensor([int(r["video"]) for r in csv.DictReader(handle)], dtype=torch.int64)
    return ClipFeatures(features, clip_video, info["num_videos"], info.get("decode_failures", 0), info), rows
