"""`mtsft export RUN --merge --out DIR`: a run's weights as a plain Hugging Face model directory, with a
model card.

A LoRA run is merged into its base model (`merge_and_unload`), so transformers, vLLM or llama.cpp's
converter load it without PEFT; `merge=False` copies the adapter as it is. Either way DIR gets a
README.md in the Hugging Face model-card format (YAML front matter, then text): base model, tasks, the
data mixture, the training config, and the per-task eval scores of the latest `mtsft eval run` of that run
(found beside the run, or given with `scores=`), each with its metric.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from pathlib import Path

from mtsft.runfiles import RUN_INFO, SCORES, read_run_info, read_scores, run_info_path, scores_under

BUILTIN_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


def export_run(run: str | Path, out: str | Path, *, merge: bool = True, scores: str | Path | None = None,
               card: bool = True, log=print) -> Path:
    from mtsft.model import load_model, load_tokenizer, run_weights
    from mtsft.outputs import claim_folder, staged_into

    run, out = Path(run), Path(out)
    weights, base = run_weights(run)
    # the output rule, before the model loads: never the run's weights, a folder of the user's, a FIFO; a
    # rerun replaces only the earlier export (mtsft's own list of what it wrote there)
    claim_folder(out, [weights, scores, run_info_path(run)], selective=[run], overwrite=True)
    tokenizer = load_tokenizer(str(weights), log=log)
    if base is None:
        model = load_model(str(weights), log=log)
    elif not merge:
        with staged_into(out) as staging:
            shutil.copytree(weights, staging, dirs_exist_ok=True)
        log(f"copied the LoRA adapter to {out} (base model: {base})")
        if card:
            write_model_card(run, out, merged=False, scores=scores, log=log)
        return out
    else:
        from peft import PeftModel

        model = PeftModel.from_pretrained(load_model(base, log=log), str(weights)).merge_and_unload()
    with staged_into(out) as staging:  # each file appears whole, under its name, when all are written
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
    log(f"wrote a plain Hugging Face model to {out}" + (f" (LoRA merged into {base})" if base else ""))
    if card:
        write_model_card(run, out, merged=base is not None, scores=scores, log=log)
    return out


# ---- what the card reads ----------------------------------------------------------------------------------

def _run_info(run: Path) -> dict:
    return read_run_info(run) or {}


def _same_run(adapter: str | None, run: Path) -> bool:
    if not adapter:
        return False
    a, r = Path(adapter).resolve(), run.resolve()
    return a == r or a == r / "model" or a.parent == r and a.name == "model"


def find_scores(run: str | Path, scores: str | Path | None = None) -> dict[str, tuple[Path, dict]]:
    """{suite: (scores.json path, scores)} of the latest eval of THIS run: `scores` (a scores.json or an
    `eval run --out` folder) when given, else every scores.json under the run or beside it (a pipeline's
    eval_tuned/) whose `run.adapter` is this run; the newest per suite wins."""
    run = Path(run)
    if scores is not None:
        scores = Path(scores)
        if not scores.exists():
            raise FileNotFoundError(f"--scores: {scores} not found")
        files = [scores] if scores.is_file() else scores_under(scores)
        if not files:
            raise FileNotFoundError(f"--scores: no {SCORES} under {scores} (run `mtsft eval run` first)")
        trust = True
    else:
        roots = [run, run.parent] if run_info_path(run).exists() else [run]
        files = sorted({p for root in roots for p in scores_under(root, depth=3)})
        trust = False
    best: dict[str, tuple[Path, dict]] = {}
    for path in files:
        try:
            data = read_scores(path)
        except (OSError, ValueError):
            continue
        if not data or "tasks" not in data:
            continue
        info = data.get("run") or {}
        if not trust and not _same_run(info.get("adapter"), run):
            continue
        suites = info.get("suites") or [path.parent.name]
        suite = suites[0] if len(suites) == 1 else path.parent.name
        if suite not in best or path.stat().st_mtime > best[suite][0].stat().st_mtime:
            best[suite] = (path, data)
    return best


def _data_mixture(info: dict) -> tuple[Counter, Counter]:
    """(records per task, records per language) of the training data file, when it is still there."""
    tasks, langs = Counter(), Counter()
    path = (info.get("data") or {}).get("path") or (info.get("config") or {}).get("data")
    if not path or not Path(path).is_file():
        return tasks, langs
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            tasks[rec.get("task") or "unlabeled"] += 1
            langs[rec.get("lang") or "unknown"] += 1
    return tasks, langs


def _yaml_str(value) -> str:
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid YAML scalar


def _num(x, digits=3) -> str:
    return "–" if x is None else f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def model_card(run: str | Path, *, merged: bool, scores: str | Path | None = None, name: str | None = None) -> str:
    run = Path(run)
    info = _run_info(run)
    cfg = info.get("config") or {}
    base = cfg.get("model") or "unknown"
    base_id = BUILTIN_HUB_ID if base == "builtin" else base
    method = info.get("method") or cfg.get("method") or "unknown"
    tag_mode = cfg.get("task_tags", "none")
    name = name or run.resolve().name
    found = find_scores(run, scores)
    task_counts, lang_counts = _data_mixture(info)
    tasks = sorted(set(info.get("tasks") or []) | set(task_counts))
    languages = sorted(lang for lang in lang_counts if lang in ("en", "zh")) or ["en", "zh"]

    # ---- front matter
    fm = ["---"]
    is_local = base in ("tiny",) or Path(base).exists()
    if not is_local:
        fm.append(f"base_model: {_yaml_str(base_id)}")
    fm.append(f"library_name: {'peft' if method in ('lora', 'qlora') and not merged else 'transformers'}")
    if base == "builtin":
        fm.append("license: apache-2.0  # the base model's license; check your training data's licenses too")
    fm.append("pipeline_tag: text-generation")
    fm.append("language:")
    fm += [f"- {lang}" for lang in languages]
    fm.append("tags:")
    fm += [f"- {t}" for t in ["mtsft", "multi-task", "sft", *([method] if method != "unknown" else []),
                               *(["merged"] if merged else [])]]
    if found:
        fm += ["model-index:", f"- name: {_yaml_str(name)}", "  results:"]
        for suite, (_, data) in sorted(found.items()):
            for task, row in sorted(data["tasks"].items()):
                metric = row.get("metric") or "verifier"
                fm += ["  - task:", "      type: text-generation", f"      name: {_yaml_str(task)}",
                       "    dataset:", f"      name: {_yaml_str(f'mtsft eval suite {suite}')}",
                       f"      type: {_yaml_str(suite)}", "    metrics:",
                       f"    - type: {_yaml_str(metric)}",
                       f"      value: {round(float(row.get('score', 0.0)), 4)}",
                       f"      name: {_yaml_str(task + ' (' + metric + ')')}",
                       "      verified: false"]
    fm.append("---")

    # ---- text
    body = [f"# {name}", "",
            f"A multi-task assistant fine-tuned from `{base_id}` with [mtsft](https://pypi.org/project/mtsft/) "
            f"({method}{', merged into the base weights' if merged else ', as a PEFT adapter'}).", ""]
    if tasks:
        body.append(f"It was trained on {len(tasks)} task types: " + ", ".join(f"`{t}`" for t in tasks) + ".")
        body.append("")
    body += ["## How to use", ""]
    if tag_mode != "none":
        how = ("the task's name and description first in the system prompt (`Task: translation. ...`)"
               if tag_mode == "system" else "the first user message starting with `[task_name] `")
        body += [f"The model was trained with **task tags** (`{tag_mode}` mode): give it {how}, as training "
                 "did. `mtsft chat --adapter RUN` and `mtsft serve` add the tag for you.", ""]
    load = ("from peft import AutoPeftModelForCausalLM\nmodel = AutoPeftModelForCausalLM.from_pretrained(\"PATH\")"
            if method in ("lora", "qlora") and not merged else
            "from transformers import AutoModelForCausalLM\nmodel = AutoModelForCausalLM.from_pretrained(\"PATH\")")
    body += ["```python", load, "from transformers import AutoTokenizer",
             "tokenizer = AutoTokenizer.from_pretrained(\"PATH\")",
             "messages = [{\"role\": \"user\", \"content\": \"Translate into Chinese: Good morning.\"}]",
             "ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors=\"pt\")",
             "out = model.generate(ids, max_new_tokens=64)",
             "print(tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True))",
             "```", ""]

    body += ["## Evaluation", ""]
    if found:
        for suite, (path, data) in sorted(found.items()):
            when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(path.stat().st_mtime))
            runinfo = data.get("run") or {}
            body += [f"Suite `{suite}` ({runinfo.get('records', '?')} records, "
                     f"task tags `{runinfo.get('tag_mode', '?')}`, "
                     f"greedy decoding; `{path}`, {when} UTC):", "",
                     "| task | metric | n | score | 95% CI | format ok |", "|---|---|---:|---:|---|---:|"]
            for task, row in sorted(data["tasks"].items()):
                ci = row.get("ci95")
                ci_text = f"{ci[0]:.3f}–{ci[1]:.3f}" if ci else "–"
                fmt = row.get("format_ok")
                body.append(f"| {task} | {row.get('metric') or 'verifier'} | {row.get('n', '?')} | "
                            f"{_num(row.get('score'))} | {ci_text} | {'–' if fmt is None else f'{fmt:.0%}'} |")
            overall = data.get("overall") or {}
            if overall:
                body.append(f"| **overall** (mean over records of different metrics) | – | {overall.get('n', '?')} | "
                            f"{_num(overall.get('score'))} | – | – |")
            body.append("")
        body += ["Scores come from each task's own verifier (exact match, numeric answer, chrF, ROUGE-L, unit "
                 "tests run in a sandbox, JSON field F1, constraint checks), on prompts worded unlike training.", ""]
    else:
        body += ["No evaluation of this run was found: run `mtsft eval run --adapter RUN --out RUN/eval` and "
                 "export again to list per-task scores here.", ""]

    body += ["## Training data", ""]
    data_info = info.get("data") or {}
    if task_counts:
        total = sum(task_counts.values())
        body += [f"{total} records in `{data_info.get('path') or cfg.get('data')}` "
                 f"(train {data_info.get('train', '?')}, held out for eval loss {data_info.get('eval', '?')}); "
                 "languages: " + ", ".join(f"{k} {v}" for k, v in lang_counts.most_common()) + ".", "",
                 "| task | records | share |", "|---|---:|---:|"]
        body += [f"| {t} | {n} | {n / total:.1%} |" for t, n in task_counts.most_common()]
        body.append("")
    elif data_info:
        body += [f"{data_info.get('records', '?')} records (`{data_info.get('path')}`, sha256 "
                 f"`{str(data_info.get('sha256', ''))[:16]}`); the file is no longer there to count tasks.", ""]
    else:
        body += [f"Not recorded (no {RUN_INFO}).", ""]
    mixtures = [("all stages", cfg.get("mixture"))] + [(s.get("name", f"stage {i}"), s.get("mixture"))
                                                        for i, s in enumerate(cfg.get("stages") or [])]
    mixtures = [(k, v) for k, v in mixtures if v]
    if mixtures:
        body += ["Mixture rules applied at training time:", ""]
        body += [f"- {k}: `{json.dumps(v, ensure_ascii=False)}`" for k, v in mixtures]
        body.append("")

    body += ["## Training", ""]
    if cfg:
        keys = ["method", "precision", "epochs", "max_steps", "lr", "scheduler", "warmup_ratio", "batch_size",
                "grad_accum", "max_length", "batching", "task_tags", "seed"]
        body += ["| setting | value |", "|---|---|"]
        body += [f"| {k} | {cfg[k]} |" for k in keys if cfg.get(k) is not None]
        if method in ("lora", "qlora") and cfg.get("lora"):
            lora = cfg["lora"]
            body.append(f"| LoRA | r={lora.get('r')}, alpha={lora.get('alpha')}, dropout={lora.get('dropout')}, "
                        f"targets={lora.get('target_modules')} |")
        if cfg.get("stages"):
            body.append(f"| stages | {', '.join(s.get('name', '?') for s in cfg['stages'])} |")
        body.append("")
        stages = info.get("stages") or {}
        rows = []
        for sname, st in stages.items():
            for key, value in sorted((st.get("eval") or {}).items()):
                if key.startswith("eval_") and key.endswith("_loss") and key != "eval_loss":
                    rows.append(f"| {sname} | {key[5:-5]} | {value:.3f} |")
        if rows:
            body += ["Per-task evaluation loss at the end of each stage:", "", "| stage | task | eval loss |",
                     "|---|---|---:|", *rows, ""]
        metrics = info.get("metrics") or {}
        if metrics:
            body.append(f"Final training loss {_num(metrics.get('final_loss'))}, "
                        f"{_num(metrics.get('train_seconds'), 1)} s, {metrics.get('tokens', '?')} tokens; "
                        f"status `{info.get('status', '?')}`; mtsft run `{run}`.")
            body.append("")
        versions = info.get("versions") or {}
        if versions:
            body += ["Software: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".", ""]
    else:
        body += [f"Not recorded (no {RUN_INFO} next to the weights).", ""]
    body += ["## Limitations", "",
             f"A small model ({base_id}) answers many questions wrongly and can mix tasks up (answer a question it "
             "was asked to translate, wrap JSON in prose); the scores above say how often, per task. It was not "
             "tuned for safety beyond its base model.", ""]
    return "\n".join(fm) + "\n\n" + "\n".join(body)


def write_model_card(run: str | Path, out: str | Path, *, merged: bool, scores: str | Path | None = None,
                     log=print) -> Path:
    from mtsft.outputs import write_text_atomic

    path = Path(out) / "README.md"
    write_text_atomic(path, model_card(run, merged=merged, scores=scores, name=Path(out).resolve().name))
    found = find_scores(run, scores)
    log(f"model card: {path} (" + (f"eval scores from {', '.join(sorted(found))}" if found
                                   else "no eval scores found for this run") + ")")
    return path


# ---- GGUF -------------------------------------------------------------------------------------------------
#
# The `gguf` package writes the file format; the mapping from a Hugging Face checkpoint to llama.cpp's tensor
# names and metadata is ours (the same as llama.cpp's convert_hf_to_gguf.py for these architectures).
# Weights are written unquantised (F32, or F16 with dtype="f16"), so the file loads back with transformers'
# `gguf_file=` to the same model; quantise it afterwards with llama.cpp's `llama-quantize` if you want.

GGUF_ARCHITECTURES = {"LlamaForCausalLM": "llama"}
_LAYER_NAMES = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
}


class UnsupportedArchitecture(ValueError):
    pass


def _permute(w, n_head: int):
    """llama.cpp's rotary layout for Q and K (the inverse of what transformers undoes on load)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def gguf_tensor_name(hf_name: str) -> str:
    if hf_name == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf_name == "model.norm.weight":
        return "output_norm.weight"
    if hf_name == "lm_head.weight":
        return "output.weight"
    parts = hf_name.split(".")
    if len(parts) >= 5 and parts[:2] == ["model", "layers"]:
        inner, kind = ".".join(parts[3:-1]), parts[-1]
        if inner in _LAYER_NAMES:
            return f"blk.{parts[2]}.{_LAYER_NAMES[inner]}.{kind}"
    raise UnsupportedArchitecture(f"no GGUF name for tensor {hf_name!r}")


def _tokenizer_fields(tokenizer) -> dict:
    """tokens, token types, merges and special ids of a byte-level BPE tokenizer, from its tokenizer.json."""
    data = json.loads(tokenizer.backend_tokenizer.to_str())
    model = data.get("model") or {}
    if model.get("type") != "BPE":
        raise UnsupportedArchitecture(f"GGUF export supports byte-level BPE tokenizers, not {model.get('type')}")
    vocab = dict(model["vocab"])
    added = {t["id"]: t for t in data.get("added_tokens") or []}
    for tid, t in added.items():
        vocab.setdefault(t["content"], tid)
    size = max(vocab.values()) + 1
    tokens = [f"[PAD{i}]" for i in range(size)]
    types = [5] * size  # 5: unused
    for tok, tid in vocab.items():
        tokens[tid] = tok
        types[tid] = 1  # normal
    for tid, t in added.items():
        types[tid] = 3 if t.get("special") else 4  # control / user-defined
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges") or []]
    return {"tokens": tokens, "types": types, "merges": merges}


def export_gguf(model_dir: str | Path, path: str | Path | None = None, *, dtype: str = "f32", log=print) -> Path:
    """Write `model_dir` (a plain Hugging Face model, e.g. `export_run`'s output) as one GGUF file."""
    import gguf
    import numpy as np
    from transformers import AutoConfig

    from mtsft.model import load_model, load_tokenizer
    from mtsft.outputs import check_file, claim_folder, own, tmp_name

    model_dir = Path(model_dir)
    if path is not None:
        check_file(path, [model_dir], flag="path")
    config = AutoConfig.from_pretrained(model_dir)
    archs = config.architectures or []
    arch = next((GGUF_ARCHITECTURES[a] for a in archs if a in GGUF_ARCHITECTURES), None)
    if arch is None:
        raise UnsupportedArchitecture(
            f"GGUF export supports {', '.join(GGUF_ARCHITECTURES)} (Llama-family, like the embedded SmolLM2); "
            f"this model is {', '.join(archs) or config.model_type}. Use llama.cpp's convert_hf_to_gguf.py on "
            f"{model_dir} instead.")
    if getattr(config, "rope_scaling", None) not in (None, {}) and (config.rope_scaling or {}).get("rope_type",
                                                                                               "default") != "default":
        raise UnsupportedArchitecture(f"GGUF export does not write rope scaling ({config.rope_scaling})")
    if getattr(config, "attention_bias", False) or getattr(config, "mlp_bias", False):
        raise UnsupportedArchitecture("GGUF export does not write Llama attention/MLP biases")
    if dtype not in ("f32", "f16"):
        raise ValueError(f"dtype must be f32 or f16, not {dtype!r}")
    # its own folder: transformers reads the tokenizer from a GGUF only where no tokenizer files sit beside it
    if path is None:
        path = claim_folder(model_dir / "gguf") / f"{model_dir.resolve().name}.{dtype}.gguf"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = load_model(str(model_dir), log=log)
    tokenizer = load_tokenizer(str(model_dir), log=log)
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads or config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    rope_theta = getattr(config, "rope_theta", None) or (getattr(config, "rope_parameters", None) or {}).get(
        "rope_theta", 10000.0)

    writer = gguf.GGUFWriter(str(tmp_name(path)), arch)  # renamed to `path` when complete
    writer.add_name(model_dir.resolve().name)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_rope_dimension_count(head_dim)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_rope_freq_base(float(rope_theta))
    writer.add_vocab_size(config.vocab_size)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32 if dtype == "f32" else gguf.LlamaFileType.MOSTLY_F16)
    fields = _tokenizer_fields(tokenizer)
    if len(fields["tokens"]) < config.vocab_size:  # the embedding has rows past the tokenizer: pad the list
        extra = config.vocab_size - len(fields["tokens"])
        fields["tokens"] += [f"[PAD{len(fields['tokens']) + i}]" for i in range(extra)]
        fields["types"] += [5] * extra
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("smollm" if "smollm" in str(getattr(tokenizer, "name_or_path", "")).lower() else "default")
    writer.add_token_list(fields["tokens"])
    writer.add_token_types(fields["types"])
    writer.add_token_merges(fields["merges"])
    for what, tid in (("bos", tokenizer.bos_token_id), ("eos", tokenizer.eos_token_id),
                      ("unk", tokenizer.unk_token_id), ("pad", tokenizer.pad_token_id)):
        if tid is not None:
            getattr(writer, f"add_{what}_token_id")(tid)
    writer.add_add_bos_token(False)
    if tokenizer.chat_template:
        writer.add_chat_template(tokenizer.chat_template)

    tied = bool(getattr(config, "tie_word_embeddings", False))
    for name, tensor in model.state_dict().items():
        if name == "lm_head.weight" and tied:
            continue
        w = tensor.detach().float().cpu().numpy()
        if name.endswith("self_attn.q_proj.weight"):
            w = _permute(w, heads)
        elif name.endswith("self_attn.k_proj.weight"):
            w = _permute(w, kv_heads)
        # norms and 1-D tensors stay F32 (as llama.cpp writes them)
        w = w.astype(np.float16) if dtype == "f16" and w.ndim > 1 else w.astype(np.float32)
        writer.add_tensor(gguf_tensor_name(name), w)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    own(path.parent, path.name)
    os.replace(tmp_name(path), path)
    log(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB, {dtype}, architecture {arch})")
    return path
