// mtsft web chat: streams /v1/chat/completions (server-sent events) into the conversation view.
// Plain JS, no build step, no CDN: it works offline.
"use strict";
const $ = (id) => document.getElementById(id);
const state = { history: [], controller: null, info: null };

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api-key").value || localStorage.getItem("mtsft-key") || "";
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

async function loadInfo() {
  try {
    const r = await fetch("/api/info", { headers: headers() });
    if (r.status === 401) { $("key-box").hidden = false; $("model").textContent = "API key needed"; return; }
    const info = await r.json();
    state.info = info;
    $("model").textContent = info.model;
    $("tag-mode").textContent = "task tags: " + info.tag_mode;
    for (const t of info.tasks) {
      const o = document.createElement("option"); o.value = t; o.textContent = t; $("task").appendChild(o);
    }
    $("max-tokens").max = info.max_tokens_cap;
    $("max-tokens").value = Math.min(info.default_max_tokens, info.max_tokens_cap);
    if (info.report) { $("report").hidden = false; $("report").href = info.report; }
    $("key-box").hidden = !info.auth_required;
  } catch (e) { $("model").textContent = "server unreachable"; }
}

function bubble(role, text) {
  const div = document.createElement("div");
  div.className = "msg " + role;
  div.textContent = text;
  $("messages").appendChild(div);
  $("messages").scrollTop = $("messages").scrollHeight;
  return div;
}

function busy(on) {
  $("send").disabled = on; $("stop").hidden = !on; $("input").disabled = on;
}

async function send(text) {
  const messages = [];
  const system = $("system").value.trim();
  if (system) messages.push({ role: "system", content: system });
  messages.push(...state.history, { role: "user", content: text });
  const body = {
    model: state.info ? state.info.model : undefined, messages, stream: true,
    temperature: parseFloat($("temperature").value), max_tokens: parseInt($("max-tokens").value, 10) || 256,
    stream_options: { include_usage: true },
  };
  if ($("task").value) body.task = $("task").value;
  bubble("user", text);
  const out = bubble("assistant streaming", "");
  out.setAttribute("data-testid", "answer");
  busy(true);
  $("status").textContent = "generating…";
  state.controller = new AbortController();
  let answer = "", finish = null, usage = null, started = performance.now(), first = null;
  try {
    const r = await fetch("/v1/chat/completions", { method: "POST", headers: headers(), body: JSON.stringify(body),
                                                     signal: state.controller.signal });
    if (!r.ok) {
      const err = await r.json().catch(() => ({ error: { message: r.statusText } }));
      throw new Error(`${r.status}: ${err.error ? err.error.message : r.statusText}`);
    }
    const reader = r.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const event = buf.slice(0, cut); buf = buf.slice(cut + 2);
        for (const line of event.split("\n")) {
          if (!line.startsWith("data: ")) continue;
          const data = line.slice(6);
          if (data === "[DONE]") continue;
          const msg = JSON.parse(data);
          if (msg.error) throw new Error(msg.error.message);
          if (msg.usage) usage = msg.usage;
          const choice = msg.choices && msg.choices[0];
          if (!choice) continue;
          if (choice.delta && choice.delta.content) {
            if (first === null) first = performance.now();
            answer += choice.delta.content;
            out.textContent = answer;
            $("messages").scrollTop = $("messages").scrollHeight;
          }
          if (choice.finish_reason) finish = choice.finish_reason;
        }
      }
    }
    out.classList.remove("streaming");
    out.setAttribute("data-done", "true");
    state.history.push({ role: "user", content: text }, { role: "assistant", content: answer });
    const meta = document.createElement("span");
    meta.className = "meta";
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    meta.textContent = `${usage ? usage.completion_tokens + " tokens, " : ""}${secs}s` +
      (first !== null ? `, first token ${((first - started) / 1000).toFixed(2)}s` : "") +
      (finish === "length" ? " (cut at max tokens)" : "");
    out.appendChild(meta);
    $("status").textContent = "";
  } catch (e) {
    out.classList.remove("streaming");
    if (e.name === "AbortError") { $("status").textContent = "stopped"; out.setAttribute("data-done", "true"); }
    else { out.className = "msg error"; out.textContent = "error " + e.message; $("status").textContent = ""; }
  } finally {
    busy(false); state.controller = null; $("input").focus();
  }
}

$("composer").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("input").value.trim();
  if (!text || state.controller) return;
  $("input").value = "";
  send(text);
});
$("input").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); $("composer").requestSubmit(); }
});
$("stop").addEventListener("click", () => state.controller && state.controller.abort());
$("reset").addEventListener("click", () => { state.history = []; $("messages").innerHTML = ""; $("status").textContent = ""; });
$("temperature").addEventListener("input", () => { $("temperature-value").textContent = $("temperature").value; });
$("api-key").addEventListener("change", () => { localStorage.setItem("mtsft-key", $("api-key").value); loadInfo(); });
loadInfo();
