"""Assistant-only label mask, task tags and truncation."""

from mtsft.tags import apply_task_tag
from mtsft.train.tokenize import IGNORE, tokenize_conversation

THREE_TURNS = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Translate: 你好"},
    {"role": "assistant", "content": "Hello"},
    {"role": "user", "content": "And 谢谢?"},
    {"role": "assistant", "content": "Thank you"},
    {"role": "user", "content": "Count to three."},
    {"role": "assistant", "content": "1, 2, 3"},
]


def _trained_segments(tokenizer, tok):
    segments, current = [], []
    for token, label in zip(tok.input_ids, tok.labels):
        if label != IGNORE:
            assert label == token
            current.append(token)
        elif current:
            segments.append(tokenizer.decode(current))
            current = []
    if current:
        segments.append(tokenizer.decode(current))
    return segments


def test_three_turn_mask_trains_exactly_assistant_contents_and_end_of_turn(tokenizer):
    tok = tokenize_conversation(tokenizer, THREE_TURNS)
    eot = tokenizer.eos_token
    assert _trained_segments(tokenizer, tok) == [f"Hello{eot}", f"Thank you{eot}", f"1, 2, 3{eot}"]


def test_mask_covers_the_whole_rendered_template(tokenizer):
    tok = tokenize_conversation(tokenizer, THREE_TURNS)
    rendered = tokenizer.apply_chat_template(THREE_TURNS, tokenize=False)
    assert tokenizer.decode(tok.input_ids) == rendered


def test_truncation_keeps_the_prefix_and_its_labels(tokenizer):
    full = tokenize_conversation(tokenizer, THREE_TURNS)
    cut = tokenize_conversation(tokenizer, THREE_TURNS, max_length=len(full.input_ids) - 5)
    assert cut.input_ids == full.input_ids[:-5] and cut.labels == full.labels[:-5]


def test_system_tag_puts_task_first_in_the_system_prompt():
    out = apply_task_tag(THREE_TURNS, "my_task", "system", "en")
    assert out[0]["role"] == "system"
    assert out[0]["content"].startswith("Task: my_task.") and out[0]["content"].endswith("Be brief.")
    assert out[1:] == THREE_TURNS[1:]


def test_system_tag_adds_a_system_prompt_when_there_is_none():
    out = apply_task_tag(THREE_TURNS[1:], "my_task", "system", "zh")
    assert out[0] == {"role": "system", "content": "任务：my_task。"}


def test_prefix_tag_marks_the_first_user_turn_only():
    out = apply_task_tag(THREE_TURNS, "my_task", "prefix")
    assert out[1]["content"] == "[my_task] Translate: 你好"
    assert out[3]["content"] == THREE_TURNS[3]["content"]


def test_none_tag_leaves_messages_unchanged_and_does_not_mutate_input():
    before = [dict(m) for m in THREE_TURNS]
    assert apply_task_tag(THREE_TURNS, "my_task", "none") == THREE_TURNS
    apply_task_tag(THREE_TURNS, "my_task", "system")
    assert THREE_TURNS == before
