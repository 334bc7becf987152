"""Perplexity on general held-out text: the forgetting check's model-side number.

`text_nll(model, tokenizer, texts)` returns the summed negative log-likelihood and the token count of
every text (so the base/tuned ratio can be bootstrapped over texts); `general_perplexity` loads the base
model and the tuned adapter of a run and measures both on `mtsft.datasets.general_texts()`.
"""

from __future__ import annotations

import math


def text_nll(model, tokenizer, texts: list[str], *, max_length: int = 256, batch_size: int = 8) -> dict:
    """{nll: [summed NLL per text], tokens: [predicted tokens per text], ppl: exp(total NLL / total tokens)}.
    Each text is scored from its first token on (a BOS token goes first when the tokenizer has one)."""
    import torch

    model.eval()
    device = next(model.parameters()).device
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    encoded = [(bos + tokenizer(t, add_special_tokens=False)["input_ids"])[:max_length] for t in texts]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    nll, tokens = [], []
    with torch.no_grad():
        for start in range(0, len(encoded), batch_size):
            batch = encoded[start:start + batch_size]
            width = max(len(ids) for ids in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for i, seq in enumerate(batch):
                ids[i, :len(seq)] = torch.tensor(seq, dtype=torch.long)
                mask[i, :len(seq)] = 1
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
            logp = torch.log_softmax(logits[:, :-1], dim=-1)
            target = ids[:, 1:].to(device)
            token_nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1) * mask[:, 1:].to(device)
            nll += token_nll.sum(dim=1).tolist()
            tokens += mask[:, 1:].sum(dim=1).tolist()
    total = sum(tokens)
    return {"nll": nll, "tokens": [int(t) for t in tokens], "ppl": math.exp(sum(nll) / total) if total else float("nan")}


def general_texts(limit: int) -> list[str]:
    """The package's general held-out texts (alpaca eval answers), or [] when the package has none."""
    try:
        from mtsft.datasets import general_texts as shipped
    except ImportError:
        return []
    try:
        texts = [t for t in shipped() if t and t.strip()]
    except (FileNotFoundError, KeyError, ValueError):
        return []
    return texts[:limit]


def general_perplexity(model_spec: str, adapter: str | None, *, texts: list[str], max_length: int = 256,
                       batch_size: int = 8, log=print) -> dict:
    """{base: text_nll, tuned: text_nll} for the base model and the run's adapter on the same texts."""
    from mtsft.model import load_for_inference

    out = {"texts": len(texts), "model": model_spec, "adapter": adapter}
    for name, adp in (("base", None), ("tuned", adapter)):
        model, tokenizer = load_for_inference(model_spec, adp, log=log)
        out[name] = text_nll(model, tokenizer, texts, max_length=max_length, batch_size=batch_size)
        log(f"perplexity ({name}): {out[name]['ppl']:.2f} on {len(texts)} general texts")
        del model
    return out
