"""An optional LLM judge (any OpenAI-compatible endpoint), never required: it re-judges the pairs the
feature model is unsure of."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

from mtsft import tasks
from mtsft.eval.judge.model import Verdict
from mtsft.eval.judge.prompt import messages_of


@dataclass
class LLMBackup:
    """Asks a chat model which task a reply performs, through `POST {base_url}/chat/completions` (OpenAI,
    vLLM, llama.cpp server, Ollama...). Used only for pairs the feature model is unsure of, and only where
    the asked or judged task's family is in `families` (open-ended tasks by default); any failure
    (network, timeout, an unknown answer) leaves the model's verdict as it was."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = 30.0
    families: tuple[str, ...] = ("open",)

    def _applies(self, *names: str | None) -> bool:
        for name in names:
            try:
                if name and tasks.get(name).family in self.families:
                    return True
            except KeyError:
                continue
        return False

    def ask(self, prompt, output: str, names: list[str]) -> str | None:
        import urllib.request

        msgs = messages_of(prompt)
        shown = "\n".join(f"[{m.get('role')}] {m.get('content')}" for m in msgs)
        catalogue = "\n".join(f"- {n}: {tasks.get(n).description.get('en', '')}" for n in names)
        question = (f"Task types:\n{catalogue}\n\nPROMPT:\n{shown}\n\nREPLY:\n{output}\n\n"
                    "Which task type does the REPLY actually perform (not which one the prompt asked for)? "
                    "Answer with the task type's name only.")
        body = json.dumps({"model": self.model, "temperature": 0, "max_tokens": 12,
                           "messages": [{"role": "system", "content": "You label what an assistant's reply does."},
                                        {"role": "user", "content": question}]}).encode()
        headers = {"Content-Type": "application/json"}
        key = self.api_key or os.environ.get("OPENAI_API_KEY")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(self.base_url.rstrip("/") + "/chat/completions", data=body, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                answer = json.loads(resp.read())["choices"][0]["message"]["content"]
        except Exception:
            return None
        found = [n for n in sorted(names, key=len, reverse=True) if re.search(rf"\b{re.escape(n)}\b", answer or "")]
        return found[0] if found else None

    def review(self, verdict: Verdict, prompt, output: str, names: list[str]) -> Verdict:
        if not self._applies(verdict.intended, verdict.performed_task):
            return verdict
        named = self.ask(prompt, output, names)
        if named is None:
            return verdict
        return Verdict(performed_task=named, confidence=verdict.confidence, crossed=named != verdict.intended,
                       reason=f"{verdict.reason}; LLM judge ({self.model}): {named}", intended=verdict.intended,
                       probabilities=verdict.probabilities)
