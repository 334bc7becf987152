"""Load the base model for a method: LoRA and full in the precision asked, QLoRA in 4-bit (CUDA only)."""

from __future__ import annotations

import torch

from mtsft.model import load_model
from mtsft.train.config import TrainConfig


def qlora_available() -> tuple[bool, str]:
    if not torch.cuda.is_available():
        return False, ("method qlora needs a CUDA GPU (bitsandbytes 4-bit kernels) and this machine has none; "
                       "use method: lora (same adapters, 16-bit base) or full")
    from transformers.utils import is_bitsandbytes_available

    if not is_bitsandbytes_available():
        return False, "method qlora needs bitsandbytes: pip install bitsandbytes"
    return True, ""


def lora_config(cfg: TrainConfig):
    from peft import LoraConfig

    return LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                      target_modules=cfg.lora.target_modules, task_type="CAUSAL_LM")


def build_model(cfg: TrainConfig, method: str, precision: str, log=print):
    """The trainable model: a PeftModel for lora/qlora, the plain model for full."""
    from peft import get_peft_model

    if method == "qlora":
        ok, why = qlora_available()
        if not ok:
            raise ValueError(why)
        from peft import prepare_model_for_kbit_training
        from transformers import BitsAndBytesConfig

        compute = torch.bfloat16 if precision == "bf16" else torch.float16
        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                   bnb_4bit_compute_dtype=compute)
        model = load_model(cfg.model, quantization_config=quant, trust_remote_code=cfg.trust_remote_code, log=log)
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=cfg.gradient_checkpointing)
        return get_peft_model(model, lora_config(cfg))
    model = load_model(cfg.model, trust_remote_code=cfg.trust_remote_code, log=log)
    model.config.use_cache = False
    if method == "lora":
        return get_peft_model(model, lora_config(cfg))
    return model


def parameter_counts(model) -> tuple[int, int]:
    """(trainable, total) parameters, tied weights counted once."""
    seen, trainable, total = set(), 0, 0
    for p in model.parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        trainable += p.numel() if p.requires_grad else 0
    return trainable, total
