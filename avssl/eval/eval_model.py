"""The model an evaluation runs: encoders and heads by modality, from any checkpoint avssl reads.

- an `avssl train` checkpoint: the method is rebuilt from the resolved config it carries
  (`checkpoint["avssl"]["config"]`) and its `method.*` weights are loaded strictly, so every method
  the trainer knows (AVID, AVID+CMA, and image methods with `encoders["image"]`) evaluates the same way;
- an official AVID-CMA release file (`avssl.models.load_avid_cma_checkpoint`): video and audio
  encoders with their projection heads; the data settings default to the AVID recipe.

`untrained=True` keeps the architecture and re-initialises every weight from a seed: the baseline
that a trained model's figures must beat.

Image models on video sets: a model whose only encoder is "image" (SwAV, BYOL, SimSiam, Barlow
Twins) is evaluated as a "video" model whose feature of a clip is its image encoder's feature of the
clip's middle frame (`FeatureSource.middle_frame`); video-level features average the clips as usual.
So knn, linear, retrieval (video->video), finetune and extract run unchanged on such checkpoints.
Their frames are cropped as the image was seen in training: `eval_base_config` sets the clips'
centre crop to the largest training view (`data.images`) after resizing the short side to
crop / 0.875 (the standard ImageNet evaluation: 256 then 224). The eval config and the command line
still override both.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

from avssl.data.build_image_dataset import build_view_specs
from avssl.eval.feature_sources import FeatureSource
from avssl.methods.image_method import VIEW as IMAGE  # the image methods' encoder key
from avssl.models.official_checkpoint import load_avid_cma_checkpoint

EVAL_CROP_FRACTION = 0.875  # centre crop / resized short side of the standard evaluation transform


@dataclass
class EvalModel:
    """`encoders[m]`, `heads[m]` per modality; `config` is the training config (None: official file)."""

    encoders: nn.ModuleDict
    heads: nn.ModuleDict
    config: dict | None
    path: str
    kind: str  # "avssl" | "official"
    untrained: bool = False

    @property
    def image_only(self) -> bool:
        return tuple(self.encoders.keys()) == (IMAGE,)

    @property
    def modalities(self) -> tuple[str, ...]:
        """What the protocols can ask for: the encoders' names, "video" for an image-only model."""
        return ("video",) if self.image_only else tuple(self.encoders.keys())

    def source(self, modality: str) -> FeatureSource:
        heads = dict(self.heads.items())
        if modality == "video" and self.image_only:
            return FeatureSource("video", self.encoders[IMAGE], heads.get(IMAGE), middle_frame=True)
        if modality not in self.encoders:
            raise ValueError(f"{self.path}: no {modality!r} encoder in this checkpoint (it has "
                             f"{', '.join(self.modalities)}); evaluate only those, e.g. "
                             f"eval.retrieval.directions=[{self.modalities[0]}->{self.modalities[0]}]")
        return FeatureSource(modality, self.encoders[modality], heads.get(modality))

    def eval_base_config(self) -> dict | None:
        """The config an evaluation layers its own settings over: the training config, with the
        image-model crop rule (module docstring) for an image-only model."""
        if not self.image_only or self.config is None:
            return self.config
        config = copy.deepcopy(self.config)
        crop = max(spec.size for spec in build_view_specs(OmegaConf.create(config["data"])))
        config["data"]["video"].update(crop_size=crop, decode_short_side=math.ceil(crop / EVAL_CROP_FRACTION))
        return config

    def reinitialise(self, seed: int) -> None:
        """Fresh weights (seeded) in the same architecture: the untrained baseline."""
        _reinitialise(self.encoders, seed)
        _reinitialise(self.heads, seed + 1)
        self.untrained = True

    def identity(self) -> dict:
        """What names these weights, for the resume fingerprints of feature extraction."""
        stat = Path(self.path).stat() if Path(self.path).is_file() else None
        return {"path": str(Path(self.path).resolve()), "size": stat.st_size if stat else None,
                "mtime_ns": stat.st_mtime_ns if stat else None, "untrained": self.untrained}


def _reinitialise(modules: nn.Module, seed: int) -> None:
    torch.manual_seed(seed)
    for module in modules.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
        if hasattr(module, "reset_running_stats"):
            module.reset_running_stats()


def load_eval_model(path: str | Path, untrained: bool = False, seed: int = 0) -> EvalModel:
    """Encoders + heads from an avssl or official checkpoint, in eval mode, on the CPU."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint (an avssl run's checkpoints/last.ckpt or an official "
                                "AVID-CMA .pth.tar)")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(checkpoint, dict) and "avssl" in checkpoint:
        model = _from_avssl(checkpoint, path)
    else:
        official = load_avid_cma_checkpoint(path)
        model = EvalModel(nn.ModuleDict({"video": official.video_model, "audio": official.audio_model}),
                          nn.ModuleDict({"video": official.video_proj, "audio": official.audio_proj}),
                          None, str(path), "official")
    if untrained:
        model.reinitialise(seed)
    model.encoders.eval()
    model.heads.eval()
    return model


def _from_avssl(checkpoint: dict, path: Path) -> EvalModel:
    from avssl.config import Config, load_config  # the config module knows every section
    from avssl.train.build_method import build_method

    saved = checkpoint["avssl"]
    config: DictConfig = load_config(schema=Config, base=saved["config"], base_source=f"{path} (its training config)")
    method = build_method(config, num_instances=len(saved.get("instance_paths") or []) or 1)
    state = {k[len("method."):]: v for k, v in checkpoint["state_dict"].items() if k.startswith("method.")}
    wanted = {k: v for k, v in state.items() if k.startswith(("encoders.", "heads."))}
    missing = [k for k in method.state_dict() if k.startswith(("encoders.", "heads.")) and k not in wanted]
    if missing:
        raise ValueError(f"{path}: its config builds a model with weights the checkpoint lacks, e.g. {missing[:3]}")
    method.load_state_dict(wanted, strict=False)
    return EvalModel(method.encoders, method.heads, OmegaConf.to_container(config, resolve=True), str(path), "avssl")
