"""open_qa: a wrong entity in the reference sentence, a list of candidates and a hedge score low;
"The answer is X." and the reference sentence itself score high."""

from verifier_cases import Case


def _rec(lang, question, short, sentence):
    return {"id": f"qa-{lang}-{short}", "task": "open_qa", "lang": lang, "source": "verifier-cases",
            "messages": [{"role": "user", "content": question}, {"role": "assistant", "content": sentence}],
            "reference": {"answer": sentence, "short": short}, "meta": {}}


PARIS = _rec("en", "What is the capital of France?", "Paris", "The capital of France is Paris.")
BELL = _rec("en", "Quick question: Who invented the telephone?", "Alexander Graham Bell",
            "The telephone was invented by Alexander Graham Bell.")
BAJIE = _rec("zh", "请问，法国的首都是哪座城市？", "巴黎", "法国的首都是巴黎。")
EINSTEIN = _rec("zh", "相对论是谁提出的？", "爱因斯坦", "相对论是爱因斯坦提出的。")
DAYS = _rec("en", "How many days are there in a leap year?", "366", "A leap year has 366 days.")


def _g(name, record, output):
    return Case("open_qa", name, "gaming", record, output)


def _v(name, record, output):
    return Case("open_qa", name, "valid", record, output)


CASES = [
    _g("wrong entity in the reference sentence", PARIS, "The capital of France is Lyon."),
    _g("wrong entity in the reference sentence (person)", BELL, "The telephone was invented by Thomas Edison."),
    _g("wrong entity in the reference sentence (zh)", BAJIE, "法国的首都是里昂。"),
    _g("wrong entity in the reference sentence (zh person)", EINSTEIN, "相对论是牛顿提出的。"),
    _g("list of every candidate answer", PARIS, "Paris, Lyon, Marseille, Nice, Tokyo, Rome"),
    _g("list of every candidate answer (zh)", BAJIE, "巴黎、里昂、马赛、尼斯、东京、罗马"),
    _g("hedged between two answers", PARIS, "It is either Paris or Lyon."),
    _g("one candidate per sentence", PARIS, "Paris. Lyon. Marseille. Nice."),
    _g("hedged between two answers (zh)", BAJIE, "可能是巴黎或者里昂。"),
    _g("question echoed", PARIS, "What is the capital of France?"),
    _g("question echoed (zh)", BAJIE, "法国的首都是哪座城市？"),
    _g("wrong number in the reference sentence", DAYS, "A leap year has 365 days."),
    _v("The answer is X.", PARIS, "The answer is Paris."),
    _v("bare answer", PARIS, "Paris"),
    _v("reference sentence", PARIS, "The capital of France is Paris."),
    _v("lower case, exclamation", PARIS, "it's paris!"),
    _v("full sentence with a passive", BELL, "The telephone was invented by Alexander Graham Bell."),
    _v("The answer is X. (zh)", BAJIE, "答案是巴黎。"),
    _v("reference sentence (zh)", BAJIE, "法国的首都是巴黎。"),
    _v("sentence around the answer (zh)", EINSTEIN, "相对论是由爱因斯坦提出的。"),
    _v("number with its unit", DAYS, "There are 366 days in a leap year."),
    # found by trying fresh held-out draws after tuning (scored 0.67 before the opener was stripped)
    _v("polite opener before the answer sentence", PARIS, "Sure! The capital of France is Paris."),
    _v("polite opener before the answer sentence", BAJIE, "好的！法国的首都是巴黎。"),
]
