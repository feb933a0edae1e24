"""Fixed vocabularies of the knowledge base: service ids, domains, regions, modes.

The service ids are a contract (DESIGN §4): every service of §6 of DB3202/T 1063—2024 has
the id of its clause; the special service modes of §5.3 are ``5.3a``–``5.3d`` and the
instrument-sharing service of §5.2 b) 4) is ``5.2b4``.
"""

from typing import Final, Literal

SECTION6_SERVICE_IDS: Final[tuple[str, ...]] = (
    "6.1.1", "6.1.2", "6.1.3", "6.1.4",
    "6.2.1", "6.2.2", "6.2.3", "6.2.4", "6.2.5",
    "6.3.1", "6.3.2", "6.3.3",
    "6.4.1", "6.4.2", "6.4.3", "6.4.4",
    "6.5.1", "6.5.2", "6.5.3", "6.5.4",
    "6.6.1", "6.6.2", "6.6.3",
    "6.7.1", "6.7.2", "6.7.3", "6.7.4", "6.7.5", "6.7.6",
)  # fmt: skip
SPECIAL_SERVICE_IDS: Final[tuple[str, ...]] = ("5.3a", "5.3b", "5.3c", "5.3d", "5.2b4")
SERVICE_IDS: Final[tuple[str, ...]] = SECTION6_SERVICE_IDS + SPECIAL_SERVICE_IDS

Kind = Literal["service", "institution", "station", "faq", "standard"]
KINDS: Final[tuple[Kind, ...]] = ("service", "institution", "station", "faq", "standard")
KIND_LABELS: Final[dict[str, str]] = {
    "service": "服务事项",
    "institution": "服务机构",
    "station": "线下站点",
    "faq": "常见问题",
    "standard": "标准",
}

# Validity of a standard (§6.2.2 标准有效性查询), as the standards table records it.
Validity = Literal["现行", "废止", "即将实施"]
VALIDITIES: Final[tuple[str, ...]] = ("现行", "废止", "即将实施")

Domain = Literal[
    "metrology", "standardization", "certification", "testing", "quality", "ip", "other"
]
DOMAIN_LABELS: Final[dict[str, str]] = {
    "metrology": "计量",
    "standardization": "标准化",
    "certification": "认证认可",
    "testing": "检验检测",
    "quality": "质量管理",
    "ip": "知识产权",
    "other": "其他/综合",
}

InstitutionType = Literal[
    "法定计量技术机构",
    "计量校准机构",
    "检验检测机构",
    "认证机构",
    "标准化服务机构",
    "知识产权服务机构",
    "质量管理咨询机构",
    "高校科研院所",
    "金融服务机构",
    "综合服务机构",
]

QualificationKind = Literal["CMA", "CNAS", "授权", "认证机构批准", "执业许可", "其他"]

ServiceMode = Literal["送样", "上门", "预约", "仪器共享", "延时错时"]
SERVICE_MODES: Final[tuple[str, ...]] = ("送样", "上门", "预约", "仪器共享", "延时错时")

StationType = Literal["市场监管派出机构站点", "镇街园区站点", "技术机构站点", "企业站点"]

WUXI_DISTRICTS: Final[tuple[str, ...]] = (
    "无锡市梁溪区",
    "无锡市锡山区",
    "无锡市惠山区",
    "无锡市滨湖区",
    "无锡市新吴区",
    "无锡市经济开发区",
    "宜兴市丁蜀镇",
    "宜兴市宜城街道",
)
JIANGYIN_TOWNS: Final[tuple[str, ...]] = tuple(
    "江阴市" + name
    for name in (
        "澄江街道", "南闸街道", "云亭街道", "申港街道", "夏港街道", "利港街道",
        "璜土镇", "月城镇", "青阳镇", "徐霞客镇", "华士镇", "周庄镇",
        "新桥镇", "长泾镇", "顾山镇", "祝塘镇", "高新区", "临港经济开发区",
    )
)  # fmt: skip
REGIONS: Final[tuple[str, ...]] = WUXI_DISTRICTS + JIANGYIN_TOWNS


def domain_label(domain: str) -> str:
    """The Chinese label of a domain code (the code itself when unknown)."""
    return DOMAIN_LABELS.get(domain, domain)


_CLAUSE_DOMAINS: Final[dict[str, str]] = {
    "6.1": "metrology",
    "6.2": "standardization",
    "6.3": "certification",
    "6.4": "testing",
    "6.5": "quality",
    "6.6": "ip",
}


def service_domain(service_id: str) -> str:
    """The domain a service id belongs to by its clause (§6.1–§6.6; everything else: other)."""
    return _CLAUSE_DOMAINS.get(service_id[:3], "other")
