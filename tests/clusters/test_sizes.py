"""Size classes at the edges of the 2017 thresholds (国统字〔2017〕213号)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clusters import sizes

# (division, group, employees, revenue, assets, expected)
EDGES = [
    # 工业 (manufacturing C34): large needs ≥1000 people AND ≥40000 万元.
    ("34", "", 1000, 40000, None, "large"),
    ("34", "", 999, 40000, None, "medium"),
    ("34", "", 1000, Decimal("39999.99"), None, "medium"),
    ("34", "", 300, 2000, None, "medium"),
    ("34", "", 299, 2000, None, "small"),
    ("34", "", 300, Decimal("1999.99"), None, "small"),
    ("34", "", 20, 300, None, "small"),
    ("34", "", 19, 300, None, "micro"),
    ("34", "", 20, Decimal("299.99"), None, "micro"),
    ("34", "", 5000, 100, None, "micro"),  # one indicator short drops all the way
    ("34", "", 0, 0, None, "micro"),
    ("06", "", 1000, 40000, None, "large"),  # mining is 工业 too
    ("45", "", 19, 300, None, "micro"),  # utilities are 工业 too
    # 农、林、牧、渔业: revenue only.
    ("01", "", None, 20000, None, "large"),
    ("01", "", None, Decimal("19999"), None, "medium"),
    ("01", "", None, 500, None, "medium"),
    ("01", "", None, 499, None, "small"),
    ("01", "", None, 50, None, "small"),
    ("01", "", None, 49, None, "micro"),
    # 建筑业: revenue and total assets.
    ("48", "", None, 80000, 80000, "large"),
    ("48", "", None, 80000, 79999, "medium"),
    ("48", "", None, 6000, 5000, "medium"),
    ("48", "", None, 5999, 5000, "small"),
    ("48", "", None, 300, 300, "small"),
    ("48", "", None, 300, 299, "micro"),
    # 批发业
    ("51", "", 200, 40000, None, "large"),
    ("51", "", 20, 5000, None, "medium"),
    ("51", "", 19, 5000, None, "small"),
    ("51", "", 5, 1000, None, "small"),
    ("51", "", 4, 1000, None, "micro"),
    # 零售业
    ("52", "", 300, 20000, None, "large"),
    ("52", "", 50, 500, None, "medium"),
    ("52", "", 10, 100, None, "small"),
    ("52", "", 10, 99, None, "micro"),
    # 交通运输业 (road transport 54; loading and unloading 591)
    ("54", "", 1000, 30000, None, "large"),
    ("54", "", 300, 3000, None, "medium"),
    ("54", "", 20, 200, None, "small"),
    ("54", "", 20, 199, None, "micro"),
    ("59", "591", 300, 3000, None, "medium"),
    # 仓储业 (592–599)
    ("59", "592", 200, 30000, None, "large"),
    ("59", "592", 100, 1000, None, "medium"),
    ("59", "599", 99, 1000, None, "small"),
    ("59", "592", 20, 100, None, "small"),
    ("59", "592", 19, 100, None, "micro"),
    # 邮政业
    ("60", "", 1000, 30000, None, "large"),
    ("60", "", 300, 2000, None, "medium"),
    ("60", "", 20, 100, None, "small"),
    ("60", "", 20, 99, None, "micro"),
    # 住宿业 and 餐饮业
    ("61", "", 300, 10000, None, "large"),
    ("61", "", 100, 2000, None, "medium"),
    ("61", "", 10, 100, None, "small"),
    ("61", "", 9, 100, None, "micro"),
    ("62", "", 300, 9999, None, "medium"),
    ("62", "", 10, 100, None, "small"),
    # 信息传输业
    ("63", "", 2000, 100000, None, "large"),
    ("64", "", 1999, 100000, None, "medium"),
    ("63", "", 100, 1000, None, "medium"),
    ("63", "", 10, 100, None, "small"),
    ("63", "", 10, 99, None, "micro"),
    # 软件和信息技术服务业
    ("65", "", 300, 10000, None, "large"),
    ("65", "", 100, 1000, None, "medium"),
    ("65", "", 10, 50, None, "small"),
    ("65", "", 10, 49, None, "micro"),
    # 房地产开发经营 (701): revenue and total assets.
    ("70", "701", None, 200000, 10000, "large"),
    ("70", "701", None, 1000, 5000, "medium"),
    ("70", "701", None, 1000, 4999, "small"),
    ("70", "701", None, 100, 2000, "small"),
    ("70", "701", None, 100, 1999, "micro"),
    # 物业管理 (702)
    ("70", "702", 1000, 5000, None, "large"),
    ("70", "702", 300, 1000, None, "medium"),
    ("70", "702", 100, 500, None, "small"),
    ("70", "702", 99, 500, None, "micro"),
    # 租赁和商务服务业: employees and total assets.
    ("72", "", 300, None, 120000, "large"),
    ("72", "", 100, None, 8000, "medium"),
    ("71", "", 10, None, 100, "small"),
    ("71", "", 10, None, 99, "micro"),
    # 其他未列明行业: employees only (e.g. 科学研究和技术服务业 73, 房地产中介 703).
    ("73", "", 300, None, None, "large"),
    ("73", "", 299, None, None, "medium"),
    ("73", "", 100, None, None, "medium"),
    ("73", "", 99, None, None, "small"),
    ("73", "", 10, None, None, "small"),
    ("73", "", 9, None, None, "micro"),
    ("70", "703", 9, None, None, "micro"),
]


@pytest.mark.parametrize(("division", "group", "employees", "revenue", "assets", "expected"), EDGES)
def test_size_class_at_the_edges(division, group, employees, revenue, assets, expected):
    got = sizes.size_class(
        division, group=group, employees=employees, revenue=revenue, assets=assets
    )
    assert got == expected


@pytest.mark.parametrize(
    ("division", "group", "employees", "revenue", "assets"),
    [
        ("34", "", None, 50000, None),  # manufacturing without employees
        ("34", "", 2000, None, None),  # manufacturing without revenue
        ("48", "", None, 90000, None),  # construction without total assets
        ("72", "", 500, 90000, None),  # leasing without total assets
        ("70", "701", None, 500000, None),
        ("73", "", None, 1000, 1000),  # "other" without employees
    ],
)
def test_a_missing_figure_gives_a_blank_class(division, group, employees, revenue, assets):
    got = sizes.size_class(
        division, group=group, employees=employees, revenue=revenue, assets=assets
    )
    assert got is None


@pytest.mark.parametrize(("division", "group"), [("59", ""), ("70", ""), ("70", "704"), ("99", "")])
def test_a_division_the_table_splits_needs_its_group(division, group):
    assert sizes.size_class(division, group=group, employees=50, revenue=500, assets=500) is None


def test_every_manufacturing_division_is_industry():
    for division in range(13, 44):
        assert sizes.category_for(f"{division:02d}").key == "industry"
