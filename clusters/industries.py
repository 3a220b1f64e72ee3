"""GB/T 4754-2017《国民经济行业分类》: sections, divisions and the manufacturing division names.

Pure data and parsing, no Django. Source: GB/T 4754-2017 (with amendment No. 1, 2019); only the
section ranges and the names of manufacturing divisions 13–43 are reproduced here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Section letter → (first division, last division), inclusive.
SECTIONS: dict[str, tuple[int, int]] = {
    "A": (1, 5),
    "B": (6, 12),
    "C": (13, 43),
    "D": (44, 46),
    "E": (47, 50),
    "F": (51, 52),
    "G": (53, 60),
    "H": (61, 62),
    "I": (63, 65),
    "J": (66, 69),
    "K": (70, 70),
    "L": (71, 72),
    "M": (73, 75),
    "N": (76, 79),
    "O": (80, 82),
    "P": (83, 83),
    "Q": (84, 85),
    "R": (86, 90),
    "S": (91, 96),
    "T": (97, 97),
}

# Manufacturing (section C) divisions, in Chinese and English.
MANUFACTURING_DIVISIONS: dict[str, tuple[str, str]] = {
    "13": ("农副食品加工业", "Agricultural and sideline food processing"),
    "14": ("食品制造业", "Food manufacturing"),
    "15": ("酒、饮料和精制茶制造业", "Liquor, beverages and refined tea"),
    "16": ("烟草制品业", "Tobacco products"),
    "17": ("纺织业", "Textiles"),
    "18": ("纺织服装、服饰业", "Apparel and clothing accessories"),
    "19": ("皮革、毛皮、羽毛及其制品和制鞋业", "Leather, fur, feathers and footwear"),
    "20": ("木材加工和木、竹、藤、棕、草制品业", "Wood, bamboo, rattan, palm and straw products"),
    "21": ("家具制造业", "Furniture"),
    "22": ("造纸和纸制品业", "Paper and paper products"),
    "23": ("印刷和记录媒介复制业", "Printing and reproduction of recorded media"),
    "24": ("文教、工美、体育和娱乐用品制造业", "Stationery, crafts, sports and leisure goods"),
    "25": ("石油、煤炭及其他燃料加工业", "Petroleum, coal and other fuel processing"),
    "26": ("化学原料和化学制品制造业", "Chemical raw materials and products"),
    "27": ("医药制造业", "Pharmaceuticals"),
    "28": ("化学纤维制造业", "Chemical fibres"),
    "29": ("橡胶和塑料制品业", "Rubber and plastic products"),
    "30": ("非金属矿物制品业", "Non-metallic mineral products"),
    "31": ("黑色金属冶炼和压延加工业", "Ferrous metal smelting and rolling"),
    "32": ("有色金属冶炼和压延加工业", "Non-ferrous metal smelting and rolling"),
    "33": ("金属制品业", "Fabricated metal products"),
    "34": ("通用设备制造业", "General-purpose machinery"),
    "35": ("专用设备制造业", "Special-purpose machinery"),
    "36": ("汽车制造业", "Motor vehicles"),
    "37": (
        "铁路、船舶、航空航天和其他运输设备制造业",
        "Railway, ship, aerospace and other transport",
    ),
    "38": ("电气机械和器材制造业", "Electrical machinery and equipment"),
    "39": ("计算机、通信和其他电子设备制造业", "Computers, communication and other electronics"),
    "40": ("仪器仪表制造业", "Instruments and meters"),
    "41": ("其他制造业", "Other manufacturing"),
    "42": ("废弃资源综合利用业", "Recycling of waste resources"),
    "43": ("金属制品、机械和设备修理业", "Repair of metal products, machinery and equipment"),
}

_CODE = re.compile(r"^([A-T])?(\d{2})(\d{1,2})?$")


@dataclass(frozen=True)
class IndustryCode:
    """A parsed GB/T 4754 code: section letter, two-digit division, optional group/class."""

    section: str
    division: str
    detail: str = ""  # the digits after the division (group and class), if given

    @property
    def group(self) -> str:
        """The three-digit group code, or "" when only the division is known."""
        return f"{self.division}{self.detail[:1]}" if self.detail else ""


def section_of(division: str) -> str | None:
    """The section letter that contains a two-digit division, or None if there is none."""
    number = int(division)
    for letter, (low, high) in SECTIONS.items():
        if low <= number <= high:
            return letter
    return None


def parse(raw: str) -> IndustryCode | None:
    """Parse "C34", "34", "C3411" or "3411"; None when it is not a GB/T 4754 code."""
    text = "".join(str(raw).split()).upper()
    match = _CODE.match(text)
    if not match:
        return None
    letter, division, detail = match.group(1) or "", match.group(2), match.group(3) or ""
    section = section_of(division)
    if section is None or (letter and letter != section):
        return None
    return IndustryCode(section=section, division=division, detail=detail)
