"""Configs: YAML files plus dotted command-line overrides, validated against typed schemas.

A misspelled key is an error naming the key, the closest valid ones and the section's keys, so a
typo never silently trains the default. The resolved config is saved with every run.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException, ValidationError

from avssl.atomic_io import write_text_atomic
from avssl.data.data_config import DataConfig
from avssl.eval.eval_config import EvalConfig
from avssl.train.train_config import MethodConfig, ModelConfig, OptimConfig, TrainConfig


@dataclass
class RunConfig:
    name: str = "run"
    out_dir: str = "runs"
    seed: int = 0


@dataclass
class Config:
    """The root schema: one section per part of the package."""

    run: RunConfig = field(default_factory=RunConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    method: MethodConfig = field(default_factory=MethodConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)  # read by `avssl eval` / `avssl extract`


class ConfigError(ValueError):
    """A config that does not fit the schema; the message says where and how to fix it."""


def load_config(path: str | os.PathLike | None = None, overrides: list[str] | tuple[str, ...] = (),
                schema: type = Config, base: Any = None, base_source: str = "base config") -> DictConfig:
    """Schema defaults ← `base` (e.g. the resolved config a checkpoint carries) ← YAML file ←
    `key.sub=value` overrides, each layer validated."""
    config = OmegaConf.structured(schema)
    OmegaConf.set_struct(config, True)
    _open_free_form_dicts(config)
    if base is not None:
        _merge(config, OmegaConf.create(base), base_source)
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        _merge(config, OmegaConf.load(path), str(path))
    for override in overrides:
        if "=" not in override:
            raise ConfigError(f"override {override!r} has no '=': write it as key.sub=value, e.g. data.clip.video_fps=8")
        key, value = override.split("=", 1)
        _merge(config, OmegaConf.from_dotlist([f"{key.strip()}={value}"]), f"override {override!r}")
    return config


def _open_free_form_dicts(node: DictConfig) -> None:
    """`dict[str, Any]` fields (e.g. model.video_kwargs) take any key; typed sections stay strict."""
    for key in node:
        child = node._get_node(key)
        if isinstance(child, DictConfig):
            if child._metadata.object_type in (None, dict):
                OmegaConf.set_struct(child, False)
            else:
                _open_free_form_dicts(child)


def _merge(config: DictConfig, layer: Any, source: str) -> None:
    try:
        config.merge_with(layer)
    except ConfigKeyError as error:
        raise ConfigError(_unknown_key_message(config, error, source)) from None
    except (ValidationError, OmegaConfBaseException) as error:
        key = getattr(error, "full_key", None) or "?"
        message = str(getattr(error, "msg", error)).splitlines()[0]
        raise ConfigError(f"{source}: bad value for '{key}': {message}") from None


def _unknown_key_message(config: DictConfig, error: ConfigKeyError, source: str) -> str:
    full_key = str(getattr(error, "full_key", "") or "")
    parent_key, _, leaf = full_key.rpartition(".")
    section = OmegaConf.select(config, parent_key) if parent_key else config
    valid = sorted(section.keys()) if isinstance(section, DictConfig) else []
    close = difflib.get_close_matches(leaf, valid, n=2)
    hint = f" Did you mean {' or '.join(repr(f'{parent_key}.{c}' if parent_key else c) for c in close)}?" if close else ""
    where = f"'{parent_key}'" if parent_key else "the top level"
    return f"{source}: unknown key '{full_key}'.{hint} Valid keys in {where}: {', '.join(valid)}"


def save_config(config: DictConfig, path: str | os.PathLike) -> Path:
    """Write the fully resolved config as YAML (atomically) so a run can be reproduced from it."""
    write_text_atomic(path, OmegaConf.to_yaml(config, resolve=True))
    return Path(path)


def require_set(config: DictConfig, key: str) -> Any:
    """A value that has no default (???) must be given: say which and how."""
    parent, _, leaf = key.rpartition(".")
    node = OmegaConf.select(config, parent) if parent else config
    if node is None or OmegaConf.is_missing(node, leaf):
        raise ConfigError(f"'{key}' is required: set it in the YAML file or pass {key}=... on the command line")
    return node[leaf]
