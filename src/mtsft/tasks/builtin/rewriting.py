"""rewriting: make a casual message formal, then (follow-up) shorter; chrF against the reference."""

from __future__ import annotations

import random
from dataclasses import dataclass

from mtsft.tasks import formats, relevance, matchers
from mtsft.tasks.builtin import tables as T
from mtsft.tasks.builtin import content
from mtsft.tasks.builtin import partition as P
from mtsft.tasks.builtin._common import BuiltinTask
from mtsft.tasks.references import SourcedAnswerReference
from mtsft.tasks.crossing import Crossed, CrossingDraw

# (casual, formal, short) in English and in Chinese, parallel
ROWS = [
    (("hey, can't make it to the meeting tmrw, something came up", "I am sorry, but I will not be able to attend tomorrow's meeting because something urgent has come up.", "I cannot attend tomorrow's meeting."),
     ("明天的会我去不了了，临时有事", "非常抱歉，由于临时有急事，我无法参加明天的会议。", "我无法参加明天的会议。")),
    (("the printer's broken again, someone fix it pls", "The printer is out of order again; could someone please arrange for it to be repaired?", "Please repair the printer."),
     ("打印机又坏了，谁来修一下啊", "打印机再次出现故障，麻烦相关同事安排维修。", "请安排维修打印机。")),
    (("thx for the help yesterday, u saved me", "Thank you very much for your help yesterday; it made a great difference.", "Thank you for yesterday's help."),
     ("昨天多亏你帮忙，救了我一命", "非常感谢您昨天的帮助，这对我意义重大。", "感谢您昨天的帮助。")),
    (("gonna be late, traffic is crazy", "I apologise, but I will be arriving late because of heavy traffic.", "I will be late due to traffic."),
     ("路上堵死了，我要迟到了", "抱歉，由于交通严重拥堵，我将会晚到。", "因堵车我会晚到。")),
    (("the report's got a bunch of mistakes, redo it", "The report contains a number of errors; please revise it.", "Please revise the report."),
     ("报告里错一堆，重新弄一下", "报告中存在多处错误，请修改后重新提交。", "请修改报告。")),
    (("can u send me the slides? forgot to save them", "Could you please send me the slides? I forgot to save a copy.", "Please send me the slides."),
     ("能把幻灯片发我一下吗？忘存了", "能否请您把幻灯片发给我？我忘记保存了。", "请把幻灯片发给我。")),
    (("the wifi here is super slow, any fix?", "The wireless connection here is very slow; is there a way to improve it?", "Can the slow Wi-Fi be fixed?"),
     ("这里网速太慢了，有办法吗？", "此处的无线网络速度很慢，请问有改善的办法吗？", "网速慢能否解决？")),
    (("no lunch meeting today, boss is out", "Today's lunch meeting is cancelled because the manager is away.", "Today's lunch meeting is cancelled."),
     ("今天不开午饭会了，老板不在", "由于经理外出，今天的午餐会议取消。", "今天的午餐会议取消。")),
]

TEMPLATES = {
    "en": ["Rewrite this message in a formal tone:\n{t}", "Make this sound more professional: {t}",
           "Please polish the following text so it is polite and formal.\n\"{t}\"", "Rephrase formally: {t}",
           "Turn this casual note into a formal message.\n{t}", "Rewrite for a work email: {t}",
           "Edit this to be courteous and formal, keeping the meaning: {t}", "Formal version, please:\n{t}",
           "How would I say this to my manager? {t}", "Clean up the wording of this for an official notice: {t}"],
    "zh": ["把这条消息改写成正式的语气：\n{t}", "让这句话听起来更专业：{t}", "请润色下面的文字，使其礼貌而正式。\n“{t}”",
           "正式地改写：{t}", "把这条随意的留言改成正式的消息。\n{t}", "改写成工作邮件的措辞：{t}",
           "在不改变意思的前提下，把这段话改得礼貌正式：{t}", "请给出正式版本：\n{t}",
           "这句话跟领导该怎么说？{t}", "把这段话的措辞整理成正式通知的样子：{t}"],
}
SHORTER = {"en": ["Now make it shorter.", "Can you shorten it to a few words?", "Even more concise, please."],
           "zh": ["再改短一点。", "能压缩成几个词吗？", "请再精简一些。"]}


# more rows in content/rewriting_rows.jsonl; slot rows are (en casual, formal, short, zh casual, formal, short)
# over {person} and {day}
ALL_ROWS = ROWS + content.rows("rewriting_rows")
SLOT_ROWS, DAYS = content.rows("rewriting_slot_rows"), content.rows("rewriting_days")


def _slot_row(rng: random.Random, held_out: bool = False) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    """A row from a slot skeleton (person, weekday); held-out draws use held-out skeletons and people."""
    skeleton = P.choose(rng, SLOT_ROWS, held_out)
    person, day = P.choose(rng, T.PEOPLE, held_out), rng.choice(DAYS)
    en = tuple(x.format(person=person["en"], day=day[0]) for x in skeleton[:3])
    zh = tuple(x.format(person=person["zh"], day=day[1]) for x in skeleton[3:])
    return en, zh


@dataclass
class Rewriting(BuiltinTask):
    templates = TEMPLATES
    reference_model = SourcedAnswerReference  # the fields score() reads

    def generate(self, rng, lang, *, held_out=False):
        template_id, template = self.pick_template(rng, lang, held_out)
        row = (P.choose(rng, ALL_ROWS, held_out) if rng.random() < 0.6 else _slot_row(rng, held_out))[lang == "zh"]
        casual, formal, short = row
        turns = [template.format(t=casual), formal]
        source, answer = casual, formal
        if rng.random() < 0.3:  # follow-up turn: shorten the formal version
            turns += [rng.choice(SHORTER[lang]), short]
            source, answer = formal, short
        return self.build(turns, lang=lang, template=template_id, held_out=held_out,
                          reference={"answer": answer, "source": source})

    def score(self, output, record):
        """meaning x changed x quality. Meaning: the share of the reference rewrite's content words in the
        output, full credit from half (a rewrite in other words keeps the names, numbers and key terms);
        changed: character-n-gram similarity to the input at most 0.7, nothing from 0.85 (the input handed
        back or barely touched is 0), or, when the turn asks to shorten (the reference is under 80% of its
        input), at most 90% of the input's length, nothing at 100%; quality: no repetition, right language.
        The prompt echoed is 0."""
        ref = record["reference"]
        source, answer = ref.get("source", ""), ref["answer"]
        if relevance.is_echo(output, relevance.last_user(record)):
            return 0.0
        meaning = min(1.0, max(relevance.unit_recall(output, answer),
                               relevance.unit_recall(output, answer, within=source)) / 0.5)
        n_src, n_out = relevance.length(source), relevance.length(output)
        if source and relevance.length(answer) < 0.8 * n_src:  # a shortening turn: cutting is the change
            changed = max(0.0, min(1.0, (1.0 - n_out / n_src) / 0.1))
        else:
            changed = max(0.0, min(1.0, (0.85 - relevance.similarity(output, source)) / 0.15))
        lang_ok = matchers.language_ok(output, self.answer_lang(record))
        return meaning * changed * relevance.non_degenerate(output) * (0.5 + 0.5 * lang_ok)

    def format_violations(self, output, record):
        return formats.check_answer_text(output, self.answer_lang(record))

    def output_likeness(self, output):
        # A polished single message: one or two sentences, no markdown, formal words.
        text = output.strip()
        if not text or "\n" in text or formats.has_markdown(text):
            return 0.0
        polite = any(w in text.lower() for w in ("please", "could you", "thank you", "sorry", "apolog", "请", "您", "抱歉", "感谢", "能否"))
        return (0.35 + 0.3 * polite) if formats.n_sentences(text) <= 2 else 0.1

    def crossed_outputs(self, draw: CrossingDraw) -> list[Crossed]:
        return [Crossed(draw.other["reference"]["answer"], "translation", "translated_instead"),
                Crossed(draw.pick("chat"), "chitchat", "replied_to_it")]


TASK = Rewriting(
    name="rewriting",
    description={"en": "Rewrite a message in another style (formal, shorter) keeping its meaning.",
                 "zh": "在保持原意的前提下改写文字的风格（正式、精简）。"},
    signals={"en": [r"\brewrite\b", r"\brephrase\b", r"\bpolish\b", r"\bformal\b", r"\bmore professional\b", r"\bshorten\b", r"\bparaphrase\b", r"\breword\b", r"\bin other words\b", r"\bsimplify\b"],
             "zh": [r"改写", r"润色", r"正式", r"措辞", r"改短|精简", r"换(?:一种|个)说法", r"语病", r"更(?:通顺|简洁|礼貌|委婉)"]},
    family="transform",
    multi_turn=True,
    metric="meaning kept x form changed",
)
