"""Typed schema of the `eval:` config section (validated by avssl.config: a typo is an error).

An evaluation config is layered: schema defaults ← the checkpoint's own training config (so clips,
crops and spectrograms match what the encoders were trained on) ← `configs/eval/<name>.yaml` ←
command-line overrides. Protocol defaults are the official AVID-CMA evaluation recipes
(configs/benchmark/* of the release), each cited where it is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DATASET_KINDS = ("folder", "manifests", "ucf101", "hmdb51", "kinetics", "esc50")
PROTOCOLS = ("retrieval", "knn", "linear", "finetune", "audio")


@dataclass
class EvalDatasetConfig:
    """The labelled videos. `kind`:

    - folder: `root`/train/<class>/* and `root`/test/<class>/* (the demo data layout);
    - manifests: `train_manifest` and `test_manifest` written by `avssl prepare`;
    - ucf101 / hmdb51: videos under `root`, official split folder `splits`, `fold` 1..3;
    - kinetics: clips under `root`/<csv stem>/ (flat crawler names), `splits` holds train.csv, val.csv;
    - esc50: `root` holds audio/*.wav, `splits` is meta/esc50.csv, 5 folds.
    """

    kind: str = "folder"
    root: str | None = None
    splits: str | None = None
    train_manifest: str | None = None
    test_manifest: str | None = None
    fold: int = 1  # the fold retrieval, knn, linear and extract use
    folds: list[int] = field(default_factory=lambda: [1, 2, 3])  # finetune / audio: every fold, then the mean
    prepared_dir: str | None = None  # manifests of the splits (default <out>/prepared); reuse it across runs
    workers: int = 2  # probe processes of `avssl prepare`
    preload: bool = False  # decode every video once into memory (small sets such as the demo data)


@dataclass
class FeatureConfig:
    """What `avssl extract`, retrieval, kNN and the linear probe compute features from."""

    stages: list[str] = field(default_factory=lambda: ["pool"])  # conv1, conv2x..conv5x, pool, projection
    modalities: list[str] = field(default_factory=lambda: ["video", "audio"])  # extract only
    subsets: list[str] = field(default_factory=lambda: ["train", "test"])  # extract only
    clips_per_video: int = 10  # official dense evaluation: 10 uniformly spaced clips per video
    pool: str = "max"  # conv stages: adaptive max | avg pooling ...
    pool_size: list[int] | None = None  # ... to this grid (null: global), then flattened
    stage_pool_size: dict[str, list[int]] = field(default_factory=dict)  # per-stage grids, e.g. {conv2x: [1, 12, 12]}
    batch_size: int = 32
    num_workers: int = 2
    device: str = "auto"
    format: str = "npy"  # npy | pt
    faiss_index: bool = False  # also write an exact inner-product FAISS index of the video features


@dataclass
class RetrievalConfig:
    """Test videos query the training videos (Xu et al., CVPR 2019; AVID-CMA Table 6); a hit is a
    same-class item in the top k."""

    ks: list[int] = field(default_factory=lambda: [1, 5, 10, 20, 50])
    directions: list[str] = field(default_factory=lambda: ["video->video", "audio->video", "video->audio"])
    report_queries: int = 8  # queries shown in the grid and in report.html
    report_top_k: int = 5


@dataclass
class KNNConfig:
    """Weighted kNN (Wu et al. 2018; DINO): k = 20 and 200, T = 0.07."""

    modality: str = "video"
    ks: list[int] = field(default_factory=lambda: [20, 200])
    temperature: float = 0.07


@dataclass
class LinearConfig:
    """Linear probe; official Kinetics recipe (kinetics/*-linear.yaml): Adam 1e-4, no weight decay,
    12 epochs, ×0.1 at epochs 6 and 9, batch 128, BatchNorm before the linear layer."""

    modality: str = "video"
    epochs: int = 12
    lr: float = 1e-4
    weight_decay: float = 0.0
    milestones: list[int] = field(default_factory=lambda: [6, 9])
    gamma: float = 0.1
    batch_size: int = 128
    batch_norm: bool = True
    train_clips_per_video: int = 10  # frozen mode: clips per training video, extracted once
    bn_drift: bool = False  # official behaviour: backbone in train mode, BatchNorm statistics drift
    drift_clips_per_video: int = 1  # bn_drift: augmented clips per training video per epoch (official: 1)
    seed: int = 0


@dataclass
class FinetuneConfig:
    """End-to-end fine-tuning; official UCF-101 recipe (ucf/8at16-fold1.yaml, eval-action-recg.py):
    5 warm-up epochs of the classifier alone, then 16 epochs of everything, Adam 1e-4, no weight
    decay, ×0.3 at epochs 6, 10, 14, dropout 0.5; HMDB-51: 10 epochs, ×0.3 at 3, 6, 8."""

    modality: str = "video"
    epochs: int = 16
    warmup_epochs: int = 5
    lr: float = 1e-4
    weight_decay: float = 0.0
    milestones: list[int] = field(default_factory=lambda: [6, 10, 14])
    gamma: float = 0.3
    dropout: float = 0.5
    batch_size: int = 32
    train_clips_per_video: int = 10  # augmented clips per training video per epoch (UCF recipe: 10)
    test_clips_per_video: int = 25  # Clip@1 over 25 random clips per video (final evaluation)
    dense_clips_per_video: int = 10  # Video@1: softmax averaged over 10 uniformly spaced clips
    num_workers: int = 2
    device: str = "auto"
    seed: int = 0


@dataclass
class AudioConfig:
    """ESC-50 SVM (esc50/audio-svm.yaml): conv5x average-pooled to 4×4, C = 10, 10 clips per recording."""

    stage: str = "conv5x"
    pool: str = "avg"
    pool_size: list[int] | None = field(default_factory=lambda: [4, 4])
    C: float = 10.0
    clips_per_video: int = 10


@dataclass
class ReportConfig:
    feature_map: str = "pca"  # pca | tsne: the 2-D map of features coloured by class
    max_points: int = 2000  # the map subsamples larger sets (seeded)


@dataclass
class EvalConfig:
    dataset: EvalDatasetConfig = field(default_factory=EvalDatasetConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    knn: KNNConfig = field(default_factory=KNNConfig)
    linear: LinearConfig = field(default_factory=LinearConfig)
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    progress: bool = True
    seed: int = 0
