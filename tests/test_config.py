"""Configs: YAML + dotted overrides, validated; typos are errors that name the key."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from avssl.config import ConfigError, load_config, require_set, save_config


def test_override_sets_a_typed_value():
    config = load_config(overrides=["data.clip.video_fps=8", "data.manifest=/m.csv"])
    assert config.data.clip.video_fps == 8.0 and isinstance(config.data.clip.video_fps, float)
    assert config.data.manifest == "/m.csv"


def test_yaml_then_override_precedence(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  batch_size: 7\n  clip:\n    audio_rate: 16000\n")
    config = load_config(path, ["data.batch_size=9"])
    assert (config.data.batch_size, config.data.clip.audio_rate) == (9, 16000)


def test_misspelled_key_names_the_key_a_suggestion_and_the_valid_keys():
    with pytest.raises(ConfigError) as error:
        load_config(overrides=["data.clip.video_fsp=8"])
    message = str(error.value)
    assert "data.clip.video_fsp" in message and "'data.clip.video_fps'" in message
    assert "video_frames" in message  # the section's valid keys are listed


def test_misspelled_key_in_yaml_names_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  bach_size: 7\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: unknown key 'data\.bach_size'.*data\.batch_size"):
        load_config(path)


def test_wrong_type_is_an_error():
    with pytest.raises(ConfigError, match="data.clip.video_fps"):
        load_config(overrides=["data.clip.video_fps=fast"])


def test_override_without_equals_sign_is_explained():
    with pytest.raises(ConfigError, match="key.sub=value"):
        load_config(overrides=["data.clip.video_fps"])


def test_required_value_must_be_given():
    with pytest.raises(ConfigError, match="'data.manifest' is required"):
        require_set(load_config(), "data.manifest")
    assert require_set(load_config(overrides=["data.manifest=x"]), "data.manifest") == "x"


def test_saved_config_reloads_to_the_same_values(tmp_path):
    config = load_config(overrides=["data.manifest=m.csv", "data.video.scale=[0.2,1.0]"])
    path = save_config(config, tmp_path / "run" / "config.yaml")
    again = load_config(path)
    assert OmegaConf.to_container(again) == OmegaConf.to_container(config)
