"""Composed training examples: bot/data/nlu/composed.yml, built from parts instead of written.

The written examples are whole sentences, one detail or one need at a time; people type a need as
a run-on list of details in any order (company, contact and mobile, quantity and product, place,
deadline, service mode), answer a form's question with a bare detail, tell a grievance as a story
and ask for a person when they are fed up. Each block here pairs the parts of one intent with the
parts of the intent it is confused with (contrastive pairs): a detail with a need verb is
request_service, the same detail alone is inform; a date with the weather is out_of_scope, alone it
is inform; a parcel's state is out_of_scope, a demand's or report's state is check_progress; a
fault of an institution is file_complaint, a fault of the bot is request_human; how a service is
done is ask_faq, who can do it for us is request_service.

Values come from the lookups (bot/data/lookups) and from small lists here (names, companies,
numbers, dates); choices are made by a seeded generator, so the file is the same on every run.
A composed text equal or close to a text of the held-out sets (bench/data) is left out, so that
those sets keep measuring wording nobody trained on (``close``: a similarity ratio ≥ 0.8).

    .venv/bin/python -m bot.nlu.compose          # rewrite bot/data/nlu/composed.yml
    .venv/bin/python -m bot.nlu.compose --check  # fail when the file is not what it gives
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable
from difflib import SequenceMatcher

import yaml

from bot.nlu.phone_style import HELD_OUT, NLU, REPO, load, plain

OUT = NLU / "composed.yml"
LOOKUPS = REPO / "bot" / "data" / "lookups"
SEED = 1063
CLOSE = 0.8  # a composed text this similar to a held-out text is left out

# no surname that is also an everyday word here (钱, 金, 华, 严, 施)
SURNAMES = "赵孙李周吴郑冯陈蒋沈韩杨朱秦许何吕张曹魏陶姜谢邹"
GIVEN = ("建华", "海燕", "志明", "红梅", "国强", "晓峰", "丽君", "文斌", "春生", "雪芳", "立新")
TITLES = ("经理", "工", "主任", "总", "师傅", "科长")
FIRMS = ("恒信", "华联", "金达", "永盛", "宏图", "新力", "博远", "天成", "瑞丰", "东方")
TRADES = ("精密机械", "电气", "化工", "纺织", "金属制品", "电子科技", "塑业", "管业", "线缆")
NUMBERS = ("5", "8", "12", "20", "30", "60", "150", "两", "三", "五", "十几", "二十多", "几十",
           "一百多", "三百")  # fmt: skip
UNITS = ("台", "件", "个", "只", "套", "根", "米", "吨", "块", "卷", "箱")
WEEKDAYS = "一二三四五六"
VERBS = ("检测", "校准", "检定", "送检", "做检测", "做型式试验", "测硬度", "测拉伸强度",
         "测绝缘电阻", "做耐压试验", "做盐雾试验", "测尺寸", "做成分分析",
         "做能效检测")  # fmt: skip
MODES = (("送样", "送样"), ("寄样", "送样"), ("送检", "送样"), ("上门", "上门"),
         ("上门服务", "上门"), ("上门取样", "上门"), ("预约", "预约"))  # fmt: skip
SEPARATORS = ("，", " ", "", "，", " ")


class Parts:
    """Entity values, annotated the way bot/data/nlu writes them."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.products = _lookup("product.yml")
        self.places = [p for p in _lookup("place.yml") if len(p) >= 2]
        # a county-level city and one of its towns, written as one place (江阴市华士镇)
        towns = {"江阴市": _lookup("place.yml", block=1), "宜兴市": YIXING_TOWNS}
        self.compounds = [
            city + town for city, names in towns.items() for town in names if town[-1] in "镇道"
        ]

    def pick(self, options: tuple[str, ...] | list[str]) -> str:
        return options[self.rng.randrange(len(options))]

    def product(self) -> str:
        return f"[{self.pick(self.products)}](product)"

    def place(self) -> str:
        name = self.pick(self.compounds if self.rng.randrange(2) else self.places)
        return f"[{name}](place)"

    def person(self) -> str:
        surname = self.pick(SURNAMES)
        form = self.rng.randrange(3)
        name = surname + (self.pick(GIVEN) if form == 0 else self.pick(TITLES) if form else "")
        if form == 2:
            name = "小" + surname
        return f"[{name}](person)"

    def surname(self) -> str:
        return f"[{self.pick(SURNAMES)}](person)"

    def company(self) -> str:
        # no place name in front: DIET would learn that a place starts a company
        suffix = self.pick(("有限公司", "有限公司", "股份有限公司", "厂"))
        return f"[{self.pick(FIRMS)}{self.pick(TRADES)}{suffix}](company)"

    def mobile(self) -> str:
        digits = "1" + self.pick("3456789") + "".join(self.pick("0123456789") for _ in range(9))
        if self.rng.randrange(4) == 0:
            digits = f"{digits[:3]} {digits[3:7]} {digits[7:]}"
        return f"[{digits}](mobile)"

    def quantity(self) -> str:
        return f"[{self.pick(NUMBERS)}{self.pick(UNITS)}](quantity)"

    def date(self) -> str:
        day = self.pick(WEEKDAYS)
        n = self.pick(("3", "5", "7", "两", "三", "十"))
        month, of_month = self.rng.randrange(1, 13), self.rng.randrange(1, 29)
        options = (
            f"下周{day}", f"下周{day}前", f"本周{day}前", f"下礼拜{day}之前", f"本周{day}",
            f"{n}天内", f"{n}个工作日内", f"{month}月{of_month}号前",
            "月底前", "下个月初", "下个月中旬", "年底前", "这两天", "大后天", "明天", "尽快",
            "越快越好", "春节前", "五一前", "两周内", "二十天内", "下下周",
        )  # fmt: skip
        return f"[{self.pick(options)}](date)"

    def mode(self) -> str:
        text, value = self.pick(MODES)
        return f'[{text}]{{"entity": "service_mode", "value": "{value}"}}'


YIXING_TOWNS = ("丁蜀镇", "和桥镇", "官林镇", "张渚镇", "周铁镇", "徐舍镇", "高塍镇", "新街街道")


def _lookup(name: str, block: int | None = None) -> list[str]:
    """The values of a lookup file (of its ``block``-th lookup only, when given)."""
    values: list[str] = []
    data = yaml.safe_load((LOOKUPS / name).read_text(encoding="utf-8"))
    lookups = [b for b in data.get("nlu", []) if "lookup" in b]
    for found in lookups if block is None else lookups[block : block + 1]:
        values += [v[2:].strip() for v in found["examples"].splitlines() if v.startswith("- ")]
    return values


def need(p: Parts) -> str:
    """A need typed as a run-on list of details around one need phrase (request_service)."""
    core = p.pick((
        "有{q}{p}要{v}", "{p}要{v}", "我们{q}{p}需要{v}", "想找个机构{v}{p}", "{p}{v}找谁",
        "哪家能{v}{p}", "帮忙对接下{v}{p}的机构", "{q}{p}该{v}了", "{p}要{v} 有{q}",
        "我们做{p}的 想找地方{v}",
    )).format(q=p.quantity(), p=p.product(), v=p.pick(VERBS))  # fmt: skip
    optional: list[Callable[[], str]] = [
        lambda: p.pick(("我们是{}", "{}的", "{}")).format(p.company()),
        lambda: p.pick(("联系人{}{}", "{} {}", "找{}电话{}")).format(p.person(), p.mobile()),
        lambda: p.pick(("在{}", "厂在{}", "{}这边")).format(p.place()),
        lambda: p.pick(("{}要结果", "{}要报告", "最好{}", "{}出来")).format(p.date()),
        lambda: p.pick(("{}", "可以{}", "希望{}")).format(p.mode()),
    ]
    p.rng.shuffle(optional)
    segments = [make() for make in optional[: p.rng.randrange(1, 5)]]
    segments.insert(p.rng.randrange(len(segments) + 1), core)
    sep = p.pick(SEPARATORS)
    return sep.join(segments)


def detail(p: Parts) -> str:
    """A bare answer to a form's question: one or two details, no need verb (inform)."""
    kind = p.pick(
        (
            ("{d}", "{d}", "{d}吧", "{d}就行", "最好{d}", "时间{d}"),
            ("{q}", "大概{q}", "{q}左右", "差不多{q}吧", "有{q}"),
            ("{n}", "联系人{n}", "{n}负责", "找{n}就行", "我姓{s}", "姓{s}"),
            ("{m}", "手机{m}", "号码{m}", "{n} {m}", "{n}{m}"),
            ("{l}", "{l}", "在{l}", "{l}这块", "厂子在{l}", "{l}的"),
            ("{p}", "{p}", "是{p}", "{p}吧", "产品{p}", "做{p}的", "{q}{p}", "{p} {q}"),
            ("{o}", "{o}吧", "选{o}", "可以{o}", "{o}就行"),
            ("{c}", "公司叫{c}", "单位{c}"),
        )
    )
    return p.pick(kind).format(
        d=p.date(), q=p.quantity(), n=p.person(), s=p.surname(), m=p.mobile(),
        l=p.place(), p=p.product(), o=p.mode(), c=p.company(),
    )  # fmt: skip


WHEN = ("明天", "后天", "今天", "这周末", "下礼拜", "周六", "国庆", "晚上", "早上")
WEATHER = ("会下雨吗", "热不热", "多少度", "刮不刮风", "降温不", "出太阳吗", "有雾霾吗",
           "适合洗车不", "要带伞吗", "冷不冷啊")  # fmt: skip
ORDERS = ("淘宝买的衣服", "外卖", "网购的鞋", "京东的订单", "退款", "机票改签", "火车票候补",
          "寄回老家的快递", "618买的电视", "拼多多的货")  # fmt: skip
ORDER_STATE = ("咋还没到", "到哪了", "怎么还没发货", "有消息没", "成功了没", "啥时候能到",
               "还要等多久", "好几天了还没动静")  # fmt: skip
MINE = ("我那个需求", "我们的校准", "上次送的样", "我提交的单子", "那个投诉", "我的检测报告",
        "证书", "我们登记的事", "上礼拜报的需求", "那个检定", "推荐机构的事")  # fmt: skip
MINE_STATE = ("好了没", "有人管没", "咋样了", "到哪步了", "有结果没", "弄完了吗", "有消息没",
              "还要多久", "啥时候能好", "一直没动静")  # fmt: skip
WHO = ("那家检测公司", "你们推荐的实验室", "计量所的人", "上门的技术员", "认证机构",
       "他们业务员", "检测站", "那个校准公司")  # fmt: skip
FAULT = ("收了钱不干活", "报告一拖再拖", "说话很冲", "把样品弄坏了", "临时加价", "人找不到了",
         "数据对不上还不认", "约好了又不来", "证书上单位写错了不给改", "乱收加急费")  # fmt: skip
AFTER = ("", "打电话也不接", "问了也不回", "耽误我们交货了", "太气人了", "推来推去")
FED_UP = ("说了半天你也不懂", "你这回答没用", "绕来绕去的", "问了好几遍了", "真是急死人",
          "机器回复没意思", "你说的我看不明白")  # fmt: skip
PERSON = ("叫个人来", "换人工", "找个工作人员跟我说", "让专家来", "我要跟真人聊",
          "让工作人员给我回个电话", "转给你们同事")  # fmt: skip
LIFE = ("护照续签", "结婚登记", "房贷提前还款", "学车", "宝宝打疫苗", "装修", "换手机号",
        "办健身卡", "考教师资格证", "租房", "买二手车", "给狗办证", "出国旅游", "补牙",
        "换燃气灶", "孩子转学", "申请公租房", "寄国际快递")  # fmt: skip
SERVICES = ("计量检定", "仪器校准", "3C认证", "型式试验", "委托检验", "专利申请", "商标注册",
            "企业标准备案", "强制检定", "质量诊断", "CMA资质认定")  # fmt: skip
HOW = ("要准备啥材料", "一般多少钱", "要多久", "流程是咋样的", "需要啥条件", "能线上办不",
       "周末能办不", "收费标准是啥", "有没有补贴", "要带营业执照吗")  # fmt: skip
LIFE_HOW = (*HOW[:6], "咋弄", "去哪办", "有啥要注意的")  # the same frames, another topic
WHO_CAN = ("找谁做", "哪家能做", "谁能帮我们做", "帮我们对接下", "有机构能接不")


def blocks(p: Parts) -> dict[str, list[Callable[[], str]]]:
    """Per intent, the makers of its composed examples and how many of each."""
    j = p.pick
    return {
        "request_service": [lambda: need(p)] * 90
        + [lambda: f"{p.product()}{j(('要', '想做', '得做'))}{j(SERVICES)} {j(WHO_CAN)}"] * 25,
        "inform": [lambda: detail(p)] * 100,
        "out_of_scope": [lambda: f"{j(WHEN)}{j(WEATHER)}"] * 30
        + [lambda: f"{j(('我', '我的', '我们家', ''))}{j(ORDERS)}{j(ORDER_STATE)}"] * 30
        + [lambda: f"{j(LIFE)}{j(LIFE_HOW)}"] * 60,
        "check_progress": [lambda: f"{j(MINE)}{j(MINE_STATE)}"] * 50,
        "file_complaint": [lambda: f"{j(WHO)}{j(FAULT)}{j(('', ' ', '，'))}{j(AFTER)}"] * 50,
        "request_human": [lambda: f"{j(FED_UP)}{j(('', ' ', '，'))}{j(PERSON)}"] * 35,
        "ask_faq": [lambda: f"{j(SERVICES)}{j(HOW)}"] * 40
        + [lambda: f"{p.product()}{j(('做', '办', ''))}{j(SERVICES)}{j(HOW)}"] * 15,
    }


def _close(text: str, held_out: list[str]) -> bool:
    for other in held_out:
        matcher = SequenceMatcher(None, text, other)
        if (
            matcher.real_quick_ratio() >= CLOSE
            and matcher.quick_ratio() >= CLOSE
            and matcher.ratio() >= CLOSE
        ):
            return True
    return False


def generate() -> str:
    rng = random.Random(SEED)
    parts = Parts(rng)
    written = {plain(e) for _, examples in load(NLU, exclude=OUT) for e in examples}
    held_out = sorted({plain(e) for f in HELD_OUT for _, examples in load(f) for e in examples})
    out = [
        "# Generated by `python -m bot.nlu.compose` (bot/nlu/compose.py): do not edit.",
        'version: "3.1"',
        "",
        "nlu:",
    ]
    for intent, makers in blocks(parts).items():
        examples: list[str] = []
        for make in makers:
            example = make().strip()
            key = plain(example)
            if key in written or _close(key, held_out):
                continue
            written.add(key)
            examples.append(example)
        out += [f"  - intent: {intent}", "    examples: |"]
        out += [f"      - {example}" for example in examples]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    args = parser.parse_args()
    text = generate()
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            sys.exit(f"{OUT} is stale: run python -m bot.nlu.compose")
        return
    OUT.write_text(text, encoding="utf-8")
    count = sum(1 for line in text.splitlines() if line.startswith("      - "))
    print(f"{OUT.relative_to(REPO)}: {count} examples")


if __name__ == "__main__":
    main()
