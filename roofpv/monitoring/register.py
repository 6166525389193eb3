"""Match the grid company's register of connected distributed PV to buildings.

Each register system (one row: project, owner, address, kW, connection date …) is
matched to one or more buildings, trying in order:

``building_id``  the register names a building id of the footprints (score 1.0)
``point``        its coordinates fall inside a footprint (0.95) or within
                 :data:`NEAR_M` of one (0.7, doubtful)
``text``         its address or project name resembles a building's name or address in
                 the same township: Dice coefficient of character bigrams (digits aside) after
                 :func:`normalise`; house numbers must agree (else × 0.5)

A text naming several house numbers ("12号、13号") is one system on several
buildings: each is matched and the kW split by roof area. Scores below
``match_min_score`` leave a system unmatched, below ``match_sure_score`` doubtful;
both are findings.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from roofpv.config import Monitoring
from roofpv.findings import Finding
from roofpv.schema import TRADITIONAL

#: Distance within which a register point next to (not in) a footprint is taken, m.
NEAR_M = 15.0
SCORE_POINT_IN, SCORE_POINT_NEAR = 0.95, 0.7
#: Bigrams shared by more buildings than this are too common to find candidates by.
COMMON_BIGRAM = 300

#: Traditional → simplified forms of characters common in addresses (besides the survey's).
_ADDRESS_TRADITIONAL = str.maketrans(
    "區縣鄉樓東灣氣電寧興廣門發橋莊華龍長號幢棟路街巷弄",
    "区县乡楼东湾气电宁兴广门发桥庄华龙长号幢栋路街巷弄",
)
_DIGITS = dict(zip("〇零一二两三四五六七八九", [0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9]))
#: Words of register texts that say nothing about where the system is (after the
#: leading province, city and district, :data:`_ADMIN`).
_NOISE = re.compile(
    r"分布式|光伏发电|光伏电站|光伏|发电|屋顶|项目|工程|有限公司|有限责任公司|"
    r"户用|电站|kwp|kw|mw|\d+(?:\.\d+)?(?=千瓦|兆瓦)|千瓦|兆瓦"
)
_UNIT_FORMS = re.compile(r"(\d+)\s*(?:号楼|幢|栋|座)")
_SEPARATOR = re.compile(r"(\d+)(号|幢)?、(\d+)(号|幢)?")


def _chinese_number(m: re.Match) -> str:
    s = m.group(0)
    if "十" not in s:
        return "".join(str(_DIGITS[c]) for c in s)
    tens, _, ones = s.partition("十")
    return str((_DIGITS.get(tens, 1) if tens else 1) * 10 + (_DIGITS[ones] if ones else 0))


def normalise(text: object) -> str:
    """Address or name in one form: NFKC (full → half width), simplified characters,
    Chinese numerals as digits, 3# → 3号, 3号楼 / 3栋 / 3座 → 3幢, no spaces or punctuation."""
    if text is None or text is pd.NA or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = unicodedata.normalize("NFKC", str(text)).translate(TRADITIONAL).translate(_ADDRESS_TRADITIONAL)
    s = s.lower()
    s = re.sub(r"[〇零一二两三四五六七八九十]+(?=[号幢栋弄组楼座])", _chinese_number, s)
    s = _UNIT_FORMS.sub(r"\1幢", re.sub(r"(\d+)\s*#", r"\1号", s))
    s = re.sub(r"(?<=[\d号幢])\s*[、,，/及和与]\s*(?=\d)", "、", s)
    return re.sub(r"号+", "号", re.sub(r"[^\w、]+|_", "", s))


def variants(text: str) -> list[str]:
    """One normalised text per house number it lists: "12号、13号" → "…12号", "…13号"."""
    m = _SEPARATOR.search(text)
    if m is None:
        return [text]
    unit = m.group(2) or m.group(4) or ""
    head, tail = text[:m.start()], text[m.end():]
    return [f"{head}{n}{unit}{tail}" for n in (m.group(1), m.group(3))]


#: Leading province, city and district of an address (浙江省平湖市, 上海市浦东新区 …).
#: Not a district: 小区, 园区, 社区, 厂区, 校区, 景区 …; not a city: 超市, 集市, 菜市 ….
_ADMIN = re.compile(r"^(?:[\u4e00-\u9fff]{2,3}省)?(?:[\u4e00-\u9fff]{1,3}(?<![超集夜菜门])市){0,2}"
                    r"(?:[\u4e00-\u9fff]{1,3}(?<![小园社厂校景营矿街片])[区县])?")


def _key(text: str) -> str:
    return _NOISE.sub("", _ADMIN.sub("", text)).replace("、", "")


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+", text))


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the character bigrams of two normalised texts without their
    digits (so a shared house number does not make two streets alike), halved when
    both carry numbers and they differ."""
    ka, kb = _key(a), _key(b)
    x, y = _bigrams(re.sub(r"\d+", "", ka)), _bigrams(re.sub(r"\d+", "", kb))
    if not x or not y:
        return 0.0
    score = 2 * len(x & y) / (len(x) + len(y))
    na, nb = _numbers(ka), _numbers(kb)
    return score * 0.5 if na and nb and na != nb else score


def _normalise_many(values: pd.Series) -> pd.Series:
    """:func:`normalise` of each distinct value once."""
    text = values.astype("string").fillna("")
    distinct = text.unique()
    return text.map(dict(zip(distinct, map(normalise, distinct)))).astype(object)


class _NameIndex:
    """Buildings by the bigrams of their normalised names and addresses (the township's
    name taken out), for candidate search."""

    def __init__(self, texts: pd.DataFrame, townships: pd.Series):
        self.township = _normalise_many(townships)
        self.texts: dict[str, list[str]] = defaultdict(list)
        self.postings: dict[str, set[str]] = defaultdict(set)
        for column in texts.columns:
            values = _normalise_many(texts[column])
            given = values != ""
            for bid, raw, town in zip(texts.index[given], values[given], self.township[given]):
                text = raw.replace(town, "") if town else raw
                self.texts[bid].append(text)
                for g in _bigrams(_key(text)):
                    self.postings[g].add(bid)

    def best(self, text: str, township: str) -> tuple[str | None, float]:
        hits: Counter = Counter()
        for g in _bigrams(_key(text)):
            posting = self.postings.get(g, ())
            if len(posting) <= COMMON_BIGRAM:
                hits.update(posting)
        best, score = None, 0.0
        for bid, _ in hits.most_common(20):
            if township and self.township[bid] and self.township[bid] not in text and township != self.township[bid]:
                continue
            s = max(similarity(text, t) for t in self.texts[bid])
            if s > score:
                best, score = bid, s
        return best, score


def _township_of(text: str, towns: list[str]) -> str:
    return next((t for t in towns if t and t in text), "")


def match(register: pd.DataFrame, buildings: gpd.GeoDataFrame, cfg: Monitoring, source: str
          ) -> tuple[pd.DataFrame, list[Finding]]:
    """Match register systems to buildings.

    Parameters
    ----------
    register : one row per system, index ``system_id``, columns from
        :func:`roofpv.io.register_files.read_register` (``kw``, ``building_id``, ``address``,
        ``project``, ``owner``, ``township`` and ``geometry`` points in the CRS of
        ``buildings``, or None).
    buildings : footprints with ``township`` and ``name`` and/or ``address``, index
        ``building_id``.

    Returns
    -------
    matches : one row per system and building it sits on: ``system_id``,
        ``building_id`` (None when unmatched), ``kw`` (the building's share), ``score``,
        ``method``, ``status`` (matched, doubtful, unmatched), ``reason`` and the
        register's ``connected`` date; plus the findings.
    """
    rows: list[dict] = []
    ids = set(buildings.index)
    building_texts = buildings[[c for c in ("name", "address") if c in buildings]]
    index = None  # built when the first system needs its text matched
    towns = sorted({normalise(t) for t in buildings["township"].dropna().unique()}, key=len, reverse=True)
    points = register["geometry"] if "geometry" in register else pd.Series(None, index=register.index)
    located = _locate(points, buildings)
    area = shapely.area(buildings.geometry.to_numpy())
    roof = pd.Series(area, index=buildings.index)
    for sid, r in register.iterrows():
        found: list[tuple[str, float, str, str]] = []  # building, score, method, reason
        bid = r.get("building_id")
        if isinstance(bid, str) and bid in ids:
            found = [(bid, 1.0, "building_id", "register names building id")]
        elif sid in located.index:
            b, d = located.loc[sid]
            score = SCORE_POINT_IN if d == 0 else SCORE_POINT_NEAR
            how = "point in footprint" if d == 0 else f"point {d:.1f} m from footprint"
            found = [(b, score, "point", how)]
        else:
            texts = [normalise(r.get(c)) for c in ("address", "project", "owner")]
            town = normalise(r.get("township")) or _township_of(" ".join(texts), towns)
            if town:  # the township says nothing about which of its buildings
                texts = [t.replace(town, "") for t in texts]
            best: list[tuple[str, float, str, str]] = []
            for column, text in zip(("address", "project", "owner"), texts):
                if not text:
                    continue
                index = index or _NameIndex(building_texts, buildings["township"])
                picks = [(*index.best(v, town), v) for v in variants(text)]
                picks = [(b, s, v) for b, s, v in picks if b is not None]
                if picks and min(s for _, s, _ in picks) > (min(s for _, s, _, _ in best) if best else 0.0):
                    best = [(b, s, "text", f"{column} ~ building name ({s:.2f})") for b, s, _ in picks]
            found = best
        if not found or max(s for _, s, _, _ in found) < cfg.match_min_score:
            why = (f"best candidate {found[0][0]} scores {found[0][1]:.2f} < {cfg.match_min_score}"
                   if found else "no id, point or text to match")
            rows.append(_row(sid, r, None, r["kw"], found[0][1] if found else 0.0, "none", "unmatched", why))
            continue
        found = list(dict.fromkeys(found))
        share = roof.reindex([b for b, *_ in found]).to_numpy(float)
        share = share / share.sum() if share.sum() > 0 else np.full(len(found), 1 / len(found))
        for (b, score, method, reason), w in zip(found, share):
            status = "matched" if score >= cfg.match_sure_score else "doubtful"
            if len(found) > 1:
                reason += f"; one system on {len(found)} buildings, kW split by roof area"
            rows.append(_row(sid, r, b, r["kw"] * w, score, method, status, reason))
    matches = pd.DataFrame(rows, columns=MATCH_COLUMNS)
    return matches, _findings(matches, register, source)


#: Columns of the matches table.
MATCH_COLUMNS = ["system_id", "row", "building_id", "kw", "score", "method", "status", "reason",
                 "connected", "project", "address"]


def _row(sid, r, bid, kw, score, method, status, reason) -> dict:
    return {"system_id": sid, "row": r.get("row"), "building_id": bid, "kw": kw, "score": round(score, 3),
            "method": method, "status": status, "reason": reason, "connected": r.get("connected"),
            "project": r.get("project"), "address": r.get("address")}


def _locate(points: pd.Series, buildings: gpd.GeoDataFrame) -> pd.DataFrame:
    """For systems with a point: the footprint it lies in, else the nearest within NEAR_M."""
    pts = gpd.GeoSeries(points.dropna(), crs=buildings.crs)
    pts = pts[~pts.is_empty]
    if pts.empty:
        return pd.DataFrame(columns=["building_id", "distance"])
    polys = buildings.geometry.reset_index(drop=True)
    tree = shapely.STRtree(polys.to_numpy())
    near, dist = tree.query_nearest(pts.to_numpy(), max_distance=NEAR_M, return_distance=True, all_matches=False)
    out = pd.DataFrame({"building_id": buildings.index.to_numpy()[near[1]], "distance": dist},
                       index=pts.index.to_numpy()[near[0]])
    return out[~out.index.duplicated()]


def _findings(matches: pd.DataFrame, register: pd.DataFrame, source: str) -> list[Finding]:
    out = []
    for m in matches.itertuples():
        if m.status == "unmatched":
            out.append(Finding("warning", source, m.row, None, "address", f"{m.system_id}: {m.address or m.project}",
                               "register system matches no building",
                               f"{m.reason}; add the building id (建筑编号) or coordinates to the register row"))
        elif m.status == "doubtful":
            out.append(Finding("warning", source, m.row, m.building_id, "address",
                               f"{m.system_id} → {m.building_id} ({m.reason}): {m.address or m.project}",
                               f"register system matched doubtfully by {m.method}",
                               "check the building on site or add its id to the register row"))
    return out


def registered_kw(matches: pd.DataFrame, index: pd.Index, before=None) -> pd.Series:
    """Registered kW per building (matched and doubtful systems), optionally only those
    connected before the date ``before``; NaN where no system is matched."""
    m = matches[matches["building_id"].notna()]
    if before is not None:
        when = pd.to_datetime(m["connected"], errors="coerce")
        m = m[when.isna() | (when < pd.Timestamp(before))]
    return m.groupby("building_id")["kw"].sum().reindex(index)


def apply(b: pd.DataFrame, matches: pd.DataFrame, cfg: Monitoring, source: str
          ) -> tuple[pd.DataFrame, list[Finding]]:
    """Existing PV from the register where a system is matched (``existing_pv_source``
    register, else survey); a finding for each building whose surveyed kW disagrees with
    the register by more than ``capacity_tolerance``. A blank surveyed kW is unknown, not
    0 kW: it is not compared, a note says the register's value fills it."""
    kw = registered_kw(matches, b.index)
    surveyed = b["existing_pv_kw"]
    has = kw.notna()
    blank = has & surveyed.isna()
    differs = has & surveyed.notna() & ((surveyed - kw).abs() > cfg.capacity_tolerance * kw.clip(lower=1.0))
    findings = [
        Finding("warning", source, None, bid, "existing_pv_kw",
                f"survey {surveyed[bid]:g} kW, register {kw[bid]:g} kW",
                f"surveyed PV differs from the register by more than {cfg.capacity_tolerance:.0%}; "
                "the register's value is used", "correct 已装光伏容量 in the survey")
        for bid in b.index[differs]
    ]
    findings += [
        Finding("info", source, None, bid, "existing_pv_kw", f"survey blank, register {kw[bid]:g} kW",
                "已装光伏容量 is blank in the survey (unknown, not 0 kW); the register's value is used",
                "nothing to do; fill 已装光伏容量 where the survey is kept up to date")
        for bid in b.index[blank]
    ]
    out = b.copy()
    out["existing_pv_kw"] = kw.where(has, surveyed)
    # The register gives kW only: a surveyed panel area is scaled by register ÷ survey kW;
    # without one the area follows from the kW and the module (resolve_roofs).
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = b["existing_pv_area_m2"] * kw / surveyed
    out["existing_pv_area_m2"] = b["existing_pv_area_m2"].where(~has, scaled.where(surveyed > 0))
    surveyed_any = (surveyed.fillna(0) > 0) | (b["existing_pv_area_m2"].fillna(0) > 0)
    out["existing_pv_source"] = np.where(has, "register", np.where(surveyed_any, "survey", ""))
    return out, findings
