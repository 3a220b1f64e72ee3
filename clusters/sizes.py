"""Size class (large / medium / small / micro) of a firm from its industry and figures.

Source: 国家统计局《统计上大中小微型企业划分办法(2017)》(国统字〔2017〕213号), the table in
its appendix. Pure rules, no Django; figures are in persons and in 10,000 CNY (万元).

How the table is read (its notes 1–2):
- large, medium and small firms must reach the lower bound of *every* indicator listed for
  their industry; a firm that misses one bound drops to the next class down;
- a firm that does not qualify as small is micro (a micro firm needs to meet only one
  indicator of the micro row).

Industry categories follow GB/T 4754-2017. Where the table splits a division (装卸搬运 591
belongs to 交通运输业 but 仓储 592–599 to 仓储业; 房地产开发经营 701 and 物业管理 702 are apart
from the rest of division 70), the three-digit group is needed; given only the division, the
class is left blank rather than guessed. 自有房地产经营活动 (704) is outside every row of the
table and gets no class. Railway transport (53) is outside the 交通运输业 row
and is classed under 其他未列明行业 here.

Missing figures: if an indicator the industry needs is missing, the size class is blank
(None). Three rows use total assets (资产总额): 建筑业, 房地产开发经营 and 租赁和商务服务业;
when the register has no total assets for such a firm, its class is blank, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

LARGE, MEDIUM, SMALL, MICRO = "large", "medium", "small", "micro"


class Indicator(StrEnum):
    """The figures the 2017 table uses."""

    EMPLOYEES = "employees"  # 从业人员 X, persons
    REVENUE = "revenue"  # 营业收入 Y, 万元
    ASSETS = "assets"  # 资产总额 Z, 万元


@dataclass(frozen=True)
class Category:
    """One row group of the table: lower bounds for large, medium and small per indicator."""

    key: str
    name_zh: str
    # indicator → (large ≥, medium ≥, small ≥)
    bounds: dict[Indicator, tuple[int, int, int]]


E, Y, Z = Indicator.EMPLOYEES, Indicator.REVENUE, Indicator.ASSETS

CATEGORIES: dict[str, Category] = {
    c.key: c
    for c in (
        Category("agriculture", "农、林、牧、渔业", {Y: (20000, 500, 50)}),
        Category("industry", "工业", {E: (1000, 300, 20), Y: (40000, 2000, 300)}),
        Category("construction", "建筑业", {Y: (80000, 6000, 300), Z: (80000, 5000, 300)}),
        Category("wholesale", "批发业", {E: (200, 20, 5), Y: (40000, 5000, 1000)}),
        Category("retail", "零售业", {E: (300, 50, 10), Y: (20000, 500, 100)}),
        Category("transport", "交通运输业", {E: (1000, 300, 20), Y: (30000, 3000, 200)}),
        Category("warehousing", "仓储业", {E: (200, 100, 20), Y: (30000, 1000, 100)}),
        Category("postal", "邮政业", {E: (1000, 300, 20), Y: (30000, 2000, 100)}),
        Category("accommodation", "住宿业", {E: (300, 100, 10), Y: (10000, 2000, 100)}),
        Category("catering", "餐饮业", {E: (300, 100, 10), Y: (10000, 2000, 100)}),
        Category("telecom", "信息传输业", {E: (2000, 100, 10), Y: (100000, 1000, 100)}),
        Category("software", "软件和信息技术服务业", {E: (300, 100, 10), Y: (10000, 1000, 50)}),
        Category(
            "real_estate_development",
            "房地产开发经营",
            {Y: (200000, 1000, 100), Z: (10000, 5000, 2000)},
        ),
        Category("property_management", "物业管理", {E: (1000, 300, 100), Y: (5000, 1000, 500)}),
        Category(
            "leasing_business", "租赁和商务服务业", {E: (300, 100, 10), Z: (120000, 8000, 100)}
        ),
        Category("other", "其他未列明行业", {E: (300, 100, 10)}),
    )
}


def category_for(division: str, group: str = "") -> Category | None:
    """The table row for a GB/T 4754 division (and group where the table needs it)."""
    if not division.isdigit() or len(division) != 2:
        return None
    number = int(division)
    key: str | None
    if 1 <= number <= 5:
        key = "agriculture"
    elif 6 <= number <= 46:
        key = "industry"  # sections B, C and D: mining, manufacturing, utilities
    elif 47 <= number <= 50:
        key = "construction"
    elif number == 51:
        key = "wholesale"
    elif number == 52:
        key = "retail"
    elif 54 <= number <= 58:
        key = "transport"
    elif number == 59:
        key = {"": None, "591": "transport"}.get(group, "warehousing")
    elif number == 60:
        key = "postal"
    elif number == 61:
        key = "accommodation"
    elif number == 62:
        key = "catering"
    elif number in (63, 64):
        key = "telecom"
    elif number == 65:
        key = "software"
    elif number == 70:
        key = {
            "": None,
            "701": "real_estate_development",
            "702": "property_management",
            "704": None,
        }.get(group, "other")
    elif number in (71, 72):
        key = "leasing_business"
    elif number == 53 or 66 <= number <= 97:
        key = "other"
    else:
        key = None
    return CATEGORIES[key] if key else None


def size_class(
    division: str,
    *,
    employees: int | None,
    revenue: Decimal | int | None,
    assets: Decimal | int | None = None,
    group: str = "",
) -> str | None:
    """ "large", "medium", "small" or "micro"; None when the industry or a figure is missing."""
    category = category_for(division, group)
    if category is None:
        return None
    figures = {E: employees, Y: revenue, Z: assets}
    values = {}
    for indicator in category.bounds:
        value = figures[indicator]
        if value is None:
            return None
        values[indicator] = Decimal(value)
    for rank, label in enumerate((LARGE, MEDIUM, SMALL)):
        if all(values[ind] >= bounds[rank] for ind, bounds in category.bounds.items()):
            return label
    return MICRO
