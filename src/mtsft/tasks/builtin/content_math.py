"""Math problem kinds (written for this project): arithmetic structures, each told as several scenarios.

A kind is a scenario: its own problem text and worked solution in English and Chinese, over the numbers one
structure draws (`STRUCTURES`). The worked solution names the scenario's things and units, so two kinds never
share a worked answer once digits are masked; that masked worked answer is the kind's "skeleton". The eight
original kinds of `math._problem` stay as kinds too ("legacy-0".."legacy-7"). The train / held-out split is
over kinds (`partition`), so an evaluation problem is a kind training never saw.
"""

from __future__ import annotations

import random

from mtsft.tasks.builtin import partition as P
from mtsft.tasks.builtin import tables as T


def _g_groups(rng):
    a, b, c = rng.randint(2, 30), rng.randint(2, 9), rng.randint(3, 12)
    return {"a": a, "b": b, "c": c, "bc": b * c, "ans": a + b * c}


def _g_rate(rng):
    v, t = rng.randint(3, 40), rng.randint(2, 9)
    return {"v": v, "t": t, "ans": v * t}


def _g_discount(rng):
    p, d = rng.randint(3, 30) * 20, rng.choice([10, 20, 25, 50])
    return {"p": p, "d": d, "off": p * d // 100, "ans": p - p * d // 100}


def _g_share(rng):
    n, k = rng.randint(3, 12), rng.randint(2, 9)
    return {"n": n, "total": n * k, "ans": k}


def _g_area(rng):
    w, h = rng.randint(3, 25), rng.randint(3, 25)
    return {"w": w, "h": h, "ans": w * h}


def _g_left(rng):
    c = rng.randint(20, 60) * 10
    a, b = rng.randint(20, 90), rng.randint(20, 90)
    return {"c": c, "a": a, "b": b, "ab": a + b, "ans": c - a - b}


def _g_two_prices(rng):
    p1, q1, p2, q2 = rng.randint(2, 15), rng.randint(2, 8), rng.randint(2, 15), rng.randint(2, 8)
    return {"p1": p1, "q1": q1, "p2": p2, "q2": q2, "t1": p1 * q1, "t2": p2 * q2, "ans": p1 * q1 + p2 * q2}


def _g_change(rng):
    price, q = rng.randint(3, 20), rng.randint(2, 6)
    cost = price * q
    paid = (cost // 50 + 1) * 50
    return {"price": price, "q": q, "cost": cost, "paid": paid, "ans": paid - cost}


def _g_average(rng):
    a, b = rng.randint(50, 99), rng.randint(50, 99)
    c = rng.randint(50, 99)
    c += (-(a + b + c)) % 3
    return {"a": a, "b": b, "c": c, "total": a + b + c, "ans": (a + b + c) // 3}


def _g_fraction(rng):
    k = rng.choice([2, 3, 4, 5])
    n = k * rng.randint(3, 20)
    return {"n": n, "k": k, "part": n // k, "ans": n - n // k}


def _g_grid(rng):
    r, c = rng.randint(4, 15), rng.randint(4, 15)
    e = rng.randint(1, r * c // 3)
    return {"r": r, "c": c, "rc": r * c, "e": e, "ans": r * c - e}


def _g_more_than(rng):
    y, d = rng.randint(5, 30), rng.randint(2, 10)
    return {"y": y, "d": d, "x": y + d, "ans": 2 * y + d}


def _g_ceil(rng):
    k = rng.randint(4, 12)
    n = k * rng.randint(2, 9) + rng.randint(1, k - 1)
    return {"n": n, "k": k, "full": n // k, "rest": n % k, "ans": n // k + 1}


def _g_increase(rng):
    p, r = rng.randint(1, 15) * 20, rng.choice([10, 20, 25, 50])
    return {"p": p, "r": r, "up": p * r // 100, "ans": p + p * r // 100}


STRUCTURES = {"groups": _g_groups, "rate": _g_rate, "discount": _g_discount, "share": _g_share, "area": _g_area,
              "left": _g_left, "two_prices": _g_two_prices, "change": _g_change, "average": _g_average,
              "fraction": _g_fraction, "grid": _g_grid, "more_than": _g_more_than, "ceil": _g_ceil,
              "increase": _g_increase}

# (structure, en problem, en working, zh problem, zh working); {who} is a person's name
_K = [
    ("groups", "{who} has {a} eggs and buys {b} cartons with {c} eggs in each. How many eggs are there now?",
     "The cartons hold {b} × {c} = {bc} eggs, and {a} + {bc} = {ans} eggs.",
     "{who}有{a}个鸡蛋，又买了{b}盒，每盒{c}个。现在一共有多少个鸡蛋？", "买来的鸡蛋有{b} × {c} = {bc}个，{a} + {bc} = {ans}个。"),
    ("groups", "A sticker album already has {a} stickers. {who} adds {b} sheets with {c} stickers per sheet. How many stickers are in the album?",
     "The new sheets give {b} × {c} = {bc} stickers; the album now has {a} + {bc} = {ans} stickers.",
     "贴纸册里已经有{a}张贴纸，{who}又贴进了{b}版，每版{c}张。册子里现在有多少张贴纸？", "新贴进{b} × {c} = {bc}张贴纸，册子里共有{a} + {bc} = {ans}张。"),
    ("groups", "A library shelf holds {a} books. The librarian unpacks {b} boxes of {c} books each onto it. How many books are on the shelf?",
     "The boxes contain {b} × {c} = {bc} books, so the shelf has {a} + {bc} = {ans} books.",
     "图书馆的书架上有{a}本书，管理员又拆开{b}箱书放上去，每箱{c}本。书架上现在有多少本书？", "箱子里共有{b} × {c} = {bc}本书，书架上有{a} + {bc} = {ans}本。"),
    ("groups", "A school hall has {a} loose chairs and {b} rows of {c} chairs. How many chairs are there in total?",
     "The rows have {b} × {c} = {bc} chairs; with the loose ones that is {a} + {bc} = {ans} chairs.",
     "学校礼堂里有{b}排椅子，每排{c}把，另外还有{a}把散放的椅子。一共有多少把椅子？", "成排的椅子有{b} × {c} = {bc}把，加上散放的共{a} + {bc} = {ans}把。"),
    ("rate", "A printer prints {v} pages per minute. How many pages does it print in {t} minutes?",
     "Pages = pages per minute × minutes = {v} × {t} = {ans} pages.",
     "一台打印机每分钟打印{v}页，{t}分钟能打印多少页？", "页数 = 每分钟页数 × 分钟数 = {v} × {t} = {ans}页。"),
    ("rate", "A cyclist rides at {v} km per hour for {t} hours. How far does the cyclist ride in kilometres?",
     "Distance ridden = {v} km per hour × {t} hours = {ans} km.",
     "一位骑车人以每小时{v}千米的速度骑了{t}小时，一共骑了多少千米？", "骑行路程 = 每小时{v}千米 × {t}小时 = {ans}千米。"),
    ("rate", "A tap fills a tub with {v} litres of water every minute. How many litres are in the tub after {t} minutes?",
     "Water = {v} litres per minute × {t} minutes = {ans} litres.",
     "一个水龙头每分钟往浴缸里注水{v}升，{t}分钟后浴缸里有多少升水？", "水量 = 每分钟{v}升 × {t}分钟 = {ans}升。"),
    ("rate", "A toy factory makes {v} toys every hour. How many toys does it make in a {t}-hour shift?",
     "Toys made = {v} toys per hour × {t} hours = {ans} toys.",
     "一家玩具厂每小时生产{v}个玩具，一个{t}小时的班次能生产多少个玩具？", "生产的玩具 = 每小时{v}个 × {t}小时 = {ans}个。"),
    ("discount", "A pair of shoes is priced at {p} yuan. In the sale it is {d}% cheaper. What does it cost now, in yuan?",
     "The shoes are {p} × {d}% = {off} yuan cheaper, so they cost {p} - {off} = {ans} yuan.",
     "一双鞋标价{p}元，促销时便宜{d}%。现在卖多少元？", "鞋子便宜了{p} × {d}% = {off}元，现价{p} - {off} = {ans}元。"),
    ("discount", "A concert ticket costs {p} yuan, and students get {d}% off. How much does a student pay, in yuan?",
     "The student discount is {p} × {d}% = {off} yuan, so a student pays {p} - {off} = {ans} yuan.",
     "一张音乐会门票{p}元，学生可以优惠{d}%。学生要付多少元？", "学生优惠{p} × {d}% = {off}元，要付{p} - {off} = {ans}元。"),
    ("discount", "A bicycle costs {p} yuan. The shop takes {d}% off for a member. What does a member pay, in yuan?",
     "The member saves {p} × {d}% = {off} yuan on the bicycle and pays {p} - {off} = {ans} yuan.",
     "一辆自行车售价{p}元，会员可以减{d}%。会员买这辆车要付多少元？", "会员买自行车省了{p} × {d}% = {off}元，付{p} - {off} = {ans}元。"),
    ("share", "{total} cookies are packed equally into {n} boxes. How many cookies go in each box?",
     "Cookies per box = {total} ÷ {n} = {ans} cookies.",
     "把{total}块饼干平均装进{n}个盒子，每盒装几块？", "每盒饼干 = {total} ÷ {n} = {ans}块。"),
    ("share", "A rope {total} metres long is cut into {n} equal pieces. How long is each piece in metres?",
     "Each piece of rope is {total} m ÷ {n} = {ans} m long.",
     "一根{total}米长的绳子被剪成{n}段同样长的绳子，每段长多少米？", "每段绳子长{total}米 ÷ {n} = {ans}米。"),
    ("share", "{who} reads a {total}-page book in {n} days, reading the same number of pages each day. How many pages a day is that?",
     "Pages per day = {total} pages ÷ {n} days = {ans} pages.",
     "{who}用{n}天读完一本{total}页的书，每天读的页数一样。每天读多少页？", "每天读的页数 = {total}页 ÷ {n}天 = {ans}页。"),
    ("area", "A classroom floor is {w} m long and {h} m wide. How many square metres of carpet cover it?",
     "Carpet area = length × width = {w} × {h} = {ans} square metres.",
     "一间教室的地面长{w}米、宽{h}米，铺满地毯需要多少平方米？", "地毯面积 = 长 × 宽 = {w} × {h} = {ans}平方米。"),
    ("area", "A wall is {w} m wide and {h} m high. How many square metres of paint does it need?",
     "The wall's area is {w} × {h} = {ans} square metres to paint.",
     "一面墙宽{w}米、高{h}米，需要刷多少平方米的漆？", "要刷漆的墙面面积是{w} × {h} = {ans}平方米。"),
    ("area", "A photo is {w} cm wide and {h} cm tall. What is its area in square centimetres?",
     "Photo area = {w} cm × {h} cm = {ans} square centimetres.",
     "一张照片宽{w}厘米、高{h}厘米，它的面积是多少平方厘米？", "照片面积 = {w}厘米 × {h}厘米 = {ans}平方厘米。"),
    ("left", "A baker makes {c} buns. {a} are sold in the morning and {b} in the afternoon. How many buns are left?",
     "The bakery sold {a} + {b} = {ab} buns, so {c} - {ab} = {ans} buns are left.",
     "面包师做了{c}个面包，上午卖出{a}个，下午卖出{b}个，还剩多少个面包？", "面包一共卖出{a} + {b} = {ab}个，还剩{c} - {ab} = {ans}个。"),
    ("left", "A phone plan includes {c} minutes of calls. {who} uses {a} minutes in the first week and {b} in the second. How many minutes remain?",
     "{a} + {b} = {ab} call minutes are used, leaving {c} - {ab} = {ans} minutes.",
     "一个手机套餐包含{c}分钟通话，{who}第一周用了{a}分钟，第二周用了{b}分钟，还剩多少分钟？", "通话用掉{a} + {b} = {ab}分钟，剩下{c} - {ab} = {ans}分钟。"),
    ("left", "A farmer has {c} kilograms of rice. He sells {a} kg to a shop and {b} kg at the market. How many kilograms are left?",
     "The farmer sold {a} + {b} = {ab} kg of rice; {c} - {ab} = {ans} kg remain.",
     "一位农民有{c}千克大米，卖给商店{a}千克，在集市上卖了{b}千克，还剩多少千克？", "农民一共卖出大米{a} + {b} = {ab}千克，剩下{c} - {ab} = {ans}千克。"),
    ("two_prices", "{who} buys {q1} notebooks at {p1} yuan each and {q2} pens at {p2} yuan each. How much does {who} spend in yuan?",
     "Notebooks cost {q1} × {p1} = {t1} yuan and pens {q2} × {p2} = {t2} yuan; in all {t1} + {t2} = {ans} yuan.",
     "{who}买了{q1}本笔记本，每本{p1}元，又买了{q2}支笔，每支{p2}元。一共花了多少元？", "笔记本{q1} × {p1} = {t1}元，笔{q2} × {p2} = {t2}元，一共{t1} + {t2} = {ans}元。"),
    ("two_prices", "A family orders {q1} bowls of noodles at {p1} yuan and {q2} plates of dumplings at {p2} yuan. What is the bill in yuan?",
     "The noodles are {q1} × {p1} = {t1} yuan, the dumplings {q2} × {p2} = {t2} yuan, and the bill is {t1} + {t2} = {ans} yuan.",
     "一家人点了{q1}碗面，每碗{p1}元，还有{q2}盘饺子，每盘{p2}元。一共要付多少元？", "面条{q1} × {p1} = {t1}元，饺子{q2} × {p2} = {t2}元，账单共{t1} + {t2} = {ans}元。"),
    ("two_prices", "A class buys {q1} footballs at {p1} yuan each and {q2} skipping ropes at {p2} yuan each. What is the total cost in yuan?",
     "Footballs: {q1} × {p1} = {t1} yuan; ropes: {q2} × {p2} = {t2} yuan; total {t1} + {t2} = {ans} yuan.",
     "班里买了{q1}个足球，每个{p1}元，又买了{q2}根跳绳，每根{p2}元。一共花了多少元？", "足球{q1} × {p1} = {t1}元，跳绳{q2} × {p2} = {t2}元，共{t1} + {t2} = {ans}元。"),
    ("two_prices", "At the fruit stall, {who} buys {q1} kg of pears at {p1} yuan per kg and {q2} kg of grapes at {p2} yuan per kg. How much is that in yuan?",
     "Pears cost {q1} × {p1} = {t1} yuan and grapes {q2} × {p2} = {t2} yuan, so {t1} + {t2} = {ans} yuan.",
     "{who}在水果摊买了{q1}千克梨，每千克{p1}元，又买了{q2}千克葡萄，每千克{p2}元。一共多少元？", "梨{q1} × {p1} = {t1}元，葡萄{q2} × {p2} = {t2}元，共{t1} + {t2} = {ans}元。"),
    ("change", "{who} buys {q} cups of tea at {price} yuan each and pays with {paid} yuan. How much change does {who} get?",
     "The tea costs {q} × {price} = {cost} yuan, so the change is {paid} - {cost} = {ans} yuan.",
     "{who}买了{q}杯茶，每杯{price}元，付了{paid}元。应该找回多少元？", "茶一共{q} × {price} = {cost}元，找回{paid} - {cost} = {ans}元。"),
    ("change", "Tickets to the aquarium cost {price} yuan each. A group buys {q} tickets with {paid} yuan. How much money comes back?",
     "The aquarium tickets cost {q} × {price} = {cost} yuan; {paid} - {cost} = {ans} yuan comes back.",
     "水族馆门票每张{price}元，一群人买了{q}张，付了{paid}元。能找回多少钱？", "水族馆门票花了{q} × {price} = {cost}元，找回{paid} - {cost} = {ans}元。"),
    ("change", "{who} buys {q} magazines at {price} yuan each and hands over {paid} yuan. What change is given, in yuan?",
     "Magazines: {q} × {price} = {cost} yuan. Change: {paid} - {cost} = {ans} yuan.",
     "{who}买了{q}本杂志，每本{price}元，递给店员{paid}元。应找零多少元？", "杂志共{q} × {price} = {cost}元，找零{paid} - {cost} = {ans}元。"),
    ("average", "{who} scored {a}, {b} and {c} in three tests. What is the average score?",
     "The scores add up to {a} + {b} + {c} = {total}, and {total} ÷ 3 = {ans} is the average score.",
     "{who}三次测验分别得了{a}分、{b}分和{c}分，平均分是多少？", "三次分数之和是{a} + {b} + {c} = {total}，平均分是{total} ÷ 3 = {ans}分。"),
    ("average", "A shop sold {a}, {b} and {c} umbrellas on three rainy days. How many umbrellas did it sell per day on average?",
     "Umbrellas sold: {a} + {b} + {c} = {total}; per day on average {total} ÷ 3 = {ans} umbrellas.",
     "一家店在三个雨天分别卖出{a}把、{b}把和{c}把伞，平均每天卖出多少把？", "一共卖出雨伞{a} + {b} + {c} = {total}把，平均每天{total} ÷ 3 = {ans}把。"),
    ("average", "Three classes collected {a}, {b} and {c} bottles for recycling. What is the average per class?",
     "The classes collected {a} + {b} + {c} = {total} bottles, which is {total} ÷ 3 = {ans} bottles per class.",
     "三个班分别回收了{a}个、{b}个和{c}个瓶子，平均每个班回收多少个？", "三个班共回收瓶子{a} + {b} + {c} = {total}个，平均每班{total} ÷ 3 = {ans}个。"),
    ("fraction", "A class has {n} students and 1/{k} of them walk to school. How many students do not walk?",
     "Walkers: {n} ÷ {k} = {part} students; the others are {n} - {part} = {ans} students.",
     "一个班有{n}名学生，其中{k}分之一步行上学。不步行上学的有多少人？", "步行的有{n} ÷ {k} = {part}人，不步行的有{n} - {part} = {ans}人。"),
    ("fraction", "A pizza shop bakes {n} pizzas and 1/{k} of them are vegetarian. How many pizzas have meat?",
     "Vegetarian pizzas: {n} ÷ {k} = {part}; pizzas with meat: {n} - {part} = {ans}.",
     "一家披萨店烤了{n}个披萨，其中{k}分之一是素食披萨。有肉的披萨有多少个？", "素食披萨有{n} ÷ {k} = {part}个，有肉的有{n} - {part} = {ans}个。"),
    ("fraction", "{who} had {n} yuan and spent 1/{k} of it on a book. How many yuan are left?",
     "The book cost {n} ÷ {k} = {part} yuan, leaving {n} - {part} = {ans} yuan.",
     "{who}有{n}元，花了其中的{k}分之一买书，还剩多少元？", "买书花了{n} ÷ {k} = {part}元，还剩{n} - {part} = {ans}元。"),
    ("grid", "A cinema has {r} rows of {c} seats. {e} seats are empty. How many people are seated?",
     "The cinema has {r} × {c} = {rc} seats, and {rc} - {e} = {ans} are taken.",
     "一家电影院有{r}排座位，每排{c}个，有{e}个座位空着。坐了多少人？", "电影院共有{r} × {c} = {rc}个座位，坐了{rc} - {e} = {ans}人。"),
    ("grid", "An orchard has {r} rows of {c} apple trees, but {e} trees died in a storm. How many trees are still standing?",
     "There were {r} × {c} = {rc} apple trees; {rc} - {e} = {ans} trees are still standing.",
     "果园里有{r}行苹果树，每行{c}棵，一场暴风雨毁了{e}棵。还剩多少棵树？", "原来有苹果树{r} × {c} = {rc}棵，还剩{rc} - {e} = {ans}棵。"),
    ("grid", "A car park has {r} levels with {c} spaces each. {e} spaces are free. How many cars are parked?",
     "The car park has {r} × {c} = {rc} spaces; {rc} - {e} = {ans} cars are parked.",
     "一个停车场有{r}层，每层{c}个车位，有{e}个车位空着。停了多少辆车？", "停车场共有{r} × {c} = {rc}个车位，停了{rc} - {e} = {ans}辆车。"),
    ("more_than", "A choir has {y} boys and {d} more girls than boys. How many singers are in the choir?",
     "Girls: {y} + {d} = {x}; singers: {y} + {x} = {ans}.",
     "合唱团有{y}名男生，女生比男生多{d}名。合唱团一共有多少人？", "女生有{y} + {d} = {x}名，合唱团共{y} + {x} = {ans}人。"),
    ("more_than", "{who} picked {y} strawberries and a friend picked {d} more. How many strawberries did they pick together?",
     "The friend picked {y} + {d} = {x} strawberries; together {y} + {x} = {ans} strawberries.",
     "{who}摘了{y}颗草莓，朋友比{who}多摘了{d}颗。他们一共摘了多少颗草莓？", "朋友摘了{y} + {d} = {x}颗草莓，两人一共{y} + {x} = {ans}颗。"),
    ("more_than", "On Monday a bakery sold {y} cakes, and on Tuesday {d} more than on Monday. How many cakes did it sell on the two days?",
     "Tuesday's cakes: {y} + {d} = {x}; both days: {y} + {x} = {ans} cakes.",
     "面包店周一卖出{y}个蛋糕，周二比周一多卖{d}个。两天一共卖出多少个蛋糕？", "周二卖出蛋糕{y} + {d} = {x}个，两天共{y} + {x} = {ans}个。"),
    ("ceil", "{n} students go on a trip in minibuses that hold {k} students each. How many minibuses are needed?",
     "{n} ÷ {k} = {full} minibuses with {rest} students left over, so {ans} minibuses are needed.",
     "{n}名学生坐面包车去春游，每辆车坐{k}人。至少需要多少辆车？", "{n} ÷ {k} = {full}辆车还余{rest}人，所以至少需要{ans}辆车。"),
    ("ceil", "{who} needs to store {n} photos, and each album page holds {k}. How many pages are needed?",
     "{n} ÷ {k} = {full} full pages and {rest} photos over, so {ans} album pages are needed.",
     "{who}要收好{n}张照片，相册每页放{k}张，至少需要多少页？", "{n} ÷ {k} = {full}页还余{rest}张照片，所以至少需要{ans}页相册。"),
    ("ceil", "A lift carries at most {k} people. How many trips does it make to take {n} people up?",
     "{n} ÷ {k} = {full} full lift trips with {rest} people waiting, so {ans} trips.",
     "一部电梯每次最多载{k}人，要把{n}人送上楼，至少要运几趟？", "{n} ÷ {k} = {full}趟还剩{rest}人，所以电梯至少运{ans}趟。"),
    ("increase", "A monthly bus pass cost {p} yuan last year and went up by {r}%. What does it cost now, in yuan?",
     "The bus pass rose by {p} × {r}% = {up} yuan to {p} + {up} = {ans} yuan.",
     "去年公交月票{p}元，今年涨了{r}%。现在月票多少元？", "公交月票涨了{p} × {r}% = {up}元，现在{p} + {up} = {ans}元。"),
    ("increase", "A worker earned {p} yuan a day and got a {r}% raise. What is the new daily pay in yuan?",
     "The raise is {p} × {r}% = {up} yuan, so the daily pay becomes {p} + {up} = {ans} yuan.",
     "一名工人原来每天挣{p}元，工资涨了{r}%。现在每天挣多少元？", "日薪涨了{p} × {r}% = {up}元，现在每天{p} + {up} = {ans}元。"),
    ("increase", "A library had {p} members, and membership grew by {r}% this year. How many members does it have now?",
     "Membership grew by {p} × {r}% = {up} people to {p} + {up} = {ans} members.",
     "一家图书馆原有{p}名会员，今年会员人数增长了{r}%。现在有多少名会员？", "会员增加了{p} × {r}% = {up}人，现在有{p} + {up} = {ans}名会员。"),
    ("groups", "A garden centre has {a} potted roses and receives {b} trays of {c} roses. How many roses does it have?",
     "The trays bring {b} × {c} = {bc} roses, so the centre has {a} + {bc} = {ans} roses.",
     "花卉中心有{a}盆玫瑰，又运来{b}盘，每盘{c}盆。现在一共有多少盆玫瑰？", "运来的玫瑰有{b} × {c} = {bc}盆，一共{a} + {bc} = {ans}盆。"),
    ("rate", "A bee colony gathers {v} grams of honey a day. How many grams does it gather in {t} days?",
     "Honey = {v} grams per day × {t} days = {ans} grams.",
     "一群蜜蜂每天采蜜{v}克，{t}天能采多少克蜜？", "蜂蜜 = 每天{v}克 × {t}天 = {ans}克。"),
    ("left", "A train has {c} seats. {a} passengers board at the first station and {b} at the second. How many seats are still empty?",
     "{a} + {b} = {ab} passengers boarded the train, so {c} - {ab} = {ans} seats are empty.",
     "一列火车有{c}个座位，第一站上来{a}名乘客，第二站上来{b}名。还有多少个空座位？", "火车上来了{a} + {b} = {ab}名乘客，空座位还有{c} - {ab} = {ans}个。"),
    ("share", "A teacher splits {total} students into {n} teams of the same size. How many students are on each team?",
     "Students per team = {total} ÷ {n} = {ans} students.",
     "老师把{total}名学生平均分成{n}个队，每队有多少名学生？", "每队学生 = {total} ÷ {n} = {ans}名。"),
    ("groups", "A toy shop has {a} teddy bears on display and {b} crates with {c} bears each in the storeroom. How many bears does it have?",
     "The crates hold {b} × {c} = {bc} bears; with the display that makes {a} + {bc} = {ans} teddy bears.",
     "玩具店展示了{a}只泰迪熊，仓库里还有{b}箱，每箱{c}只。店里一共有多少只泰迪熊？", "仓库里有泰迪熊{b} × {c} = {bc}只，加上展示的共{a} + {bc} = {ans}只。"),
    ("rate", "A baker kneads {v} loaves of dough every hour. How many loaves does he knead in {t} hours?",
     "Loaves kneaded = {v} loaves per hour × {t} hours = {ans} loaves.",
     "一位面包师每小时揉{v}个面团，{t}小时能揉多少个面团？", "揉好的面团 = 每小时{v}个 × {t}小时 = {ans}个。"),
    ("rate", "A swimmer swims {v} lengths of the pool each day. How many lengths does she swim in {t} days?",
     "Pool lengths = {v} lengths a day × {t} days = {ans} lengths.",
     "一位游泳运动员每天游{v}个来回，{t}天一共游多少个来回？", "游泳来回数 = 每天{v}个 × {t}天 = {ans}个。"),
    ("discount", "A winter coat costs {p} yuan, and on Singles' Day it is {d}% off. What is the price then, in yuan?",
     "On Singles' Day the coat is {p} × {d}% = {off} yuan cheaper, so it costs {p} - {off} = {ans} yuan.",
     "一件冬季大衣售价{p}元，双十一打折便宜{d}%。那天卖多少元？", "双十一大衣便宜{p} × {d}% = {off}元，售价{p} - {off} = {ans}元。"),
    ("share", "{total} litres of juice are poured equally into {n} jugs. How many litres are in each jug?",
     "Juice per jug = {total} litres ÷ {n} jugs = {ans} litres.",
     "把{total}升果汁平均倒进{n}个水壶，每个水壶有多少升？", "每壶果汁 = {total}升 ÷ {n}个壶 = {ans}升。"),
    ("area", "A rectangular swimming pool is {w} m long and {h} m wide. What is the area of its surface in square metres?",
     "Pool surface = {w} m × {h} m = {ans} square metres of water.",
     "一个长方形游泳池长{w}米、宽{h}米，水面面积是多少平方米？", "泳池水面面积 = {w}米 × {h}米 = {ans}平方米。"),
    ("left", "A hiker plans a {c}-metre climb. She climbs {a} metres before lunch and {b} metres after. How many metres are left to the top?",
     "The hiker has climbed {a} + {b} = {ab} metres, so {c} - {ab} = {ans} metres remain to the top.",
     "一位登山者计划爬升{c}米，午饭前爬了{a}米，午饭后又爬了{b}米。离山顶还有多少米？", "登山者已爬升{a} + {b} = {ab}米，离山顶还有{c} - {ab} = {ans}米。"),
    ("two_prices", "A cafe sells {q1} cups of coffee at {p1} yuan and {q2} muffins at {p2} yuan in an hour. How much money does it take in?",
     "Coffee brings {q1} × {p1} = {t1} yuan and muffins {q2} × {p2} = {t2} yuan, so the cafe takes {t1} + {t2} = {ans} yuan.",
     "一家咖啡馆一小时卖出{q1}杯咖啡，每杯{p1}元，还有{q2}个松饼，每个{p2}元。一共收入多少元？", "咖啡收入{q1} × {p1} = {t1}元，松饼收入{q2} × {p2} = {t2}元，咖啡馆共收入{t1} + {t2} = {ans}元。"),
    ("average", "A runner ran {a}, {b} and {c} minutes on three mornings. What was the average running time in minutes?",
     "Running time in total: {a} + {b} + {c} = {total} minutes; on average {total} ÷ 3 = {ans} minutes per morning.",
     "一位跑步者三个早上分别跑了{a}分钟、{b}分钟和{c}分钟，平均每天跑多少分钟？", "跑步总时间{a} + {b} + {c} = {total}分钟，平均每个早上{total} ÷ 3 = {ans}分钟。"),
    ("fraction", "A farmer has {n} sheep, and 1/{k} of them are black. How many sheep are white?",
     "Black sheep: {n} ÷ {k} = {part}; white sheep: {n} - {part} = {ans}.",
     "一位农民有{n}只羊，其中{k}分之一是黑羊。白羊有多少只？", "黑羊有{n} ÷ {k} = {part}只，白羊有{n} - {part} = {ans}只。"),
    ("grid", "A chocolate box has {r} rows of {c} chocolates, and {who} has eaten {e}. How many chocolates are left?",
     "The box held {r} × {c} = {rc} chocolates; after eating {e}, {rc} - {e} = {ans} chocolates are left.",
     "一盒巧克力有{r}排，每排{c}块，{who}已经吃了{e}块。还剩多少块巧克力？", "这盒巧克力共{r} × {c} = {rc}块，吃掉{e}块后还剩{rc} - {e} = {ans}块。"),
    ("more_than", "A school collected {y} kilograms of paper for recycling in March and {d} kilograms more in April. How much paper did it collect in the two months?",
     "April's paper: {y} + {d} = {x} kg; both months: {y} + {x} = {ans} kg of paper.",
     "学校三月回收了{y}千克废纸，四月比三月多回收{d}千克。两个月一共回收了多少千克废纸？", "四月回收废纸{y} + {d} = {x}千克，两个月共回收{y} + {x} = {ans}千克。"),
    ("ceil", "Each tent sleeps {k} campers. How many tents does a camp need for {n} campers?",
     "{n} ÷ {k} = {full} full tents with {rest} campers left, so the camp needs {ans} tents.",
     "每顶帐篷能睡{k}名营员，{n}名营员至少需要多少顶帐篷？", "{n} ÷ {k} = {full}顶帐篷还剩{rest}名营员，所以至少需要{ans}顶帐篷。"),
    ("increase", "A school had {p} pupils, and the number grew by {r}% this year. How many pupils are there now?",
     "Pupils increased by {p} × {r}% = {up}, so the school now has {p} + {up} = {ans} pupils.",
     "一所学校原有{p}名学生，今年学生人数增加了{r}%。现在有多少名学生？", "学生人数增加了{p} × {r}% = {up}名，现在学校有{p} + {up} = {ans}名学生。"),
]

KINDS = [{"key": f"legacy-{i}", "legacy": i} for i in range(8)] + [
    {"key": en_p, "structure": s, "en": (en_p, en_w), "zh": (zh_p, zh_w)} for s, en_p, en_w, zh_p, zh_w in _K]


def draw(rng: random.Random, lang: str, held_out: bool, legacy) -> tuple[tuple[str, str], int]:
    """((problem, worked solution), answer) from a kind of the right part; `legacy(rng, lang, kind)` draws
    one of math.py's original eight kinds."""
    kind = P.choose(rng, KINDS, held_out)
    if "legacy" in kind:
        return legacy(rng, lang, kind["legacy"])
    values = STRUCTURES[kind["structure"]](rng)
    who = rng.choice(T.PEOPLE)[lang]
    problem, working = kind[lang]
    return (problem.format(who=who, **values), working.format(who=who, **values)), values["ans"]
