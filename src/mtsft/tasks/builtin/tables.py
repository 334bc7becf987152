"""Bilingual content tables shared by several built-in tasks (written for this project).

Rows are parallel: row i in English and in Chinese say the same thing, so a generator driven by the same
random draws produces the same content in both languages.
"""

from __future__ import annotations

PEOPLE = [
    {"en": "Li Wei", "zh": "李伟"}, {"en": "Zhang Min", "zh": "张敏"}, {"en": "Wang Fang", "zh": "王芳"},
    {"en": "Chen Jie", "zh": "陈杰"}, {"en": "Liu Yang", "zh": "刘洋"}, {"en": "Zhao Lei", "zh": "赵磊"},
    {"en": "Sun Li", "zh": "孙丽"}, {"en": "Zhou Tao", "zh": "周涛"}, {"en": "Anna Schmidt", "zh": "安娜·施密特"},
    {"en": "Tom Baker", "zh": "汤姆·贝克"}, {"en": "Maria Lopez", "zh": "玛丽亚·洛佩斯"}, {"en": "Hu Jing", "zh": "胡静"},
    {"en": "Guo Qiang", "zh": "郭强"}, {"en": "Lin Xue", "zh": "林雪"}, {"en": "David Kim", "zh": "大卫·金"},
]
CITIES = [
    {"en": "Hangzhou", "zh": "杭州"}, {"en": "Chengdu", "zh": "成都"}, {"en": "Xi'an", "zh": "西安"},
    {"en": "Qingdao", "zh": "青岛"}, {"en": "Kunming", "zh": "昆明"}, {"en": "Suzhou", "zh": "苏州"},
    {"en": "Harbin", "zh": "哈尔滨"}, {"en": "Xiamen", "zh": "厦门"}, {"en": "Guilin", "zh": "桂林"},
    {"en": "Lanzhou", "zh": "兰州"}, {"en": "Nanjing", "zh": "南京"}, {"en": "Dalian", "zh": "大连"},
]
ORGS = [
    {"en": "Greenleaf Technology", "zh": "绿叶科技"}, {"en": "Riverstone Bank", "zh": "河石银行"},
    {"en": "Bright Star Foods", "zh": "明星食品"}, {"en": "Northwind Motors", "zh": "北风汽车"},
    {"en": "Blue Harbor Logistics", "zh": "蓝港物流"}, {"en": "Sunrise Pharmaceuticals", "zh": "朝阳制药"},
    {"en": "Maple Education Group", "zh": "枫叶教育集团"}, {"en": "Cloudpeak Software", "zh": "云峰软件"},
]
SHOPS = [
    {"en": "bakery", "zh": "面包店"}, {"en": "bookstore", "zh": "书店"}, {"en": "tea house", "zh": "茶馆"},
    {"en": "bicycle repair shop", "zh": "自行车修理店"}, {"en": "flower shop", "zh": "花店"},
    {"en": "noodle restaurant", "zh": "面馆"}, {"en": "pottery studio", "zh": "陶艺工作室"},
]
PLACES = [
    {"en": "old city wall", "zh": "古城墙"}, {"en": "night market", "zh": "夜市"}, {"en": "history museum", "zh": "历史博物馆"},
    {"en": "botanical garden", "zh": "植物园"}, {"en": "lake park", "zh": "湖滨公园"}, {"en": "art gallery", "zh": "美术馆"},
]
ITEMS = [
    {"en": "silk scarf", "zh": "丝巾"}, {"en": "tea set", "zh": "茶具"}, {"en": "paper fan", "zh": "纸扇"},
    {"en": "jade bracelet", "zh": "玉手镯"}, {"en": "painted kite", "zh": "彩绘风筝"}, {"en": "wooden comb", "zh": "木梳"},
]
VEHICLES = [{"en": "high-speed train", "zh": "高铁"}, {"en": "bus", "zh": "大巴"}, {"en": "plane", "zh": "飞机"},
            {"en": "car", "zh": "汽车"}]
SEASONS = [{"en": "spring", "zh": "春天"}, {"en": "summer", "zh": "夏天"}, {"en": "autumn", "zh": "秋天"},
           {"en": "winter", "zh": "冬天"}]
PRODUCTS = [
    {"en": "a solar-powered lamp", "zh": "一款太阳能台灯"}, {"en": "a smart water bottle", "zh": "一款智能水杯"},
    {"en": "a folding electric bike", "zh": "一款折叠电动自行车"}, {"en": "a language-learning app", "zh": "一款语言学习应用"},
    {"en": "a low-sugar yogurt", "zh": "一款低糖酸奶"}, {"en": "a recycled-plastic backpack", "zh": "一款再生塑料背包"},
]
MONTHS = [{"en": m, "zh": f"{i}月"} for i, m in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
     "November", "December"], 1)]
