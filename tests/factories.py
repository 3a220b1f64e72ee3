"""factory_boy factories shared by every test tier."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model

from clusters.models import Cluster, ClusterMembership, Firm, FirmMember, OfficialScope, Region

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def make_uscc(n: int) -> str:
    """A valid 18-character USCC (GB 32100-2015 check character) derived from n."""
    body = "91" + "110000" + f"{n:09d}"[-9:]  # registration dept 9, kind 1, region, org code
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    check = _USCC_CHARS[(31 - total % 31) % 31]
    return body + check


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-battery")


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"{110000 + n * 100}")
    name_zh = factory.Sequence(lambda n: f"地区{n}")
    name_en = factory.Sequence(lambda n: f"Region {n}")
    level = Region.Level.PROVINCE
    parent = None

    @factory.post_generation
    def set_path(obj: Region, create: bool, extracted: object, **kwargs: object) -> None:
        parent_path = obj.parent.path if obj.parent_id else "/"
        obj.path = f"{parent_path}{obj.pk}/"
        if create:
            obj.save(update_fields=["path"])


class ClusterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cluster

    slug = factory.Sequence(lambda n: f"cluster-{n}")
    name_zh = factory.Sequence(lambda n: f"产业集群{n}")
    name_en = factory.Sequence(lambda n: f"Cluster {n}")
    kind = Cluster.Kind.SME_CHARACTERISTIC
    region = factory.SubFactory(RegionFactory)


class FirmFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Firm

    uscc = factory.Sequence(make_uscc)
    name = factory.Sequence(lambda n: f"示例制造有限公司{n}")
    region = None
    industry_section = "C"
    industry_division = "34"
    employees = 120
    revenue_10k_cny = 8000
    size_class = Firm.SizeClass.SMALL


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClusterMembership

    cluster = factory.SubFactory(ClusterFactory)
    firm = factory.SubFactory(FirmFactory)
    start_date = dt.date(2024, 1, 1)


class FirmMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FirmMember

    user = factory.SubFactory(UserFactory)
    firm = factory.SubFactory(FirmFactory)
    role = FirmMember.Role.OWNER


class OfficialScopeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OfficialScope

    user = factory.SubFactory(UserFactory)
    cluster = None
    region = None
