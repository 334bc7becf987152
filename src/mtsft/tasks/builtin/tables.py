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

# ---- more rows (each table's rows are split into training and held-out rows by partition.py) ----------
PEOPLE += [
    {"en": "Huang Min", "zh": "黄敏"}, {"en": "Xu Ming", "zh": "徐明"}, {"en": "Ma Li", "zh": "马丽"},
    {"en": "Zhu Hong", "zh": "朱红"}, {"en": "He Jun", "zh": "何军"}, {"en": "Gao Yan", "zh": "高燕"},
    {"en": "Luo Bin", "zh": "罗斌"}, {"en": "Zheng Hui", "zh": "郑慧"}, {"en": "Liang Chen", "zh": "梁晨"},
    {"en": "Song Jia", "zh": "宋佳"}, {"en": "Tang Ning", "zh": "唐宁"}, {"en": "Han Bing", "zh": "韩冰"},
    {"en": "Feng Yu", "zh": "冯宇"}, {"en": "Deng Hao", "zh": "邓浩"}, {"en": "Cao Yue", "zh": "曹悦"},
    {"en": "Peng Fei", "zh": "彭飞"}, {"en": "Xie Lan", "zh": "谢兰"}, {"en": "Ye Qing", "zh": "叶青"},
    {"en": "Du Kai", "zh": "杜凯"}, {"en": "Jiang Wen", "zh": "蒋文"}, {"en": "Emma Wilson", "zh": "艾玛·威尔逊"},
    {"en": "Lucas Martin", "zh": "卢卡斯·马丁"}, {"en": "Sofia Rossi", "zh": "索菲亚·罗西"},
    {"en": "James Carter", "zh": "詹姆斯·卡特"}, {"en": "Olivia Brown", "zh": "奥利维亚·布朗"},
    {"en": "Yuki Tanaka", "zh": "田中由纪"}, {"en": "Park Ji-woo", "zh": "朴智宇"}, {"en": "Ivan Petrov", "zh": "伊万·彼得罗夫"},
    {"en": "Fatima Khan", "zh": "法蒂玛·汗"}, {"en": "Noah Fischer", "zh": "诺亚·菲舍尔"},
]
CITIES += [
    {"en": "Wuhan", "zh": "武汉"}, {"en": "Changsha", "zh": "长沙"}, {"en": "Chongqing", "zh": "重庆"},
    {"en": "Tianjin", "zh": "天津"}, {"en": "Shenyang", "zh": "沈阳"}, {"en": "Jinan", "zh": "济南"},
    {"en": "Zhengzhou", "zh": "郑州"}, {"en": "Hefei", "zh": "合肥"}, {"en": "Fuzhou", "zh": "福州"},
    {"en": "Nanning", "zh": "南宁"}, {"en": "Guiyang", "zh": "贵阳"}, {"en": "Taiyuan", "zh": "太原"},
    {"en": "Shijiazhuang", "zh": "石家庄"}, {"en": "Changchun", "zh": "长春"}, {"en": "Hohhot", "zh": "呼和浩特"},
    {"en": "Urumqi", "zh": "乌鲁木齐"}, {"en": "Lhasa", "zh": "拉萨"}, {"en": "Xining", "zh": "西宁"},
    {"en": "Yinchuan", "zh": "银川"}, {"en": "Haikou", "zh": "海口"}, {"en": "Sanya", "zh": "三亚"},
    {"en": "Ningbo", "zh": "宁波"}, {"en": "Wuxi", "zh": "无锡"}, {"en": "Yangzhou", "zh": "扬州"},
    {"en": "Luoyang", "zh": "洛阳"}, {"en": "Kaifeng", "zh": "开封"}, {"en": "Dali", "zh": "大理"},
    {"en": "Lijiang", "zh": "丽江"}, {"en": "Zhuhai", "zh": "珠海"}, {"en": "Shantou", "zh": "汕头"},
]
ORGS += [
    {"en": "Silverline Airlines", "zh": "银线航空"}, {"en": "Red Lantern Media", "zh": "红灯笼传媒"},
    {"en": "Jade River Hotels", "zh": "玉河酒店集团"}, {"en": "Tall Pine Construction", "zh": "高松建设"},
    {"en": "Golden Grain Agriculture", "zh": "金谷农业"}, {"en": "Clearwater Energy", "zh": "清水能源"},
    {"en": "Swift Fox Delivery", "zh": "灵狐快递"}, {"en": "Horizon Robotics Lab", "zh": "地平线机器人实验室"},
    {"en": "Lotus Health Clinics", "zh": "莲花健康诊所"}, {"en": "Iron Bridge Machinery", "zh": "铁桥机械"},
    {"en": "Starfield Games", "zh": "星野游戏"}, {"en": "Peach Blossom Cosmetics", "zh": "桃花化妆品"},
    {"en": "Eastwind Telecom", "zh": "东风电信"}, {"en": "Harvest Moon Foods", "zh": "丰月食品"},
    {"en": "Crystal Lake Water", "zh": "晶湖饮用水"}, {"en": "Skyline Architects", "zh": "天际线建筑设计"},
    {"en": "Evergreen Insurance", "zh": "长青保险"}, {"en": "Bamboo Grove Publishing", "zh": "竹林出版社"},
    {"en": "Thunder Peak Sports", "zh": "雷峰体育"}, {"en": "Seabird Shipping", "zh": "海鸟航运"},
    {"en": "Oakwood Furniture", "zh": "橡木家具"}, {"en": "Brightpath Education", "zh": "明途教育"},
]
SHOPS += [
    {"en": "barber shop", "zh": "理发店"}, {"en": "dumpling restaurant", "zh": "饺子馆"}, {"en": "toy shop", "zh": "玩具店"},
    {"en": "hardware store", "zh": "五金店"}, {"en": "coffee shop", "zh": "咖啡馆"}, {"en": "tailor's shop", "zh": "裁缝店"},
    {"en": "music shop", "zh": "乐器行"}, {"en": "pharmacy", "zh": "药店"}, {"en": "photo studio", "zh": "照相馆"},
    {"en": "fruit shop", "zh": "水果店"}, {"en": "shoe repair shop", "zh": "修鞋铺"}, {"en": "dessert shop", "zh": "甜品店"},
    {"en": "stationery shop", "zh": "文具店"}, {"en": "hot pot restaurant", "zh": "火锅店"}, {"en": "pet shop", "zh": "宠物店"},
    {"en": "laundry", "zh": "洗衣店"}, {"en": "tea shop", "zh": "茶叶店"}, {"en": "dance studio", "zh": "舞蹈工作室"},
]
PLACES += [
    {"en": "ancient temple", "zh": "古寺"}, {"en": "science museum", "zh": "科技馆"}, {"en": "zoo", "zh": "动物园"},
    {"en": "old town", "zh": "古镇"}, {"en": "city aquarium", "zh": "海洋馆"}, {"en": "riverside walk", "zh": "滨江步道"},
    {"en": "bell tower", "zh": "钟楼"}, {"en": "tea plantation", "zh": "茶园"}, {"en": "stone bridge", "zh": "石拱桥"},
    {"en": "city library", "zh": "市图书馆"}, {"en": "opera house", "zh": "大剧院"}, {"en": "mountain temple", "zh": "山顶寺庙"},
    {"en": "food street", "zh": "美食街"}, {"en": "silk museum", "zh": "丝绸博物馆"}, {"en": "bamboo forest", "zh": "竹林"},
    {"en": "hot spring", "zh": "温泉"}, {"en": "sculpture park", "zh": "雕塑公园"}, {"en": "flower market", "zh": "花市"},
]
ITEMS += [
    {"en": "porcelain bowl", "zh": "瓷碗"}, {"en": "embroidered purse", "zh": "绣花钱包"}, {"en": "bamboo basket", "zh": "竹篮"},
    {"en": "tin of tea", "zh": "罐装茶叶"}, {"en": "clay teapot", "zh": "紫砂壶"}, {"en": "paper lantern", "zh": "纸灯笼"},
    {"en": "calligraphy brush", "zh": "毛笔"}, {"en": "wool hat", "zh": "毛线帽"}, {"en": "box of pastries", "zh": "一盒糕点"},
    {"en": "postcard set", "zh": "明信片套装"}, {"en": "carved seal", "zh": "篆刻印章"}, {"en": "cotton shirt", "zh": "棉衬衫"},
    {"en": "leather wallet", "zh": "皮钱包"}, {"en": "music box", "zh": "八音盒"}, {"en": "woven rug", "zh": "编织地毯"},
    {"en": "glass vase", "zh": "玻璃花瓶"}, {"en": "wooden toy train", "zh": "木制小火车"}, {"en": "jar of honey", "zh": "一罐蜂蜜"},
]
PRODUCTS += [
    {"en": "a noise-cancelling headset", "zh": "一款降噪耳机"}, {"en": "a plant-based burger", "zh": "一款植物肉汉堡"},
    {"en": "a children's reading tablet", "zh": "一款儿童阅读平板"}, {"en": "a portable coffee maker", "zh": "一款便携咖啡机"},
    {"en": "a robot vacuum cleaner", "zh": "一款扫地机器人"}, {"en": "a fitness tracking ring", "zh": "一款健身指环"},
    {"en": "an electric rice cooker", "zh": "一款电饭煲"}, {"en": "a foldable phone", "zh": "一款折叠屏手机"},
    {"en": "a sugar-free green tea drink", "zh": "一款无糖绿茶饮料"}, {"en": "a pet-feeding camera", "zh": "一款宠物喂食摄像头"},
    {"en": "a solar phone charger", "zh": "一款太阳能手机充电器"}, {"en": "an air purifier", "zh": "一款空气净化器"},
    {"en": "a smart door lock", "zh": "一款智能门锁"}, {"en": "a lightweight running shoe", "zh": "一款轻量跑鞋"},
    {"en": "a bamboo toothbrush", "zh": "一款竹制牙刷"}, {"en": "an e-book reader", "zh": "一款电子书阅读器"},
    {"en": "a home weather station", "zh": "一款家用气象站"}, {"en": "a camping stove", "zh": "一款露营炉"},
]
