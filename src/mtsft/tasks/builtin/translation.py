"""translation: zh<->en sentences; the prompt's language is the source language, the answer is in the other.

Hard negatives: the sentence to translate is itself a question or a request for code, so the right answer
is its translation, not an answer to it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from mtsft.records import response
from mtsft.tasks import formats, relevance, matchers
from mtsft.tasks import get as get_task
from mtsft.tasks.builtin import tables as T
from mtsft.tasks.builtin import content
from mtsft.tasks.builtin import partition as P
from mtsft.tasks.builtin._common import BuiltinTask, other_lang
from mtsft.tasks.references import TranslationReference
from mtsft.tasks.crossing import Crossed, CrossingDraw, prompt_messages

SENTENCES = [
    ("I usually drink a cup of green tea after lunch.", "我午饭后通常喝一杯绿茶。"),
    ("The meeting has been moved to Thursday afternoon.", "会议改到了星期四下午。"),
    ("Please remember to turn off the lights when you leave.", "离开时请记得关灯。"),
    ("My grandmother grows tomatoes on her balcony.", "我奶奶在阳台上种西红柿。"),
    ("The train was delayed because of the heavy snow.", "因为大雪，火车晚点了。"),
    ("We should leave early to avoid the traffic.", "我们应该早点出发，避开堵车。"),
    ("This library is open until ten o'clock at night.", "这个图书馆晚上开到十点。"),
    ("He has been learning to play the piano for three years.", "他学钢琴已经三年了。"),
    ("The soup is too salty for me.", "这汤对我来说太咸了。"),
    ("Could you speak a little more slowly?", "你能说得慢一点吗？"),
    ("Our team finished the project ahead of schedule.", "我们团队提前完成了项目。"),
    ("It is going to rain this weekend.", "这个周末会下雨。"),
    ("She forgot her umbrella at the office.", "她把伞忘在办公室了。"),
    ("The children are playing football in the park.", "孩子们在公园里踢足球。"),
    ("I can't find my keys anywhere.", "我到处都找不到我的钥匙。"),
    ("The museum is free on the first Sunday of every month.", "博物馆每个月的第一个星期日免费开放。"),
    ("Exercise every day and you will feel better.", "每天锻炼，你会感觉更好。"),
    ("The price of vegetables went up this month.", "这个月蔬菜涨价了。"),
    ("My brother works as a nurse in a small hospital.", "我哥哥在一家小医院当护士。"),
    ("Let's meet at the entrance of the subway station.", "我们在地铁站入口见面吧。"),
    ("The new bridge will open to traffic next year.", "新桥明年通车。"),
    ("Reading before bed helps me fall asleep.", "睡前读书能帮助我入睡。"),
    ("The cat is sleeping under the warm lamp.", "猫在温暖的台灯下睡觉。"),
    ("He apologized for being late.", "他为迟到道了歉。"),
    ("Most of the students passed the exam.", "大部分学生通过了考试。"),
    ("The restaurant on the corner serves excellent dumplings.", "街角那家餐馆的饺子非常好吃。"),
    ("I would like to book a room for two nights.", "我想订一个房间，住两晚。"),
    ("Turn left at the second traffic light.", "在第二个红绿灯左转。"),
    ("The concert was cancelled because the singer was ill.", "因为歌手生病，音乐会取消了。"),
    ("Water the plants twice a week.", "每周给植物浇两次水。"),
]
CODE_REQUESTS = [
    ("Write a Python function that reverses a string.", "写一个反转字符串的Python函数。"),
    ("Write a function that checks whether a number is prime.", "写一个判断一个数是否为质数的函数。"),
    ("Write a program that prints the numbers from 1 to 100.", "写一个程序，打印从1到100的数字。"),
    ("Write a function that returns the largest number in a list.", "写一个函数，返回列表中最大的数。"),
    ("Write a function that counts the vowels in a word.", "写一个函数，统计一个单词中元音字母的个数。"),
]

TEMPLATES = {
    "en": ["Translate into Chinese: {s}", "Please translate the following sentence into Chinese.\n{s}",
           "How do you say this in Chinese? \"{s}\"", "Chinese translation, please: {s}",
           "Render this in Simplified Chinese:\n{s}", "Translate to Chinese (just the translation, no explanation):\n{s}",
           "English to Chinese: {s}", "Can you put this sentence into Chinese for me? {s}",
           "I need this in Mandarin for a sign: {s}", "What would a native speaker write in Chinese for: {s}"],
    "zh": ["翻译成英文：{s}", "请把下面的句子翻译成英文。\n{s}", "这句话用英语怎么说？“{s}”", "请给出英文翻译：{s}",
           "把这句话译成英语：\n{s}", "翻译成英文（只要译文，不要解释）：\n{s}", "中译英：{s}",
           "能帮我把这句话翻成英文吗？{s}",
           "我要把这句话写在英文贺卡上，帮我翻译：{s}", "母语是英语的人会怎么表达这句话：{s}"],
}
FOLLOW_UPS = {"en": ["Now translate this one too: {s}", "And this sentence? {s}", "Thanks. One more: {s}"],
              "zh": ["再翻译这一句：{s}", "这句呢？{s}", "谢谢，还有一句：{s}"]}

# Crossed translations (`crossed_outputs`): the tasks whose requests replace the sentence to translate;
# those whose whole request goes in (else, half the time, only what it quotes); those answered in the
# target language 40% of the time.
COMPOSED = ["open_qa", "math", "code", "chitchat", "rewriting", "summarization", "classification", "brainstorming",
            "creative_writing", "extraction"]
WHOLE_REQUEST = ("chitchat", "math", "code")
ANSWERED_IN_TARGET = ("open_qa", "chitchat", "math")


# sentence frames over the shared entity tables: (en, zh, lowest n, highest n); more parallel sentences, frames
# (over {person} {city} {shop} {item} {place} {n}) and code requests in content/translation_*.jsonl
SLOT_FRAMES = [("The {shop} in {city} opens at {n} o'clock.", "{city}的{shop}{n}点开门。", 7, 11),
               ("{person} has lived in {city} for {n} years.", "{person}在{city}住了{n}年。", 2, 9),
               ("{person} bought a {item} in {city}.", "{person}在{city}买了一件{item}。", 0, 0),
               *((en, zh, 2, 12) for en, zh in content.rows("translation_slot_frames"))]
ALL_SENTENCES = SENTENCES + content.rows("translation_sentences")
ALL_CODE_REQUESTS = CODE_REQUESTS + content.rows("translation_code_requests")


def _slot_sentence(rng: random.Random, held_out: bool = False) -> tuple[str, str]:
    """A sentence built from a frame and entities, so translation content is not limited to fixed
    sentences; held-out draws use held-out frames and held-out entities only."""
    en, zh, lo, hi = P.choose(rng, SLOT_FRAMES, held_out)
    rows = {k: P.choose(rng, table, held_out) for k, table in
            (("person", T.PEOPLE), ("city", T.CITIES), ("shop", T.SHOPS), ("item", T.ITEMS), ("place", T.PLACES))}
    n = rng.randint(lo, hi)
    return (en.format(n=n, **{k: v["en"] for k, v in rows.items()}),
            zh.format(n=n, **{k: v["zh"] for k, v in rows.items()}))


def _pair(rng: random.Random, held_out: bool = False) -> tuple[tuple[str, str], bool]:
    """((en, zh), is_hard_negative); `held_out` draws only content training never uses."""
    from mtsft.tasks.builtin.open_qa import draw_fact

    roll = rng.random()
    if roll < 0.12:
        state = rng.getstate()
        q_en = draw_fact(rng, "en", held_out)[0]
        rng.setstate(state)
        return (q_en, draw_fact(rng, "zh", held_out)[0]), True
    if roll < 0.18:
        return P.choose(rng, ALL_CODE_REQUESTS, held_out), True
    if roll < 0.55:
        return _slot_sentence(rng, held_out), False
    return P.choose(rng, ALL_SENTENCES, held_out), False


@dataclass
class Translation(BuiltinTask):
    templates = TEMPLATES
    reference_model = TranslationReference  # the fields score() reads
    metric: str = "chrF (sacrebleu)"  # sacrebleu sentence chrF per record; corpus chrF and BLEU via corpus_scores

    def generate(self, rng, lang, *, held_out=False):
        template_id, template = self.pick_template(rng, lang, held_out)
        src, tgt = ("en", "zh") if lang == "en" else ("zh", "en")
        pair, hard = _pair(rng, held_out)
        turns = [template.format(s=dict(zip(("en", "zh"), pair))[src]), dict(zip(("en", "zh"), pair))[tgt]]
        if rng.random() < 0.2:  # follow-up turn: translate one more sentence
            pair2, hard2 = _pair(rng, held_out)
            hard = hard or hard2
            pair = pair2
            turns += [rng.choice(FOLLOW_UPS[lang]).format(s=dict(zip(("en", "zh"), pair))[src]),
                      dict(zip(("en", "zh"), pair))[tgt]]
        source, answer = dict(zip(("en", "zh"), pair))[src], dict(zip(("en", "zh"), pair))[tgt]
        return self.build(turns, lang=lang, template=template_id, held_out=held_out, hard_negative=hard,
                          reference={"answer": answer, "source": source, "answer_lang": other_lang(lang)})

    def score(self, output, record):
        return matchers.translation_score(output, record, self.answer_lang(record))

    def answer_lang(self, record):
        # the record's `lang` is the source language; the target is the reference's, else the instruction's
        return matchers.translation_answer_lang(record)

    def corpus_scores(self, outputs, records):
        """Corpus-level sacrebleu chrF and BLEU (in [0, 1]) of a set, for a scores table."""
        from mtsft.tasks.metrics import mt

        hyps = [mt.extract_translation(o) for o in outputs]
        refs = [r["reference"]["answer"] for r in records]
        zh = sum(self.answer_lang(r) == "zh" for r in records) > len(records) / 2
        return {"chrf": mt.corpus_chrf(hyps, refs), "bleu": mt.corpus_bleu(hyps, refs, "zh" if zh else "en")}

    def format_violations(self, output, record):
        return formats.check_answer_text(output, self.answer_lang(record))

    def output_likeness(self, output):
        # One plain sentence with nothing around it; shape alone cannot tell it from a rewrite.
        text = output.strip()
        if not text or "\n" in text or formats.has_markdown(text) or formats.is_chatty(text):
            return 0.0
        return 0.45 if formats.n_sentences(text) == 1 and len(matchers.tokens(text)) >= 4 else 0.15

    def crossed_outputs(self, draw: CrossingDraw) -> list[Crossed]:
        """The sentence to translate replaced by another task's request, which is then performed (answered,
        coded, solved, classified...) instead of translated."""
        record, rng = draw.record, draw.rng
        source, instruction = record["reference"]["source"], relevance.last_user(record)
        if source not in instruction:
            return []
        other = get_task(rng.choice(COMPOSED))
        request = other.generate(random.Random(draw.seed), draw.lang, held_out=draw.held_out)
        whole = other.name in WHOLE_REQUEST or rng.random() < 0.5
        inserted = relevance.last_user(request) if whole else draw.read_material(request)
        if other.name in ANSWERED_IN_TARGET and rng.random() < 0.4:  # answered in the target language
            answered = other.generate(random.Random(draw.seed), other_lang(draw.lang), held_out=draw.held_out)
        else:
            answered = request
        prompt = prompt_messages(record)[:-1] + [{"role": "user", "content": instruction.replace(source, inserted)}]
        return [Crossed(response(answered), other.name, f"translation_{other.name}", prompt)]


TASK = Translation(
    name="translation",
    description={"en": "Translate a sentence between Chinese and English.", "zh": "在中文和英文之间翻译句子。"},
    signals={"en": [r"\btranslat\w*\b", r"\binto (?:Chinese|English|Mandarin)\b", r"\bhow do you say\b",
                    r"\bEnglish to Chinese\b"],
             "zh": [r"翻译", r"译成", r"用英语怎么说", r"中译英|英译中", r"翻成(?:英文|中文)"]},
    family="transform",
    multi_turn=True,
)
