"""Passage skeletons for reading_comprehension and summarization (written for this project).

A skeleton is a text in English and Chinese over entity slots filled from the shared tables (`tables.py`)
and number slots drawn from the given ranges; reading-comprehension skeletons carry questions whose
answers are spans of the passage, summarization skeletons a one-sentence summary. Held-out draws use
held-out skeletons and held-out entities only (`partition.py`).
"""

from __future__ import annotations

import random

from mtsft.tasks.builtin import partition as P
from mtsft.tasks.builtin import tables as T

ENTITY_TABLES = {"person": T.PEOPLE, "person2": T.PEOPLE, "city": T.CITIES, "shop": T.SHOPS, "place": T.PLACES,
                 "item": T.ITEMS, "org": T.ORGS, "product": T.PRODUCTS, "month": T.MONTHS, "season": T.SEASONS,
                 "vehicle": T.VEHICLES}


def slots(rng: random.Random, skeleton: dict, held_out: bool) -> dict[str, dict]:
    """{slot: {"en": ..., "zh": ...}} for the entity and number slots the skeleton uses."""
    out: dict[str, dict] = {}
    text = skeleton["en"] + skeleton.get("zh", "")
    for name, table in ENTITY_TABLES.items():
        if "{" + name in text:
            row = P.choose(rng, table, held_out)
            while name == "person2" and row is out.get("person"):
                row = P.choose(rng, table, held_out)
            out[name] = row
    for name, (lo, hi) in skeleton.get("nums", {}).items():
        n = rng.randint(lo, hi)
        out[name] = {"en": str(n), "zh": str(n)}
    return out


def fill(template: str, values: dict[str, dict], lang: str) -> str:
    return template.format(**{k: v[lang] for k, v in values.items()})


def _rc(en, zh, qa, **nums):
    return {"en": en, "zh": zh, "qa": qa, "nums": nums}


# reading comprehension: passage (en, zh) and [(en question, en answer, zh question, zh answer)]
RC_STORIES = [
    _rc("{person} has run a {shop} on Station Road in {city} since {year}. Every morning at {open} o'clock the doors open, "
        "and the first customers are usually students from the nearby school. Last year the {shop} won a prize from the "
        "city for its friendly service.",
        "{year}年起，{person}就在{city}车站路经营一家{shop}。每天早上{open}点开门，最早来的顾客通常是附近学校的学生。"
        "去年，这家{shop}因为服务热情获得了市里的奖项。",
        [("Since what year has {person} run the {shop}?", "{year}", "{person}从哪一年开始经营这家{shop}？", "{year}年"),
         ("At what time does the {shop} open?", "{open} o'clock", "这家{shop}每天几点开门？", "{open}点"),
         ("Who are usually the first customers?", "students from the nearby school", "最早来的顾客通常是谁？", "附近学校的学生"),
         ("On which road is the {shop}?", "Station Road", "这家{shop}在哪条路上？", "车站路")],
        year=(1990, 2020), open=(6, 10)),
    _rc("The {place} in {city} reopened in {month} after {n} months of repairs. Workers replaced the old roof and added "
        "a lift for wheelchair users. On the first weekend, {visitors} people came to see the changes, and many of them "
        "said the building looked brighter than before.",
        "{city}的{place}经过{n}个月的修缮，于{month}重新开放。工人们更换了旧屋顶，还为轮椅使用者加装了电梯。"
        "开放后的第一个周末有{visitors}人前来参观，很多人说建筑比以前明亮多了。",
        [("When did the {place} reopen?", "{month}", "{place}是什么时候重新开放的？", "{month}"),
         ("How many months did the repairs take?", "{n}", "修缮用了多少个月？", "{n}个月"),
         ("What was added for wheelchair users?", "a lift", "为轮椅使用者加装了什么？", "电梯"),
         ("How many people came on the first weekend?", "{visitors}", "第一个周末有多少人来参观？", "{visitors}人")],
        n=(3, 18), visitors=(800, 9000)),
    _rc("When {person} was {age}, she found an old {item} in her grandmother's house in {city}. Her grandmother told her "
        "it had been bought at a market {years} years earlier. {person} still keeps the {item} on her desk and says it "
        "reminds her to be patient.",
        "{person}{age}岁时，在{city}外婆家里发现了一件旧{item}。外婆告诉她，那是{years}年前在集市上买的。"
        "{person}至今仍把这件{item}放在书桌上，说它提醒自己要有耐心。",
        [("What did {person} find in her grandmother's house?", "an old {item}", "{person}在外婆家发现了什么？", "一件旧{item}"),
         ("How old was {person} when she found it?", "{age}", "{person}发现它时多大？", "{age}岁"),
         ("Where had the {item} been bought?", "at a market", "这件{item}是在哪里买的？", "在集市上"),
         ("Where does {person} keep the {item} now?", "on her desk", "{person}现在把{item}放在哪里？", "书桌上")],
        age=(7, 16), years=(20, 60)),
    _rc("{org} moved its head office from {city} to a new building near the river in {year}. The building has {floors} "
        "floors and a garden on the roof where staff can eat lunch. The company says the move cut its electricity use "
        "by {pct} percent.",
        "{year}年，{org}把总部从{city}搬到了河边的一栋新楼。这栋楼有{floors}层，楼顶有一个花园，员工可以在那里吃午饭。"
        "公司表示，搬迁后用电量减少了百分之{pct}。",
        [("In what year did {org} move its head office?", "{year}", "{org}是哪一年搬迁总部的？", "{year}年"),
         ("How many floors does the new building have?", "{floors}", "新楼有多少层？", "{floors}层"),
         ("Where can staff eat lunch?", "a garden on the roof", "员工可以在哪里吃午饭？", "楼顶的花园"),
         ("By how much did electricity use fall?", "{pct} percent", "用电量减少了多少？", "百分之{pct}")],
        year=(2005, 2024), floors=(6, 40), pct=(10, 45)),
    _rc("Every {season}, the village of Willow Creek near {city} holds a kite festival. This year {n} families took "
        "part, and the prize for the most beautiful kite went to {person}, whose kite was shaped like a dragon. The "
        "festival ended with a picnic by the lake.",
        "每年{season}，{city}附近的柳溪村都会举办风筝节。今年有{n}个家庭参加，最美风筝奖颁给了{person}，"
        "他的风筝是一条龙的形状。风筝节最后以湖边野餐结束。",
        [("What does Willow Creek hold every {season}?", "a kite festival", "柳溪村每年{season}举办什么活动？", "风筝节"),
         ("How many families took part this year?", "{n}", "今年有多少个家庭参加？", "{n}个"),
         ("Who won the prize for the most beautiful kite?", "{person}", "谁获得了最美风筝奖？", "{person}"),
         ("What shape was the winning kite?", "a dragon", "获奖风筝是什么形状？", "一条龙"),
         ("How did the festival end?", "with a picnic by the lake", "风筝节是怎样结束的？", "湖边野餐")],
        n=(12, 90)),
    _rc("{person} trains for marathons before work. She runs {km} kilometres on weekdays and a longer route along the "
        "coast of {city} on Sundays. Her coach, {person2}, told her to sleep at least {hours} hours a night before a race.",
        "{person}每天上班前练习马拉松。她工作日跑{km}千米，周日则沿着{city}的海岸跑一条更长的路线。"
        "她的教练{person2}让她在比赛前每晚至少睡{hours}个小时。",
        [("How many kilometres does {person} run on weekdays?", "{km}", "{person}工作日跑多少千米？", "{km}千米"),
         ("Where does she run on Sundays?", "along the coast of {city}", "她周日在哪里跑步？", "沿着{city}的海岸"),
         ("Who is her coach?", "{person2}", "她的教练是谁？", "{person2}"),
         ("How long should she sleep before a race?", "at least {hours} hours", "比赛前她每晚至少要睡多久？", "至少{hours}个小时")],
        km=(5, 15), hours=(7, 9)),
    _rc("The night bus from {city} to the coast leaves at {hour} p.m. and arrives at dawn. Tickets cost {price} yuan, "
        "and each seat folds almost flat. Passengers get a blanket and a bottle of water, and the bus stops once for "
        "twenty minutes halfway.",
        "从{city}开往海边的夜班车晚上{hour}点发车，黎明时到达。车票{price}元，每个座位都能放得几乎平躺。"
        "乘客会得到一条毯子和一瓶水，大巴在半路停靠一次，休息二十分钟。",
        [("When does the night bus leave?", "{hour} p.m.", "夜班车几点发车？", "晚上{hour}点"),
         ("How much does a ticket cost?", "{price} yuan", "车票多少钱？", "{price}元"),
         ("What do passengers get?", "a blanket and a bottle of water", "乘客会得到什么？", "一条毯子和一瓶水"),
         ("How long is the stop halfway?", "twenty minutes", "半路停靠多长时间？", "二十分钟")],
        hour=(8, 11), price=(90, 350)),
    _rc("At {org}, new employees spend their first week in a training room on the {floor}th floor. They learn how the "
        "company's products are made and meet the team leaders. At the end of the week, each group of {n} trainees "
        "presents an idea to the manager, {person}.",
        "在{org}，新员工入职第一周都在{floor}楼的培训室度过。他们了解公司产品是怎么生产的，并与各个团队负责人见面。"
        "一周结束时，每组{n}名学员要向经理{person}介绍一个想法。",
        [("On which floor is the training room?", "the {floor}th floor", "培训室在几楼？", "{floor}楼"),
         ("How many trainees are in each group?", "{n}", "每组有多少名学员？", "{n}名"),
         ("Who is the manager?", "{person}", "经理是谁？", "{person}"),
         ("How long do new employees spend in training?", "their first week", "新员工培训多长时间？", "第一周")],
        floor=(4, 20), n=(3, 8)),
    _rc("The old {place} in {city} was built {age} years ago by local farmers. It was almost forgotten until {person}, "
        "a history teacher, wrote a book about it. Since the book came out, school groups visit the {place} every "
        "week.",
        "{city}那座古老的{place}是{age}年前由当地农民修建的。它几乎被人遗忘，直到历史老师{person}为它写了一本书。"
        "书出版以后，每周都有学校组织学生来参观{place}。",
        [("Who built the {place}?", "local farmers", "{place}是谁修建的？", "当地农民"),
         ("How many years ago was it built?", "{age}", "它是多少年前修建的？", "{age}年前"),
         ("Who wrote a book about it?", "{person}", "谁为它写了一本书？", "{person}"),
         ("What is {person}'s job?", "a history teacher", "{person}是做什么工作的？", "历史老师")],
        age=(80, 600)),
    _rc("{person} sold homemade dumplings at the night market in {city} for {years} years before opening a small "
        "restaurant. The most popular dish is pork and cabbage dumplings, and a plate of {n} costs {price} yuan. On "
        "weekends the queue often reaches the corner of the street.",
        "{person}在{city}夜市卖了{years}年手工饺子，后来开了一家小餐馆。最受欢迎的是猪肉白菜饺子，"
        "一盘{n}个卖{price}元。周末排队的人常常排到街角。",
        [("Where did {person} sell dumplings before?", "the night market in {city}", "{person}以前在哪里卖饺子？", "{city}夜市"),
         ("What is the most popular dish?", "pork and cabbage dumplings", "最受欢迎的菜是什么？", "猪肉白菜饺子"),
         ("How much does a plate cost?", "{price} yuan", "一盘多少钱？", "{price}元"),
         ("How many years did {person} sell at the market?", "{years}", "{person}在夜市卖了多少年？", "{years}年")],
        years=(3, 15), n=(10, 20), price=(15, 40)),
    _rc("A volunteer group in {city} collects old bicycles, repairs them and gives them to students who live far from "
        "school. Since {year} the group has fixed {n} bicycles. Its leader, {person}, says the hardest part is finding "
        "spare tyres.",
        "{city}的一个志愿者团体收集旧自行车，修好后送给住得离学校远的学生。自{year}年以来，他们已经修好了{n}辆自行车。"
        "团体负责人{person}说，最难的是找到备用轮胎。",
        [("What does the group collect?", "old bicycles", "这个团体收集什么？", "旧自行车"),
         ("Who gets the repaired bicycles?", "students who live far from school", "修好的自行车送给谁？", "住得离学校远的学生"),
         ("How many bicycles has the group fixed?", "{n}", "他们已经修好了多少辆自行车？", "{n}辆"),
         ("What is the hardest part?", "finding spare tyres", "最难的是什么？", "找到备用轮胎")],
        year=(2010, 2022), n=(120, 2400)),
    _rc("The school library in {city} now lends useful things as well as books, starting with a {item}. The idea came "
        "from a student, {person}, who noticed that many families could not afford one. In the first {n} weeks, the "
        "{item} was borrowed every single day.",
        "{city}一所学校的图书馆现在除了借书，还出借一些实用物品，第一件是{item}。这个主意来自学生{person}，"
        "他注意到很多家庭买不起。在头{n}个星期里，这件{item}每天都被借走。",
        [("What was the first thing besides books the library lent?", "a {item}", "图书馆除了书以外出借的第一件物品是什么？", "{item}"),
         ("Whose idea was it?", "{person}", "这是谁的主意？", "{person}"),
         ("What did {person} notice?", "many families could not afford one", "{person}注意到了什么？", "很多家庭买不起")],
        n=(2, 10)),
]

# summarization: text (en, zh) and summary (en, zh)
SUM_TEXTS = [
    {"en": "The city of {city} will open {n} new bike lanes this {season}. Officials say the lanes will connect the "
           "train station with the university and two large parks. Cyclists have asked for safer routes for years, "
           "and a survey found that {pct} percent of residents support the plan.",
     "zh": "{city}今年{season}将开通{n}条新的自行车道。官员表示，这些车道将把火车站与大学和两个大公园连接起来。"
           "多年来骑车人一直呼吁更安全的线路，一项调查显示{pct}%的居民支持这一计划。",
     "sum_en": "{city} will open {n} new bike lanes this {season}, a plan most residents support.",
     "sum_zh": "{city}今年{season}将开通{n}条新自行车道，多数居民表示支持。", "nums": {"n": (3, 20), "pct": (55, 90)}},
    {"en": "{org} has recalled about {n} thousand units of {product} after customers reported that the battery could "
           "overheat. No injuries have been reported. Owners can return the product to any store for a full refund, "
           "the company said on Monday.",
     "zh": "有顾客反映电池可能过热后，{org}召回了约{n}千件{product}。目前没有人员受伤的报告。公司周一表示，"
           "用户可以到任何门店退货并获得全额退款。",
     "sum_en": "{org} recalled about {n} thousand units of {product} over battery overheating and offers full refunds.",
     "sum_zh": "{org}因电池过热问题召回约{n}千件{product}，并提供全额退款。", "nums": {"n": (2, 90)}},
    {"en": "Heavy rain flooded several streets in {city} on Tuesday night. Schools in the affected areas were closed "
           "on Wednesday, and {n} buses were diverted. The weather service expects the rain to stop by the weekend.",
     "zh": "周二晚上的大雨淹没了{city}的几条街道。受影响地区的学校周三停课，{n}条公交线路改道。气象部门预计雨将在周末前停止。",
     "sum_en": "Heavy rain flooded streets in {city}, closing schools and diverting {n} bus routes.",
     "sum_zh": "大雨淹没{city}多条街道，导致学校停课、{n}条公交线路改道。", "nums": {"n": (4, 30)}},
    {"en": "{person}, a retired teacher in {city}, has planted more than {n} trees along the river over the past ten "
           "years. She started after a flood washed away the old trees. Neighbours now help her water the young trees "
           "every summer.",
     "zh": "{city}的退休教师{person}在过去十年里沿河种下了{n}多棵树。一场洪水冲走了原来的树之后，她开始种树。"
           "如今每年夏天，邻居们都会帮她给小树浇水。",
     "sum_en": "Retired teacher {person} has planted over {n} trees along the river in {city} in ten years.",
     "sum_zh": "退休教师{person}十年来在{city}沿河种下了{n}多棵树。", "nums": {"n": (200, 3000)}},
    {"en": "A new direct train between {city} and the coast will start running in {month}. The journey will take "
           "{hours} hours, about half the time of the current route. Tickets go on sale two weeks before the first "
           "train.",
     "zh": "{city}开往海边的新直达列车将于{month}开通。全程{hours}小时，约为现有线路用时的一半。首班车开行前两周开始售票。",
     "sum_en": "A direct train from {city} to the coast starts in {month}, cutting the trip to {hours} hours.",
     "sum_zh": "{city}至海边的直达列车{month}开通，全程缩短至{hours}小时。", "nums": {"hours": (2, 6)}},
    {"en": "Students at a middle school in {city} built a weather station on the roof of their building. It records "
           "temperature, wind and rain every {n} minutes and posts the data online. The project won first place at "
           "the regional science fair.",
     "zh": "{city}一所中学的学生在教学楼楼顶建了一个气象站。它每{n}分钟记录一次气温、风力和降雨，并把数据发布到网上。"
           "这个项目在地区科技节上获得了一等奖。",
     "sum_en": "Students in {city} built a rooftop weather station that won first place at the regional science fair.",
     "sum_zh": "{city}中学生在楼顶建起气象站，获得地区科技节一等奖。", "nums": {"n": (5, 30)}},
    {"en": "{org} announced that it will give all employees Friday afternoons off during the summer. The trial will "
           "last {n} weeks. The company hopes the change will reduce stress without lowering output, and it will "
           "publish the results in the autumn.",
     "zh": "{org}宣布，夏季期间所有员工周五下午放假。试行期为{n}周。公司希望这一做法能在不降低产出的情况下减轻员工压力，"
           "并将在秋季公布结果。",
     "sum_en": "{org} is trying {n} weeks of free Friday afternoons for staff this summer to reduce stress.",
     "sum_zh": "{org}今夏试行{n}周周五下午放假，以减轻员工压力。", "nums": {"n": (6, 12)}},
    {"en": "The {place} in {city} will stay open until ten at night on Fridays from next month. Visitors have asked "
           "for later hours for a long time, and the {place} will add guided tours in the evening. Entry after six "
           "will cost {price} yuan.",
     "zh": "从下个月起，{city}的{place}每周五将开放到晚上十点。游客长期以来一直希望延长开放时间，{place}还将增加晚间导览。"
           "六点以后入场票价为{price}元。",
     "sum_en": "From next month the {place} in {city} will open until ten on Fridays, with evening tours.",
     "sum_zh": "下月起{city}的{place}周五开放至晚上十点，并增设晚间导览。", "nums": {"price": (10, 60)}},
    {"en": "A survey of {n} parents in {city} found that most children spend more time on screens than outdoors. "
           "Experts recommend at least one hour of outdoor play a day. The city plans to open more playgrounds near "
           "housing estates.",
     "zh": "一项针对{city}{n}名家长的调查发现，大多数孩子看屏幕的时间比在户外的时间还多。专家建议孩子每天至少户外活动一小时。"
           "市里计划在住宅小区附近增建更多游乐场。",
     "sum_en": "A survey in {city} found children spend more time on screens than outdoors, so the city plans more playgrounds.",
     "sum_zh": "{city}调查发现孩子看屏幕多于户外活动，市里计划增建游乐场。", "nums": {"n": (300, 5000)}},
    {"en": "{person} from {city} has won the national young chef competition with a dish of steamed fish and ginger. "
           "The judges praised its simple, clean taste. As the winner, {person} will train for {n} months in a famous "
           "restaurant kitchen.",
     "zh": "来自{city}的{person}凭借一道姜丝蒸鱼赢得了全国青年厨师大赛冠军。评委称赞这道菜味道简单清爽。"
           "作为冠军，{person}将在一家著名餐厅的后厨培训{n}个月。",
     "sum_en": "{person} from {city} won the national young chef competition with steamed fish and ginger.",
     "sum_zh": "{city}的{person}凭姜丝蒸鱼赢得全国青年厨师大赛冠军。", "nums": {"n": (3, 12)}},
    {"en": "The {shop} on Park Street in {city} is closing after {n} years. The owner, {person}, says rents have "
           "risen too much. Regular customers are planning a farewell party on its last day.",
     "zh": "{city}公园街上的那家{shop}在经营{n}年后即将关门。店主{person}说房租涨得太多了。老顾客们打算在最后一天为它办一场告别聚会。",
     "sum_en": "After {n} years, the {shop} on Park Street in {city} is closing because of rising rents.",
     "sum_zh": "{city}公园街的{shop}经营{n}年后因房租上涨即将关门。", "nums": {"n": (8, 60)}},
    {"en": "A group of volunteers cleaned the beach near {city} last Saturday and collected {n} kilograms of rubbish, "
           "mostly plastic bottles and fishing nets. The organisers want to make the clean-up a monthly event.",
     "zh": "上周六，一群志愿者清理了{city}附近的海滩，收集了{n}千克垃圾，大部分是塑料瓶和渔网。组织者希望把清理活动变成每月一次。",
     "sum_en": "Volunteers collected {n} kilograms of rubbish from a beach near {city} and plan monthly clean-ups.",
     "sum_zh": "志愿者在{city}附近海滩收集了{n}千克垃圾，并计划每月清理一次。", "nums": {"n": (50, 900)}},
    {"en": "{org} will build a solar farm outside {city} that can power about {n} thousand homes. Construction starts "
           "in {month} and should take two years. The project will create several hundred local jobs.",
     "zh": "{org}将在{city}郊外建设一座太阳能电站，可为约{n}千户家庭供电。工程将于{month}开工，预计耗时两年，"
           "并将创造数百个本地就业岗位。",
     "sum_en": "{org} will build a solar farm near {city} to power about {n} thousand homes, starting in {month}.",
     "sum_zh": "{org}将于{month}在{city}郊外开建太阳能电站。", "nums": {"n": (10, 120)}},
    {"en": "The public library in {city} now lets people borrow tools such as drills and ladders with a library card. "
           "In the first month, {n} tools were borrowed. Librarians say young families use the service most.",
     "zh": "{city}公共图书馆现在允许市民凭借书证借用电钻、梯子等工具。第一个月共借出{n}件工具。馆员说，年轻家庭使用得最多。",
     "sum_en": "{city}'s public library now lends tools like drills and ladders, and {n} were borrowed in the first month.",
     "sum_zh": "{city}公共图书馆开始出借电钻、梯子等工具，首月借出{n}件。", "nums": {"n": (40, 800)}},
    {"en": "Doctors at a hospital in {city} have started prescribing walks in the park to patients with high blood "
           "pressure. Patients walk with a nurse for {n} minutes twice a week. Early results show lower blood pressure "
           "after three months.",
     "zh": "{city}一家医院的医生开始给高血压患者开“公园散步”的处方。患者每周两次在护士陪同下散步{n}分钟。"
           "初步结果显示，三个月后患者的血压有所下降。",
     "sum_en": "A hospital in {city} prescribes park walks for high blood pressure, with early signs of success.",
     "sum_zh": "{city}一家医院给高血压患者开散步处方，初步效果良好。", "nums": {"n": (20, 60)}},
    {"en": "A small museum in {city} has received a collection of {n} old maps from a private donor. Some of the maps "
           "are more than three hundred years old. They will go on display after the museum restores them.",
     "zh": "{city}的一家小博物馆获赠了一位私人收藏家的{n}幅古地图。其中一些地图已有三百多年历史。博物馆修复后将公开展出。",
     "sum_en": "A museum in {city} received {n} old maps from a donor and will show them after restoration.",
     "sum_zh": "{city}一家博物馆获赠{n}幅古地图，修复后将公开展出。", "nums": {"n": (20, 400)}},
    {"en": "After complaints about noise, {city} will ban fireworks in the city centre from this year. Residents can "
           "still watch an official display by the river on New Year's Eve, which lasts {n} minutes.",
     "zh": "由于噪音投诉，{city}从今年起禁止在市中心燃放烟花。居民仍可以在除夕夜到河边观看官方烟花表演，表演持续{n}分钟。",
     "sum_en": "{city} will ban fireworks in the centre but keep an official riverside display on New Year's Eve.",
     "sum_zh": "{city}将禁止在市中心燃放烟花，但除夕夜河边仍有官方烟花表演。", "nums": {"n": (10, 40)}},
    {"en": "Farmers near {city} expect a record apple harvest this {season} after a mild spring and steady rain. "
           "Prices at local markets have already fallen by about {pct} percent. Some farms are inviting families to "
           "pick their own apples at weekends.",
     "zh": "由于春季温和、雨水均匀，{city}附近的果农预计今年{season}苹果将创丰收纪录。当地市场的苹果价格已经下降了约{pct}%。"
           "一些果园还邀请家庭周末去自己采摘。",
     "sum_en": "Farmers near {city} expect a record apple harvest, and local prices have already fallen.",
     "sum_zh": "{city}附近果农预计苹果大丰收，当地价格已经下降。", "nums": {"pct": (10, 40)}},
    {"en": "{person}, a nurse from {city}, rowed alone across a large lake in {n} hours to raise money for a children's "
           "hospital. Friends followed her in a small boat. She raised more than twice what she had hoped.",
     "zh": "{city}的护士{person}独自划船{n}个小时横渡一个大湖，为一家儿童医院筹款。朋友们坐着小船一路跟随。"
           "她筹到的钱是原定目标的两倍多。",
     "sum_en": "Nurse {person} from {city} rowed across a lake alone to raise money for a children's hospital.",
     "sum_zh": "{city}护士{person}独自划船横渡大湖，为儿童医院筹款。", "nums": {"n": (5, 14)}},
    {"en": "Starting in {month}, shops in {city} must charge for plastic bags. The money will go to a fund that "
           "cleans rivers. A similar rule in another city cut plastic bag use by {pct} percent in a year.",
     "zh": "从{month}起，{city}的商店必须对塑料袋收费，所得款项将用于河流清理基金。另一座城市实行类似规定后，"
           "一年内塑料袋用量减少了{pct}%。",
     "sum_en": "From {month}, shops in {city} must charge for plastic bags, with the money going to clean rivers.",
     "sum_zh": "{month}起{city}商店塑料袋收费，所得用于清理河流。", "nums": {"pct": (30, 80)}},
]


def rc_story(rng: random.Random, story: dict, lang: str, held_out: bool) -> tuple[str, list[tuple[str, str]]]:
    """(passage, [(question, answer)]) of a reading-comprehension skeleton in `lang`."""
    values = slots(rng, story, held_out)
    qa = [(fill(q_en, values, "en"), fill(a_en, values, "en")) if lang == "en" else
          (fill(q_zh, values, "zh"), fill(a_zh, values, "zh")) for q_en, a_en, q_zh, a_zh in story["qa"]]
    return fill(story[lang], values, lang), qa


def summary_text(rng: random.Random, kind: dict, lang: str, held_out: bool) -> tuple[str, str]:
    """(text, one-sentence summary) of a summarization skeleton in `lang`."""
    values = slots(rng, kind, held_out)
    return fill(kind[lang], values, lang), fill(kind["sum_" + lang], values, lang)
