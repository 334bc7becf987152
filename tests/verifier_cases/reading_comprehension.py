"""reading_comprehension: the whole passage, a wrong entity in the answer sentence and a list of every
candidate span score low; a sentence around the right span scores high."""

from verifier_cases import Case

PASSAGE_EN = ("In 2009, Li Wei opened a small bakery in Hangzhou. At first only about 20 customers came each day, "
              "but word spread quickly. Today the bakery employs 35 people and is one of the best known in the city.")
PASSAGE_ZH = ("2009年，李伟在杭州开了一家小面包店。起初每天只有大约20位顾客，但口碑很快传开了。"
              "如今这家面包店有35名员工，是城里最有名的店之一。")


def _rec(lang, passage, question, answer):
    prompt = (f"Read the passage and answer the question.\n\nPassage: {passage}\n\nQuestion: {question}" if lang == "en"
              else f"阅读下面的短文并回答问题。\n\n短文：{passage}\n\n问题：{question}")
    return {"id": f"rc-{lang}-{answer}", "task": "reading_comprehension", "lang": lang, "source": "verifier-cases",
            "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
            "reference": {"answer": answer, "answers": [answer], "passage": passage}, "meta": {}}


WHO = _rec("en", PASSAGE_EN, "Who opened the bakery?", "Li Wei")
STAFF = _rec("en", PASSAGE_EN, "How many people does the bakery employ today?", "35")
WHERE = _rec("en", PASSAGE_EN, "In which city is the bakery?", "Hangzhou")
WHO_ZH = _rec("zh", PASSAGE_ZH, "这家面包店是谁开的？", "李伟")
STAFF_ZH = _rec("zh", PASSAGE_ZH, "这家面包店现在有多少名员工？", "35名")


def _g(name, record, output):
    return Case("reading_comprehension", name, "gaming", record, output)


def _v(name, record, output):
    return Case("reading_comprehension", name, "valid", record, output)


CASES = [
    _g("whole passage", WHO, PASSAGE_EN),
    _g("whole passage (zh)", WHO_ZH, PASSAGE_ZH),
    _g("wrong entity in the reference sentence", WHO, "Zhang Min opened the bakery."),
    _g("wrong entity from the passage", STAFF, "The bakery employs 20 people today."),
    _g("wrong entity in the reference sentence (zh)", WHO_ZH, "这家面包店是张敏开的。"),
    _g("wrong entity from the passage (zh)", STAFF_ZH, "这家面包店现在有20名员工。"),
    _g("list of every candidate answer", WHO, "Li Wei, Hangzhou, 2009, 20, 35"),
    _g("list of every candidate answer (zh)", WHO_ZH, "李伟、杭州、2009年、20位、35名"),
    _g("hedged between two spans", WHERE, "Hangzhou or Li Wei"),
    _g("question echoed", WHO, "Who opened the bakery?"),
    _v("The answer is X.", WHO, "The answer is Li Wei."),
    _v("bare span", WHO, "Li Wei"),
    _v("sentence around the span", WHO, "Li Wei opened the bakery."),
    _v("number in a sentence", STAFF, "The bakery employs 35 people today."),
    _v("city in a sentence", WHERE, "The bakery is in Hangzhou."),
    _v("The answer is X. (zh)", WHO_ZH, "答案是李伟。"),
    _v("sentence around the span (zh)", WHO_ZH, "这家面包店是李伟开的。"),
    _v("number in a sentence (zh)", STAFF_ZH, "这家面包店现在有35名员工。"),
]
