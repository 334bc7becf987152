"""More creative_writing content (written for this project): topics with keyword pools, four-line poem
skeletons and very short story skeletons, each over {topic} {k1} {k2}, in English and Chinese."""

from __future__ import annotations

MORE_TOPICS = [
    (("a spring morning", "春天的早晨"), [("blossoms", "花朵"), ("birdsong", "鸟鸣"), ("dew", "露水"), ("sunlight", "阳光"), ("bicycle", "自行车")]),
    (("the night sky", "夜空"), [("stars", "星星"), ("comet", "彗星"), ("silence", "寂静"), ("telescope", "望远镜"), ("owl", "猫头鹰")]),
    (("a small village", "小村庄"), [("well", "水井"), ("rooftops", "屋顶"), ("rooster", "公鸡"), ("smoke", "炊烟"), ("bridge", "小桥")]),
    (("the first snow", "初雪"), [("footprints", "脚印"), ("scarf", "围巾"), ("frost", "霜"), ("fireplace", "壁炉"), ("sled", "雪橇")]),
    (("a summer storm", "夏日暴雨"), [("thunder", "雷声"), ("lightning", "闪电"), ("rain", "雨水"), ("shelter", "屋檐"), ("rainbow", "彩虹")]),
    (("childhood", "童年"), [("kite", "风筝"), ("marbles", "弹珠"), ("schoolyard", "操场"), ("candy", "糖果"), ("grandfather", "爷爷")]),
    (("a train journey", "火车旅行"), [("platform", "站台"), ("ticket", "车票"), ("fields", "田野"), ("whistle", "汽笛"), ("stranger", "陌生人")]),
    (("the desert", "沙漠"), [("dunes", "沙丘"), ("camel", "骆驼"), ("oasis", "绿洲"), ("heat", "炎热"), ("wind", "风沙")]),
    (("a forest walk", "林间漫步"), [("moss", "青苔"), ("mushrooms", "蘑菇"), ("stream", "小溪"), ("deer", "小鹿"), ("shade", "树荫")]),
    (("a market at dawn", "清晨的集市"), [("baskets", "竹筐"), ("vegetables", "蔬菜"), ("voices", "吆喝声"), ("fish", "鲜鱼"), ("steam", "热气")]),
    (("a lost cat", "走失的猫"), [("whiskers", "胡须"), ("alley", "小巷"), ("poster", "寻猫启事"), ("rooftop", "房顶"), ("bell", "铃铛")]),
    (("a grandmother's kitchen", "外婆的厨房"), [("dumplings", "饺子"), ("stove", "灶台"), ("recipe", "菜谱"), ("apron", "围裙"), ("laughter", "笑声")]),
    (("the river", "河流"), [("boat", "小船"), ("reeds", "芦苇"), ("current", "水流"), ("fisherman", "渔夫"), ("willow", "柳树")]),
    (("a city at night", "夜晚的城市"), [("streetlights", "路灯"), ("traffic", "车流"), ("skyscrapers", "高楼"), ("music", "音乐"), ("cafe", "咖啡馆")]),
    (("an old bookshop", "旧书店"), [("dust", "灰尘"), ("pages", "书页"), ("ladder", "梯子"), ("map", "地图"), ("cat", "猫")]),
    (("the harvest", "丰收"), [("wheat", "麦子"), ("tractor", "拖拉机"), ("barn", "粮仓"), ("sunset", "夕阳"), ("songs", "歌声")]),
    (("a rainy afternoon", "下雨的午后"), [("raindrops", "雨滴"), ("tea", "热茶"), ("blanket", "毯子"), ("novel", "小说"), ("window", "窗户")]),
    (("a garden", "花园"), [("roses", "玫瑰"), ("bees", "蜜蜂"), ("fence", "篱笆"), ("watering can", "水壶"), ("butterfly", "蝴蝶")]),
    (("the island", "小岛"), [("shells", "贝壳"), ("palm trees", "椰子树"), ("boat", "渔船"), ("coral", "珊瑚"), ("horizon", "地平线")]),
    (("a winter night", "冬夜"), [("snowflakes", "雪花"), ("candle", "蜡烛"), ("soup", "热汤"), ("wind", "寒风"), ("quilt", "棉被")]),
    (("a birthday", "生日"), [("cake", "蛋糕"), ("candles", "蜡烛"), ("balloons", "气球"), ("wish", "愿望"), ("friends", "朋友")]),
    (("the moon", "月亮"), [("tide", "潮汐"), ("shadow", "影子"), ("lantern", "灯笼"), ("rabbit", "玉兔"), ("silver", "银光")]),
    (("a farewell", "离别"), [("station", "车站"), ("wave", "挥手"), ("tears", "泪水"), ("promise", "约定"), ("road", "远方的路")]),
    (("a bicycle ride", "骑车兜风"), [("wheels", "车轮"), ("hill", "山坡"), ("breeze", "微风"), ("bell", "车铃"), ("path", "小路")]),
]
# four-line poems: en and zh lists of lines over {topic} {k1} {k2}
MORE_POEMS = [
    {"en": ["When I think of {topic}, the day grows still,", "the {k1} is waiting just beyond the hill;",
            "I keep the {k2} close, the way you keep a song,", "and carry both with me the whole night long."],
     "zh": ["想起{topic}，白天也安静下来，", "{k1}就在山那边静静等待；", "我把{k2}藏在心里，像藏着一首歌，", "整整一夜都把它们带在身边。"]},
    {"en": ["There is a story hidden in {topic},", "told by the {k1} to anyone who stays;",
            "the {k2} listens, patient as the stone,", "and keeps its secrets through the quiet days."],
     "zh": ["{topic}里藏着一个故事，", "{k1}讲给每一个愿意停留的人；", "{k2}像石头一样耐心地听着，", "在安静的日子里守着它的秘密。"]},
    {"en": ["I wrote your name in {topic} long ago,", "beside the {k1}, where gentle breezes blow;",
            "the {k2} remembers what the years forgot,", "a little light in one familiar spot."],
     "zh": ["很久以前我把你的名字写进{topic}，", "写在{k1}旁边，那里有轻风吹过；", "{k2}记得岁月忘掉的一切，", "在熟悉的角落留着一点光。"]},
    {"en": ["Morning comes to {topic} slow and bright,", "the {k1} shakes off the last of the night;",
            "a {k2} hums softly by the open door,", "and I feel I have been here before."],
     "zh": ["清晨慢慢来到{topic}，明亮又温柔，", "{k1}抖落了夜晚最后的影子；", "{k2}在敞开的门边轻轻哼唱，", "我仿佛很久以前就来过这里。"]},
]
# very short stories over {topic} {k1} {k2}
MORE_STORIES = [
    {"en": ("Old Chen kept a notebook about {topic}. Every page began with the {k1}, and every page ended with the "
            "{k2}. When his granddaughter found it, she read it aloud, and for a moment the whole room was quiet. "
            "Then she picked up a pen and wrote a page of her own."),
     "zh": ("老陈有一本关于{topic}的笔记本。每一页都从{k1}写起，又都以{k2}结尾。孙女发现它后，把它大声读了出来，"
            "屋子里一下子安静了。接着，她拿起笔，写下了属于自己的一页。")},
    {"en": ("Nobody in the town talked about {topic} any more. Then a girl arrived with a {k1} in her bag and asked "
            "where she could find the {k2}. People laughed at first, but by the end of the week half the town was "
            "helping her look."),
     "zh": ("镇上已经没人再谈起{topic}了。后来来了一个女孩，包里装着{k1}，到处打听哪里能找到{k2}。人们起初都笑她，"
            "可不到一个星期，半个镇子的人都在帮她找。")},
    {"en": ("Lin promised herself she would write about {topic} before the year ended. She started with the {k1}, "
            "because it was the easiest thing to see. The {k2} came later, when she was not trying at all. In "
            "December she finally read the finished page and smiled."),
     "zh": ("林答应自己，年底前一定要写写{topic}。她先写了{k1}，因为那是最容易看见的东西。{k2}是后来才出现的，"
            "那时她根本没在用力去想。十二月，她终于读完写好的那一页，笑了。")},
    {"en": ("The boy had never seen {topic} before. He stood still, looking first at the {k1} and then at the "
            "{k2}, as if they might disappear. His father waited beside him without a word. On the way home the "
            "boy asked if they could come back tomorrow."),
     "zh": ("男孩从没见过{topic}。他一动不动地站着，先看看{k1}，又看看{k2}，好像它们会突然消失。父亲在他身边"
            "静静地等着，一句话也没说。回家的路上，男孩问明天还能不能再来。")},
]
