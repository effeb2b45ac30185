"""Static vocabularies of the synthetic city: names, homophones, places, institutions, workplaces, value sets.

Everything here is plain data (tuples / dicts). Character pools are indexed: a person's given name is stored as
indices into :data:`GIVEN_CHARS`, which keeps name generation, namesakes and homophone typos vectorised.
"""

from __future__ import annotations

from functools import lru_cache

# --------------------------------------------------------------------------------------------- surnames
# (surname, relative weight). Liuzhou (Han + Zhuang) overall; Guangxi-typical 韦 覃 蒙 莫 廖 梁 潘 …
SURNAMES_GENERAL: tuple[tuple[str, float], ...] = (
    ("韦", 8),
    ("黄", 6),
    ("李", 6),
    ("覃", 5),
    ("陈", 5),
    ("莫", 4),
    ("梁", 4),
    ("刘", 4),
    ("杨", 4),
    ("王", 4),
    ("张", 4),
    ("廖", 3),
    ("蒙", 3),
    ("潘", 3),
    ("陆", 3),
    ("吴", 3),
    ("罗", 3),
    ("周", 2),
    ("谢", 2),
    ("何", 2),
    ("龙", 2),
    ("邓", 2),
    ("卢", 2),
    ("赵", 1.5),
    ("石", 1.5),
    ("蓝", 1.5),
    ("曾", 1.5),
    ("唐", 1.5),
    ("谭", 1.5),
    ("钟", 1),
    ("胡", 1),
    ("朱", 1),
    ("欧", 1),
    ("彭", 1),
    ("孙", 0.8),
    ("徐", 0.8),
    ("秦", 0.8),
    ("邱", 0.8),
    ("甘", 0.8),
    ("贾", 0.5),
    ("粟", 0.5),
    ("银", 0.5),
    ("兰", 0.5),
    ("麦", 0.3),
    ("马", 0.8),
    ("林", 1),
)
# 融水苗族自治县 / 三江侗族自治县: Miao, Dong and Yao surnames dominate.
SURNAMES_MINORITY: tuple[tuple[str, float], ...] = (
    ("杨", 12),
    ("吴", 10),
    ("石", 6),
    ("龙", 6),
    ("梁", 5),
    ("潘", 5),
    ("韦", 5),
    ("贾", 3),
    ("粟", 3),
    ("蒙", 3),
    ("欧", 2),
    ("荣", 2),
    ("胡", 2),
    ("陆", 2),
    ("李", 2),
    ("陈", 2),
    ("黄", 2),
    ("侯", 1.5),
    ("王", 1.5),
    ("张", 1),
    ("曹", 1),
    ("赖", 1),
    ("覃", 1),
    ("廖", 1),
    ("莫", 1),
    ("银", 0.8),
    ("谢", 0.8),
)

# --------------------------------------------------------------------------------------------- given names
MALE_CHARS = (
    "明华伟军强杰勇刚平辉荣贵福光成德文林建国志波海生春金新宏永东忠俊进兵良江山松庆家保发祥安和宁富益"
    "飞云峰宇洪涛超斌鹏浩正昌仁义礼学汉忠武财秋有达先开朝元"
)
FEMALE_CHARS = "丽芳英红玲静秀兰梅花珍凤春燕霞萍妹娟琴艳莲玉桂月香美翠群敏婷雪丹娜金银菊晓佳慧芬爱姣"
#: generational characters (字辈) shared by siblings, mostly first given character of sons
GENERATION_CHARS = "光家永世德继承昌正朝国明建文宗启孝"
#: second parts of dotted (transliterated minority) given names: 杨·阿妹, 吴·老略 …
DOT_GIVEN = ("阿妹", "阿花", "老略", "金妹", "勇帮", "阿娘", "老岩", "银花", "阿秀", "乃宝", "卜金", "老英")

#: Homophone groups (identical toneless pinyin; checked in tests with pypinyin). A typo replaces one given-name
#: character by another member of its group: 王小明 → 王晓明.
HOMOPHONE_GROUPS = (
    "小晓筱",
    "明鸣铭",
    "华化桦花",
    "伟玮炜",
    "丽莉俐",
    "芳方",
    "军君钧俊骏峻",
    "杰洁",
    "平萍坪",
    "英瑛",
    "红洪宏虹",
    "玲铃伶",
    "静晶菁",
    "秀绣",
    "兰蓝岚",
    "梅玫媚美妹",
    "生升声",
    "春椿",
    "金今津锦进晋",
    "文雯",
    "林琳霖",
    "建剑健",
    "志智治",
    "勇永泳",
    "刚钢",
    "辉晖徽",
    "荣蓉容",
    "贵桂",
    "光广",
    "成诚城",
    "德得",
    "玉钰",
    "云芸",
    "凤峰锋",
    "珍贞",
    "新欣鑫",
    "宁凝",
    "燕艳雁",
    "霞侠",
    "娟鹃",
    "琴芹勤",
    "群裙",
    "敏民",
    "香湘祥翔",
    "月悦越",
    "福富",
    "波博",
    "东冬",
    "良梁",
    "江疆",
    "山珊",
    "庆清青",
    "家佳嘉",
    "保宝",
    "忠中",
    "兵冰",
    "海",
    "婷亭",
    "雪",
    "丹单",
    "菊",
    "慧惠",
    "芬纷",
    "爱",
    "飞菲",
    "涛滔",
    "超",
    "斌彬",
    "鹏朋",
    "浩豪",
    "正政",
    "昌",
    "仁",
    "义艺",
    "学",
    "汉",
    "武",
    "财才",
    "秋",
    "有友",
    "达",
    "先",
    "开",
    "朝",
    "元园",
    "宇",
    "益",
    "发",
    "安",
    "和禾",
    "强",
    "刚",
    "银",
    "翠",
    "娜",
    "姣",
    "佳",
    "世",
    "继",
    "承",
    "宗",
    "启",
    "孝",
    "国",
    "松",
    "莲",
    "燕",
    "香",
    "贤",
)


# --------------------------------------------------------------------------------------------- names by birth cohort
# Given names follow their time (公安部《全国姓名报告》2019–2021: the most used two-character given name is 秀英,
# 2.169 M bearers, almost all women born before 1965; the most used one-character name is 伟, 3.236 M bearers, men
# born 1965–1995; 1950s boys 建国/建华, newborns of 2020–21 沐宸/浩宇/若汐/一诺). A person draws a *fashion* name of
# their birth cohort and sex with probability FASHION_SHARE, else composes one from the cohort's characters (one
# character with probability SINGLE_SHARE). Weights inside a list fall with rank (Zipf, exponent FASHION_ZIPF /
# POOL_ZIPF), so 秀英 ends up ≈ 1.2 % of the women of its cohorts, 伟 ≈ 1 % of the men of his — the published shares.
#: first birth year of cohorts 1..5 (cohort 0: born before 1950)
COHORT_STARTS = (1950, 1965, 1980, 1995, 2010)
COHORT_LABELS = ("1949年及以前", "1950—1964年", "1965—1979年", "1980—1994年", "1995—2009年", "2010年及以后")
FASHION_FEMALE = (
    "秀英 桂英 秀兰 玉兰 桂兰 秀珍 凤英 玉英 兰英 玉珍 秀芳 桂珍 翠英 秀云 桂芳 玉梅 金莲 月英 素珍 金妹 秀妹 美英 二妹 桂香 玉秀",
    "秀英 桂英 秀兰 玉兰 秀珍 凤英 桂兰 玉梅 桂芳 秀云 丽华 秀梅 玉珍 美华 秀琼 玉凤 春梅 桂香 爱华 玉英 金凤 秀芬 美玲 月娥 凤娟",
    "丽 红 艳 燕 霞 玲 芳 敏 丽华 红梅 海燕 艳红 春梅 秀梅 丽萍 小红 桂香 美玲 金凤 丽娟 春燕 玉梅 红霞 小燕 翠萍",
    "丽 娟 艳 婷 静 敏 燕 芳 丽丽 丹丹 婷婷 晓燕 小燕 雪梅 玉婷 春燕 美玲 海燕 倩 晓丽 丽娟 秋菊 雪 莉 琳",
    "婷 雪 欣怡 佳怡 雨欣 思琪 梦婷 婷婷 欣 佳慧 雨婷 诗琪 慧敏 晓雪 思雨 心怡 雨涵 梓涵 佳琪 雅婷 静怡 丽萍 金凤 美琪 玉婷",
    "一诺 欣怡 梓涵 雨桐 若汐 依诺 梓萱 语桐 可欣 紫涵 诗涵 思涵 雨涵 欣妍 子涵 语汐 梦瑶 佳怡 芷若 艺涵 欣悦 雨萱 诗琪 沐晴 梓琪",
)
FASHION_MALE = (
    "德明 永福 德福 有才 光明 福生 德胜 树林 志明 国华 金生 福 贵 荣 文 明 桂林 家福 德华 正华 秀山 金华 永昌 德才 有福",
    "建国 建华 国华 建军 国强 建平 德明 志明 和平 国庆 卫国 建新 文华 明 军 光明 永红 国平 伟 志强 建明 红军 振华 援朝 跃进",
    "勇 军 伟 强 斌 建华 志强 海 波 平 刚 华 建军 红军 卫东 小平 东 宁 永 明 建 辉 俊 卫华 海军",
    "伟 涛 磊 杰 勇 强 军 超 鹏 斌 俊 浩 健 亮 华 明 峰 刚 文 海 小龙 志伟 俊杰 海波 伟华",
    "浩 杰 宇 俊 鑫 浩然 子豪 俊杰 宇航 晨 鹏 旭 凯 家豪 文杰 博 宇轩 子轩 志豪 佳豪 俊宇 浩宇 明辉 泽宇 嘉豪",
    "子轩 浩宇 宇轩 奕辰 梓豪 浩然 子墨 宇航 沐宸 一鸣 俊熙 梓轩 宇泽 子睿 皓轩 铭泽 博文 睿 思远 嘉豪 沐辰 俊宇 宇辰 亦辰 梓睿",
)
#: characters composed names are made of, by cohort (most used first)
POOL_FEMALE = (
    "秀英兰珍桂玉凤梅芳云琼香莲娥翠素金美月春花菊爱群妹娟",
    "秀英兰桂玉凤梅芳云华琼香莲翠金美月春花菊爱群妹娟丽萍",
    "丽红艳燕霞玲芳敏娟萍琴静梅春秋海美玉金慧英华凤翠桂莲",
    "丽娟艳婷静燕芳敏萍琴梅雪莉琳丹倩晓春秋海美玉金慧玲霞",
    "婷雪欣怡佳慧雨思琪诗雅静心晓梦丽美玉敏蓉倩妍悦萍琳丹",
    "欣怡雨涵梓萱诗琪思佳慧雅语桐若汐可紫妍瑶晴依诺芷萌悦",
)
POOL_MALE = (
    "德明福贵荣文光成国华林生金永家有才胜山正昌发祥忠义顺田",
    "建国华军强伟平志明德文光成林生金永家荣新红卫庆东和正忠",
    "建国华军强伟平志明勇刚海波东辉红卫新斌宁俊文荣林金永忠",
    "伟涛磊杰勇强军超鹏斌俊浩健亮华明峰刚文海龙志辉波东宁新",
    "浩宇杰俊鑫晨鹏旭凯家豪文博轩子志佳泽嘉明辉俊峰磊航然睿",
    "浩宇轩子豪辰泽睿杰俊博文鑫晨凯鹏旭嘉铭皓熙沐一航然梓奕",
)
FASHION_SHARE = (0.03, 0.03, 0.03, 0.03, 0.03, 0.03)
SINGLE_SHARE = (0.10, 0.12, 0.18, 0.16, 0.06, 0.03)
FASHION_ZIPF = 0.8
POOL_ZIPF = 0.3
#: Guangxi-typical surnames of heads of household in 壮 areas and the city overall, with village clans: each
#: village has CLAN_SURNAMES surnames of its own that CLAN_SHARE of its households carry (a 韦 village, a 覃 village)
CLAN_SURNAMES = 2
CLAN_SHARE = 0.45
#: where people who are not in the rural registry come from: (address code, place text, kind)
#: kind: city (urban districts of Liuzhou: an ID region code inside the city), guangxi (another city of Guangxi),
#: province (another province)
OUTSIDER_AREAS = (
    ("450202", "柳州市城中区", "city"),
    ("450203", "柳州市鱼峰区", "city"),
    ("450204", "柳州市柳南区", "city"),
    ("450205", "柳州市柳北区", "city"),
    ("450102", "南宁市兴宁区", "guangxi"),
    ("450103", "南宁市青秀区", "guangxi"),
    ("450305", "桂林市七星区", "guangxi"),
    ("451202", "河池市金城江区", "guangxi"),
    ("451302", "来宾市兴宾区", "guangxi"),
    ("450802", "贵港市港北区", "guangxi"),
    ("452226", "来宾市象州县", "guangxi"),
    ("441900", "广东省东莞市", "province"),
    ("440306", "广东省深圳市宝安区", "province"),
    ("440106", "广东省广州市天河区", "province"),
    ("430111", "湖南省长沙市雨花区", "province"),
    ("431227", "湖南省新晃侗族自治县", "province"),
    ("522631", "贵州省黎平县", "province"),
    ("522632", "贵州省榕江县", "province"),
    ("522633", "贵州省从江县", "province"),
)
#: surnames of people from other provinces (national order: 王 李 张 刘 陈 …)
SURNAMES_NATIONAL: tuple[tuple[str, float], ...] = (
    ("王", 7.2),
    ("李", 7.1),
    ("张", 6.8),
    ("刘", 5.4),
    ("陈", 4.5),
    ("杨", 3.1),
    ("黄", 2.5),
    ("赵", 2.3),
    ("吴", 2.0),
    ("周", 1.9),
    ("徐", 1.5),
    ("孙", 1.4),
    ("马", 1.3),
    ("朱", 1.3),
    ("胡", 1.2),
    ("郭", 1.2),
    ("何", 1.1),
    ("林", 1.1),
    ("罗", 1.0),
    ("梁", 0.9),
)


@lru_cache(maxsize=1)
def given_pool() -> tuple[tuple[str, ...], dict[str, int], tuple[int, ...]]:
    """(chars, index of char, homophone alternative index or -1 per char)."""
    chars: list[str] = []
    sources = (MALE_CHARS, FEMALE_CHARS, GENERATION_CHARS, "".join(DOT_GIVEN), "".join(HOMOPHONE_GROUPS))
    sources += FASHION_FEMALE + FASHION_MALE + POOL_FEMALE + POOL_MALE
    for text in sources:
        for c in text.replace(" ", ""):
            if c not in chars:
                chars.append(c)
    index = {c: i for i, c in enumerate(chars)}
    alt = [-1] * len(chars)
    for group in HOMOPHONE_GROUPS:
        members = list(dict.fromkeys(group))
        if len(members) < 2:
            continue
        for i, c in enumerate(members):
            alt[index[c]] = index[members[1] if i == 0 else members[0]]
    return tuple(chars), index, tuple(alt)


@lru_cache(maxsize=1)
def traditional_map() -> dict[str, str]:
    """Simplified → traditional for the characters used in names, restricted to GBK-encodable traditional forms."""
    import opencc

    cc = opencc.OpenCC("s2t")
    chars, _, _ = given_pool()
    pool = set(chars) | set(surname_list())
    out = {}
    for c in sorted(pool):
        t = cc.convert(c)
        if t != c and len(t) == 1:
            try:
                t.encode("gbk")
            except UnicodeEncodeError:
                continue
            out[c] = t
    return out


# --------------------------------------------------------------------------------------------- places
COUNTY_WEIGHTS = {  # share of rural registry households (融水 三江 融安 柳城 鹿寨 柳江 most)
    "450225": 0.17,
    "450226": 0.13,
    "450224": 0.11,
    "450222": 0.14,
    "450223": 0.13,
    "450206": 0.17,
    "450203": 0.05,
    "450204": 0.04,
    "450205": 0.05,
    "450202": 0.005,
}
URBAN_DISTRICTS = ("450202", "450203", "450204", "450205")
#: 城中区 has only 街道; its few rural households live in these.
CHENGZHONG_RURAL_TOWNSHIPS = ("静兰街道", "河东街道")
SHORT_COUNTY = {
    "450202": "城中区",
    "450203": "鱼峰区",
    "450204": "柳南区",
    "450205": "柳北区",
    "450206": "柳江区",
    "450222": "柳城县",
    "450223": "鹿寨县",
    "450224": "融安县",
    "450225": "融水县",
    "450226": "三江县",
}
TUOPIN_SHARE = {"450225": 0.35, "450226": 0.35, "450224": 0.2, "450222": 0.12, "450223": 0.1, "450206": 0.1}
DEEP_POOR_SHARE = {"450225": 0.3, "450226": 0.3, "450224": 0.1}
RELOCATED_SHARE = {"450225": 0.05, "450226": 0.05, "450224": 0.03, "450222": 0.02, "450223": 0.02, "450206": 0.015}
RESETTLEMENT_COMMUNITIES = {"450225": 4, "450226": 3, "450224": 2, "450222": 2, "450223": 1, "450206": 1}
RESETTLEMENT_NAMES = (
    "幸福",
    "和谐",
    "民族新城",
    "阳光",
    "安居",
    "福民",
    "新城",
    "兴业",
    "康居",
    "乐业",
    "苗家新村",
    "侗乡新城",
)

VILLAGE_FIRST = "大小上下新老东西南北高龙凤石古平长安良和同江洞岭坪田塘板那六福民富兴红双三杆滚香白拱林梅马沙中九黄金"
VILLAGE_SECOND = "坪洞寨岭田塘江头口冲坡山水桥溪河陇平安和团宁乐门岩竹木峒良荣勇美丰华林湾岸"
HAMLET_SUFFIX = ("屯", "寨", "组")

# --------------------------------------------------------------------------------------------- department values
CITY_HOSPITALS = (
    "柳州市人民医院",
    "柳州市工人医院",
    "柳州市中医医院",
    "广西科技大学第一附属医院",
    "柳州市柳铁中心医院",
    "柳州市妇幼保健院",
)
PROVINCE_HOSPITALS = ("广西医科大学第一附属医院", "广西壮族自治区人民医院", "广西医科大学附属肿瘤医院")
DIAGNOSES_MINOR = (
    "高血压",
    "2型糖尿病",
    "慢性支气管炎",
    "肺炎",
    "急性胃肠炎",
    "腰椎间盘突出",
    "冠心病",
    "慢性胃炎",
    "上呼吸道感染",
    "骨关节炎",
)
DIAGNOSES_MAJOR = (
    "恶性肿瘤（肺癌）",
    "恶性肿瘤（肝癌）",
    "尿毒症（血液透析）",
    "脑出血",
    "急性心肌梗死",
    "重型颅脑损伤",
    "白血病",
    "股骨颈骨折",
)
DISASTER_TYPES = ("洪涝", "地质灾害", "风雹", "旱灾")
WORK_PLACES = (
    "广东省东莞市",
    "广东省广州市",
    "广东省深圳市",
    "广东省佛山市",
    "广东省中山市",
    "浙江省宁波市",
    "福建省厦门市",
    "广西南宁市",
    "广西柳州市",
    "广东省惠州市",
)
COMPANY_WORDS = ("宏达", "富华", "金源", "永盛", "恒信", "华兴", "立信", "鸿发", "通达", "美佳", "国泰", "德力")
COMPANY_KINDS = (
    "电子有限公司",
    "服装厂",
    "建筑工程有限公司",
    "玩具厂",
    "家具有限公司",
    "物流有限公司",
    "塑胶制品厂",
    "汽车配件有限公司",
)

RELATION_SEX = {  # relation → required sex (None = either)
    "户主": None,
    "配偶": None,
    "之子": "男",
    "之女": "女",
    "之儿媳": "女",
    "之女婿": "男",
    "之孙子": "男",
    "之孙女": "女",
    "之父": "男",
    "之母": "女",
}
LABOUR_WITH_CAPACITY = ("技能劳动力", "普通劳动力", "弱劳动力或半劳动力")
LABOUR_NONE = ("丧失劳动力", "无劳动力")

# --------------------------------------------------------------------------------------------- coded value sets
# Columns are generated as integer codes and turned into text with :func:`lut` (a gather on a tiny Series), which is
# far faster than building polars strings from numpy string arrays.
LABOURS = ("技能劳动力", "普通劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力")  # code ≤ 2: has labour capacity
HEALTHS = ("健康", "长期慢性病", "患有大病", "残疾")
_GR = "一二三四五六"
STUDENTS = (
    ("非在校生", "学龄前儿童", "学前教育")
    + tuple(f"小学{g}年级" for g in _GR)
    + ("七年级", "八年级", "九年级")
    + tuple(f"高中{g}年级" for g in _GR[:3])
    + tuple(f"中职{g}年级" for g in _GR[:3])
    + tuple(f"高职高专{g}年级" for g in _GR[:3])
    + ("本科四年级",)
)
RELATIONS = ("户主", "配偶", "之子", "之女", "之儿媳", "之女婿", "之孙子", "之孙女", "之父", "之母")
HTYPES = ("一般农户", "脱贫户")
MCATS = ("", "脱贫不稳定户", "边缘易致贫户", "突发严重困难户")
ELIMS = ("", "否", "是")
DIBAOS = ("未享受", "农村低保")
TEKUNS = ("未享受", "农村特困")
YESNO = ("否", "是")


@lru_cache(maxsize=1)
def surname_list() -> tuple[str, ...]:
    lists = (SURNAMES_GENERAL, SURNAMES_MINORITY, SURNAMES_NATIONAL)
    return tuple(dict.fromkeys(s for table in lists for s, _ in table))


def lut(values, codes):
    """Text column from integer codes: ``values[codes]`` as a polars String Series."""
    import numpy as np
    import polars as pl

    return pl.Series(list(values), dtype=pl.String).gather(np.asarray(codes, dtype=np.int64))
