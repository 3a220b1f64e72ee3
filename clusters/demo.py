"""Demo register: regions, clusters and firms with realistic spreads, plus one user per role.

Deterministic: the same seed gives the same rows (a private `random.Random(seed)` drives every
choice; nothing reads the clock). Firms go in with `bulk_create` in batches, so 100,000 firms
take well under two minutes (figures in docs/benchmarks.md).

Region codes are real administrative division codes (GB/T 2260, as published by the Ministry
of Civil Affairs); cluster names are made up for the demo but follow real local specialities.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from clusters import industries, sizes, uscc
from clusters.models import Cluster, ClusterMembership, Firm, FirmMember, OfficialScope, Region
from clusters.services import region_create, region_update_paths

DEMO_PREFIX = "demo-"
BATCH_SIZE = 2000

# province → cities → counties: (code, Chinese name, English name)
REGION_TREE: list[tuple[tuple[str, str, str], list[tuple[tuple[str, str, str], list]]]] = [
    (
        ("320000", "江苏省", "Jiangsu"),
        [
            (
                ("320500", "苏州市", "Suzhou"),
                [
                    ("320583", "昆山市", "Kunshan"),
                    ("320581", "常熟市", "Changshu"),
                    ("320582", "张家港市", "Zhangjiagang"),
                    ("320509", "吴江区", "Wujiang"),
                ],
            ),
            (
                ("320200", "无锡市", "Wuxi"),
                [("320281", "江阴市", "Jiangyin"), ("320282", "宜兴市", "Yixing")],
            ),
            (("320400", "常州市", "Changzhou"), [("320412", "武进区", "Wujin")]),
        ],
    ),
    (
        ("330000", "浙江省", "Zhejiang"),
        [
            (
                ("330200", "宁波市", "Ningbo"),
                [("330282", "慈溪市", "Cixi"), ("330281", "余姚市", "Yuyao")],
            ),
            (
                ("330300", "温州市", "Wenzhou"),
                [("330382", "乐清市", "Yueqing"), ("330381", "瑞安市", "Rui'an")],
            ),
            (("331000", "台州市", "Taizhou"), [("331081", "温岭市", "Wenling")]),
            (
                ("330700", "金华市", "Jinhua"),
                [("330782", "义乌市", "Yiwu"), ("330784", "永康市", "Yongkang")],
            ),
        ],
    ),
    (
        ("440000", "广东省", "Guangdong"),
        [
            (
                ("440600", "佛山市", "Foshan"),
                [("440606", "顺德区", "Shunde"), ("440605", "南海区", "Nanhai")],
            ),
            (("441900", "东莞市", "Dongguan"), []),
            (("442000", "中山市", "Zhongshan"), []),
        ],
    ),
    (
        ("350000", "福建省", "Fujian"),
        [
            (
                ("350500", "泉州市", "Quanzhou"),
                [("350582", "晋江市", "Jinjiang"), ("350581", "石狮市", "Shishi")],
            ),
            (("350100", "福州市", "Fuzhou"), [("350181", "福清市", "Fuqing")]),
        ],
    ),
    (
        ("370000", "山东省", "Shandong"),
        [
            (("370700", "潍坊市", "Weifang"), [("370783", "寿光市", "Shouguang")]),
            (("370200", "青岛市", "Qingdao"), [("370281", "胶州市", "Jiaozhou")]),
        ],
    ),
]

# (region code, kind, lead division, Chinese name, English name): local specialities.
CLUSTER_SEEDS = [
    # The first cluster is the demo official's; its province (Zhejiang, the demo regional
    # official's) holds several of the first clusters, so the regional report compares some.
    ("330784", "sme_characteristic", "33", "永康五金产业集群", "Yongkang hardware cluster"),
    ("320583", "sme_characteristic", "39", "昆山电子信息产业集群", "Kunshan electronics cluster"),
    (
        "350582",
        "sme_characteristic",
        "19",
        "晋江运动鞋服产业集群",
        "Jinjiang sports footwear cluster",
    ),
    ("440606", "national_advanced", "38", "顺德家电产业集群", "Shunde home appliance cluster"),
    ("330382", "sme_characteristic", "38", "乐清电气产业集群", "Yueqing electrical cluster"),
    (
        "441900",
        "pilot_city",
        "39",
        "东莞数字化转型试点城市",
        "Dongguan digital transformation pilot city",
    ),
    (
        "331081",
        "sme_characteristic",
        "34",
        "温岭泵与电机产业集群",
        "Wenling pumps and motors cluster",
    ),
    (
        "320281",
        "industrial_park",
        "32",
        "江阴有色金属新材料园",
        "Jiangyin non-ferrous materials park",
    ),
    ("330282", "sme_characteristic", "38", "慈溪小家电产业集群", "Cixi small appliance cluster"),
    ("320509", "sme_characteristic", "17", "吴江丝绸纺织产业集群", "Wujiang silk textile cluster"),
    ("370783", "other", "13", "寿光蔬菜加工产业集群", "Shouguang vegetable processing cluster"),
    ("440605", "industrial_park", "33", "南海金属制品产业园", "Nanhai metal products park"),
    ("350181", "sme_characteristic", "29", "福清塑料制品产业集群", "Fuqing plastics cluster"),
    (
        "320412",
        "national_advanced",
        "35",
        "武进智能装备产业集群",
        "Wujin intelligent equipment cluster",
    ),
    ("370281", "industrial_park", "36", "胶州汽车零部件产业园", "Jiaozhou auto parts park"),
    (
        "442000",
        "pilot_city",
        "38",
        "中山数字化转型试点城市",
        "Zhongshan digital transformation pilot city",
    ),
]

_NAME_HEADS = "恒泰华鑫盛达精宏远隆丰瑞嘉润祥安永新创兴博凯诚信德邦锦翔宇联"
_NAME_WORDS = {
    "13": "食品",
    "14": "食品",
    "17": "纺织",
    "18": "服饰",
    "19": "鞋业",
    "21": "家具",
    "26": "化工",
    "29": "塑胶",
    "32": "新材料",
    "33": "五金",
    "34": "机械",
    "35": "装备",
    "36": "汽配",
    "38": "电器",
    "39": "电子",
    "40": "仪器",
}
_NAME_TAILS = ["有限公司", "股份有限公司", "科技有限公司", "制造有限公司"]

DEMO_USERS = [
    # (username, password, role description shown on screen)
    ("demo_firm", "demo-firm-1", _("firm user")),
    ("demo_cluster", "demo-cluster-1", _("cluster official")),
    ("demo_region", "demo-region-1", _("regional official")),
    ("demo_admin", "demo-admin-1", _("administrator")),
]


@dataclass
class DemoRegister:
    """What `seed_register` made (or found): counts and the demo logins."""

    created: bool
    regions: int = 0
    clusters: list[Cluster] = field(default_factory=list)
    firms: int = 0
    memberships: int = 0
    logins: list[tuple[str, str, object]] = field(default_factory=list)


def _code_chars(n: int, width: int) -> str:
    chars = []
    for _position in range(width):
        n, digit = divmod(n, 31)
        chars.append(uscc.ALPHABET[digit])
    return "".join(reversed(chars))


def demo_uscc(index: int, region_code: str, seed: int) -> str:
    """A valid, unique USCC for the index-th demo firm ("MA" org codes, as issued since 2015)."""
    space = 31**7
    # An affine map with a multiplier coprime to 31 is a bijection of [0, 31^7): no clashes.
    n = (index * 7_368_787 + seed * 1_000_003 + 12_345) % space
    body = "91" + region_code + "MA" + _code_chars(n, 7)
    return body + uscc.check_character(body)


def _lognormal_int(rng: random.Random, median: float, sigma: float, low: int, high: int) -> int:
    return max(low, min(high, round(rng.lognormvariate(math.log(median), sigma))))


def _region(code: str, name_zh: str, name_en: str, level: str, parent: Region | None) -> Region:
    """The region with this code: the one already in the register if any, else a new one."""
    existing = Region.objects.filter(code=code).first()
    if existing is None:
        return region_create(
            code=code, name_zh=name_zh, name_en=name_en, level=level, parent=parent
        )
    if not existing.path:
        region_update_paths(existing)
    return existing


def _build_regions() -> dict[str, Region]:
    by_code: dict[str, Region] = {}
    for (p_code, p_zh, p_en), cities in REGION_TREE:
        province = _region(p_code, p_zh, p_en, "province", None)
        by_code[p_code] = province
        for (c_code, c_zh, c_en), counties in cities:
            city = _region(c_code, c_zh, c_en, "city", province)
            by_code[c_code] = city
            for k_code, k_zh, k_en in counties:
                by_code[k_code] = _region(k_code, k_zh, k_en, "county", city)
    return by_code


def _build_clusters(rng: random.Random, count: int, regions: dict[str, Region]) -> list[Cluster]:
    counties = [r for r in regions.values() if r.level == "county"]
    clusters = []
    for i in range(count):
        if i < len(CLUSTER_SEEDS):
            code, kind, lead, name_zh, name_en = CLUSTER_SEEDS[i]
            region = regions[code]
        else:
            region = rng.choice(counties)
            kind = rng.choice(Cluster.Kind.values)
            lead = f"{rng.randint(13, 43):02d}"
            zh_lead = industries.MANUFACTURING_DIVISIONS[lead][0].rstrip("业")
            name_zh = f"{region.name_zh}{zh_lead}产业集群{i + 1}"
            name_en = f"{region.name_en} {industries.MANUFACTURING_DIVISIONS[lead][1]} {i + 1}"
        clusters.append(
            Cluster(
                slug=f"{DEMO_PREFIX}{i + 1:03d}",
                name_zh=name_zh,
                name_en=name_en,
                kind=kind,
                region=region,
                lead_industry=f"C{lead}",
                description=name_zh,
            )
        )
    return Cluster.objects.bulk_create(clusters)


def _firm_values(
    rng: random.Random, index: int, seed: int, cluster: Cluster, sub_regions: list[Region]
) -> tuple[str, str, Region, str, int | None, Decimal | None, str]:
    """(uscc, name, region, division, employees, revenue, size class) of the index-th firm."""
    region = rng.choice(sub_regions) if sub_regions else cluster.region
    lead = cluster.lead_industry[1:]
    division = lead if rng.random() < 0.7 else f"{rng.randint(13, 43):02d}"
    # Log-normal spreads: most firms are small, a few are large (median ~40 people,
    # revenue per person ~55 万元 with its own spread). Some figures are missing, as in real
    # registers, so that blank size classes show up too.
    employees: int | None = _lognormal_int(rng, 40, 1.15, 1, 30_000)
    revenue: Decimal | None = Decimal(
        round(employees * rng.lognormvariate(math.log(55), 0.6), 2)
    ).quantize(Decimal("0.01"))
    roll = rng.random()
    if roll < 0.01:
        employees = None
    elif roll < 0.02:
        revenue = None
    name = (
        f"{region.name_zh.rstrip('市区县')}{rng.choice(_NAME_HEADS)}{rng.choice(_NAME_HEADS)}"
        f"{_NAME_WORDS.get(division, '实业')}{rng.choice(_NAME_TAILS)}"
    )
    size_class = sizes.size_class(division, employees=employees, revenue=revenue) or ""
    return (
        demo_uscc(index, region.code or "000000", seed),
        name,
        region,
        division,
        employees,
        revenue,
        size_class,
    )


def _make_firm(
    rng: random.Random, index: int, seed: int, cluster: Cluster, sub_regions: list[Region]
) -> Firm:
    code, name, region, division, employees, revenue, size_class = _firm_values(
        rng, index, seed, cluster, sub_regions
    )
    return Firm(
        uscc=code,
        name=name,
        region=region,
        industry_section="C",
        industry_division=division,
        employees=employees,
        revenue_10k_cny=revenue,
        size_class=size_class,
    )


def _cluster_weights(rng: random.Random, count: int) -> list[float]:
    # A few big clusters and a long tail, like real registers (a Zipf-like spread).
    return [1 / (i + 1) ** 0.6 * rng.uniform(0.8, 1.2) for i in range(count)]


def _build_users(clusters: list[Cluster], first_firm: Firm | None) -> list[tuple[str, str, object]]:
    user_model = get_user_model()
    users = {}
    for username, password, _role in DEMO_USERS:
        user = user_model.objects.filter(username=username).first() or user_model(
            username=username, email=f"{username}@example.com"
        )
        user.is_active = True
        user.set_password(password)
        if username == "demo_admin":
            user.is_staff = user.is_superuser = True
        user.save()
        users[username] = user
    if first_firm is not None:
        FirmMember.objects.get_or_create(
            user=users["demo_firm"], firm=first_firm, defaults={"role": FirmMember.Role.OWNER}
        )
    if clusters:
        OfficialScope.objects.get_or_create(user=users["demo_cluster"], cluster=clusters[0])
        province_id = int(clusters[0].region.path.strip("/").split("/")[0])
        OfficialScope.objects.get_or_create(user=users["demo_region"], region_id=province_id)
    return list(DEMO_USERS)


def demo_present() -> bool:
    """True when demo data has been seeded into this database already."""
    return Cluster.objects.filter(slug__startswith=DEMO_PREFIX).exists()


def _others(cluster_rows: list[Cluster]) -> Callable[[int], list[Cluster]]:
    """For a home cluster's index, the other clusters (the same list as a comprehension would
    build, made once per home: with a thousand clusters that is most of the time otherwise)."""
    cache: dict[int, list[Cluster]] = {}

    def others(home: int) -> list[Cluster]:
        if home not in cache:
            cache[home] = cluster_rows[:home] + cluster_rows[home + 1 :]
        return cache[home]

    return others


@transaction.atomic
def seed_register(
    *, clusters: int = 6, firms: int = 600, seed: int = 1, fast: bool | None = None
) -> DemoRegister:
    """Create the demo regions, clusters, firms and users; do nothing if they already exist.

    On PostgreSQL from `bulk_load.FAST_PATH_MIN_FIRMS` firms (or with `fast`), firms and
    memberships go in through COPY; the rows are the same as the ORM path's for a seed.
    """
    if demo_present():
        return DemoRegister(
            created=False,
            clusters=list(Cluster.objects.filter(slug__startswith=DEMO_PREFIX)),
            logins=list(DEMO_USERS),
        )
    from assessments import bulk_load

    rng = random.Random(seed)
    regions = _build_regions()
    cluster_rows = _build_clusters(rng, max(clusters, 1), regions)
    subs = {c.pk: [r for r in regions.values() if r.parent_id == c.region_id] for c in cluster_rows}
    # Cumulative weights: the same draws as rng.choices(rows, weights), without summing a
    # thousand weights for every firm.
    cum_weights = list(itertools.accumulate(_cluster_weights(rng, len(cluster_rows))))
    if bulk_load.use_fast_path(firms, fast):
        first_firm, memberships = _seed_firms_fast(
            rng, firms, seed, cluster_rows, subs, cum_weights
        )
    else:
        first_firm, memberships = _seed_firms(rng, firms, seed, cluster_rows, subs, cum_weights)
    logins = _build_users(cluster_rows, first_firm)
    return DemoRegister(
        created=True,
        regions=len(regions),
        clusters=cluster_rows,
        firms=firms,
        memberships=memberships,
        logins=logins,
    )


MEMBER_SINCE = dt.date(2019, 1, 1)


def _home(rng: random.Random, index: int, rows: list[Cluster], cum_weights: list[float]) -> int:
    """The index of the index-th firm's home cluster: every cluster gets firms first."""
    if index < len(rows):
        return index
    return bisect.bisect(cum_weights, rng.random() * cum_weights[-1], 0, len(rows) - 1)


def _seed_firms(
    rng: random.Random,
    firms: int,
    seed: int,
    cluster_rows: list[Cluster],
    subs: dict[int, list[Region]],
    cum_weights: list[float],
) -> tuple[Firm | None, int]:
    """The ORM path: firms and memberships with bulk_create, in batches."""
    others = _others(cluster_rows)
    first_firm: Firm | None = None
    memberships = 0
    for batch_start in range(0, firms, BATCH_SIZE):
        batch_end = min(firms, batch_start + BATCH_SIZE)
        homes = []
        batch = []
        for index in range(batch_start, batch_end):
            home = _home(rng, index, cluster_rows, cum_weights)
            homes.append(home)
            cluster = cluster_rows[home]
            batch.append(_make_firm(rng, index, seed, cluster, subs[cluster.pk]))
        created = Firm.objects.bulk_create(batch)
        if first_firm is None and created:
            first_firm = created[0]
        links = []
        for firm, home in zip(created, homes, strict=True):
            since = MEMBER_SINCE + dt.timedelta(days=rng.randrange(0, 6 * 365))
            links.append(ClusterMembership(cluster=cluster_rows[home], firm=firm, start_date=since))
            # About one firm in twenty also belongs to a second cluster.
            if len(cluster_rows) > 1 and rng.random() < 0.05:
                other = rng.choice(others(home))
                links.append(ClusterMembership(cluster=other, firm=firm, start_date=since))
        ClusterMembership.objects.bulk_create(links)
        memberships += len(links)
    return first_firm, memberships


def _seed_firms_fast(
    rng: random.Random,
    firms: int,
    seed: int,
    cluster_rows: list[Cluster],
    subs: dict[int, list[Region]],
    cum_weights: list[float],
) -> tuple[Firm | None, int]:
    """The COPY path (PostgreSQL): the same draws in the same order as `_seed_firms`, so the
    same rows; ids reserved from the firms' sequence up front."""
    from assessments import bulk_load
    from assessments.bulk_load import text

    others = _others(cluster_rows)
    now = bulk_load.now()
    firm_table = bulk_load.Table(
        Firm,
        [
            "id",
            "uscc",
            "name",
            "region_id",
            "industry_section",
            "industry_division",
            "employees",
            "revenue_10k_cny",
            "size_class",
        ],
        now=now,
    )
    link_table = bulk_load.Table(
        ClusterMembership, ["cluster_id", "firm_id", "start_date"], now=now
    )
    links: list[str] = []
    first_id = bulk_load.reserve_ids(Firm, firms)
    bulk_load.note(f"firms: ids {first_id}–{first_id + firms - 1} reserved")

    def firm_lines() -> Iterator[str]:
        for batch_start in range(0, firms, BATCH_SIZE):
            batch_end = min(firms, batch_start + BATCH_SIZE)
            homes = []
            for index in range(batch_start, batch_end):
                home = _home(rng, index, cluster_rows, cum_weights)
                homes.append(home)
                cluster = cluster_rows[home]
                code, name, region, division, employees, revenue, size_class = _firm_values(
                    rng, index, seed, cluster, subs[cluster.pk]
                )
                yield firm_table.line(
                    str(first_id + index),
                    code,
                    text(name),
                    str(region.pk),
                    "C",
                    division,
                    text(employees),
                    text(revenue),
                    size_class,
                )
            for offset, home in enumerate(homes):
                firm_id = str(first_id + batch_start + offset)
                since = (MEMBER_SINCE + dt.timedelta(days=rng.randrange(0, 6 * 365))).isoformat()
                links.append(link_table.line(str(cluster_rows[home].pk), firm_id, since))
                if len(cluster_rows) > 1 and rng.random() < 0.05:
                    other = rng.choice(others(home))
                    links.append(link_table.line(str(other.pk), firm_id, since))

    # One connection, in order: the membership lines are made while the firm lines stream.
    bulk_load.load(
        [(firm_table, firm_lines(), "firms"), (link_table, links, "cluster memberships")],
        workers=1,
    )
    first_firm = Firm.objects.filter(pk=first_id).first() if firms else None
    return first_firm, len(links)
