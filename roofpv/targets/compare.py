"""Progress between two runs: what was built, which buildings changed and why, and the
trend of each township against the milestones. Works on the outputs of two runs only.

The pace between the runs is the change of coverage today divided by the years between
their run dates (``milestone status as of`` in ``run_info``); the projection extends
it linearly to each milestone's deadline (31 December of its year).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from roofpv.schema import CITY
from roofpv.targets.milestones import COLOURS, LABELS, deadline

#: Change codes of the changed-buildings layer.
CHANGES = ("added", "removed", "new_pv", "pv_increased", "pv_decreased", "pv_removed",
           "pv_source_changed", "suitability_changed")
#: Relative kW change below which existing PV counts as unchanged (rounding in outputs).
KW_TOLERANCE = 1e-3


def targets_of(townships: pd.DataFrame) -> dict[str, list[int]]:
    """Target names and milestone years found in a township table's columns."""
    names = [c.removesuffix("_coverage_today") for c in townships.columns if c.endswith("_coverage_today")]
    return {n: sorted(int(m.group(1)) for c in townships.columns
                      if (m := re.fullmatch(rf"{re.escape(n)}_target_(\d{{4}})", c))) for n in names}


def _kw(b: pd.DataFrame) -> pd.Series:
    return b["existing_pv_kw"].fillna(0.0).astype(float)


def building_changes(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every building that differs between the runs: ``change`` (codes of
    :data:`CHANGES`, ``;``-separated), ``why`` (in words), kW and suitability before and
    after; geometry of the new run (of the old one for removed buildings)."""
    ids = old.index.union(new.index)
    o, n = old.reindex(ids), new.reindex(ids)
    kw_o, kw_n = _kw(o), _kw(n)
    in_o, in_n = ids.isin(old.index), ids.isin(new.index)
    tol = KW_TOLERANCE * np.maximum(kw_o, 1.0)
    src_o = o.get("existing_pv_source", pd.Series("", index=ids)).fillna("")
    src_n = n.get("existing_pv_source", pd.Series("", index=ids)).fillna("")
    both = in_o & in_n
    flags = {
        "added": ~in_o, "removed": ~in_n,
        "new_pv": both & (kw_o <= 0) & (kw_n > 0),
        "pv_increased": both & (kw_o > 0) & (kw_n > kw_o + tol),
        "pv_decreased": both & (kw_n > 0) & (kw_n < kw_o - tol),
        "pv_removed": both & (kw_o > 0) & (kw_n <= 0),
        "pv_source_changed": both & (src_o != src_n) & (src_o != "") & (src_n != ""),
        "suitability_changed": both & (o["suitability"].fillna("") != n["suitability"].fillna("")),
    }
    frame = pd.DataFrame(flags, index=ids)
    changed = frame.any(axis=1)
    frame, o, n = frame[changed], o[changed], n[changed]
    kw_o, kw_n, src_n, src_o = kw_o[changed], kw_n[changed], src_n[changed], src_o[changed]
    change = frame.apply(lambda r: ";".join(c for c in CHANGES if r[c]), axis=1) if len(frame) else pd.Series(
        dtype=str)
    why = [_why(frame.loc[i], kw_o[i], kw_n[i], src_o[i], src_n[i], o.loc[i], n.loc[i]) for i in frame.index]
    geometry = n.geometry.where(~frame["removed"], o.geometry) if len(frame) else n.geometry
    out = pd.DataFrame({
        "township": n["township"].where(~frame["removed"], o["township"]),
        **({"county": n["county"].where(~frame["removed"], o["county"])}  # a province run's
           if "county" in n and "county" in o else {}),
        "name": n.get("name", pd.Series(index=frame.index)).where(~frame["removed"], o.get("name")),
        "change": change, "why": why, "existing_pv_kw_old": kw_o, "existing_pv_kw_new": kw_n,
        "kw_added": kw_n - kw_o, "existing_pv_source": src_n,
        "suitability_old": o["suitability"], "suitability_new": n["suitability"],
    }, index=frame.index)
    out.index.name = "building_id"
    return gpd.GeoDataFrame(out, geometry=geometry.to_numpy(), crs=new.crs or old.crs)


def _why(flags: pd.Series, kw_o: float, kw_n: float, src_o: str, src_n: str, o: pd.Series, n: pd.Series) -> str:
    parts = []
    if flags["added"]:
        parts.append("footprint only in the new run")
    if flags["removed"]:
        parts.append("footprint only in the old run")
    source = f" ({src_n})" if src_n else ""
    if flags["new_pv"]:
        parts.append(f"new PV {kw_n:,.1f} kW{source}")
    if flags["pv_increased"] or flags["pv_decreased"]:
        parts.append(f"PV {kw_o:,.1f} → {kw_n:,.1f} kW{source}")
    if flags["pv_removed"]:
        parts.append(f"PV {kw_o:,.1f} kW no longer recorded")
    if flags["pv_source_changed"]:
        parts.append(f"PV from the {src_n} instead of the {src_o}")
    if flags["suitability_changed"]:
        before = set(str(o.get("reasons") or "").split(";")) - {""}
        after = set(str(n.get("reasons") or "").split(";")) - {""}
        delta = [f"+{r}" for r in sorted(after - before)] + [f"−{r}" for r in sorted(before - after)]
        parts.append(f"{o['suitability']} → {n['suitability']}" + (f" ({', '.join(delta)})" if delta else ""))
    return "; ".join(parts)


def _years(old_date: dt.date | None, new_date: dt.date | None) -> float:
    if old_date is None or new_date is None:
        return np.nan
    return (new_date - old_date).days / 365.25


#: The table of each level of a run (:func:`roofpv.io.outputs.read_outputs`).
LEVEL_TABLES = {"township": "townships", "county": "counties"}


def township_changes(old: dict, new: dict, changes: pd.DataFrame, total: str,
                     level: str = "township") -> pd.DataFrame:
    """Per township (and the whole-city row ``total``): systems and kW before and after,
    new systems, kW added, buildings changed, and per target coverage before and after,
    the change in points, the pace (points a year) and each milestone's status before
    and after. ``level="county"``: the same per county of a province run, ``total``
    the province row."""
    ob, nb = old["buildings"], new["buildings"]
    table = LEVEL_TABLES[level]
    towns = [t for t in new[table].index if t != total]
    towns += [t for t in old[table].index if t not in towns and t != total]

    def per(b, values):
        s = pd.Series(values, index=b.index).groupby(b[level]).sum()
        return s.reindex(towns, fill_value=0).pipe(lambda x: pd.concat([x, pd.Series({total: x.sum()})]))

    out = pd.DataFrame({
        "systems_old": per(ob, _kw(ob) > 0), "systems_new": per(nb, _kw(nb) > 0),
        "kw_old": per(ob, _kw(ob)), "kw_new": per(nb, _kw(nb)),
    })
    codes = changes["change"].str.split(";")
    c = pd.DataFrame({level: changes[level], "new": codes.map(lambda x: "new_pv" in x),
                      "changed": True, "kw": changes["kw_added"].clip(lower=0)})
    counts = c.groupby(level)[["new", "changed", "kw"]].sum().reindex(towns, fill_value=0)
    counts.loc[total] = counts.sum()
    out["new_systems"] = counts["new"].astype(int)
    out["kw_added"] = counts["kw"]
    out["buildings_changed"] = counts["changed"].astype(int)
    years = _years(old.get("as_of"), new.get("as_of"))
    ot, nt = old[table].reindex(out.index), new[table].reindex(out.index)
    for name, milestones in targets_of(new[table]).items():
        before = ot.get(f"{name}_coverage_today", pd.Series(np.nan, index=out.index))
        after = nt[f"{name}_coverage_today"]
        out[f"{name}_coverage_old"] = before
        out[f"{name}_coverage_new"] = after
        out[f"{name}_points"] = 100 * (after - before)
        out[f"{name}_pace_points_yr"] = out[f"{name}_points"] / years if years > 0 else np.nan
        for year in milestones:
            out[f"{name}_target_{year}"] = nt[f"{name}_target_{year}"]
            out[f"{name}_status_{year}_old"] = ot.get(f"{name}_status_{year}", pd.Series("", index=out.index))
            out[f"{name}_status_{year}_new"] = nt.get(f"{name}_status_{year}", pd.Series("", index=out.index))
            if new.get("as_of") is not None:
                left = (deadline(year) - new["as_of"]).days / 365.25
                out[f"{name}_projected_{year}"] = after + max(left, 0) * out[f"{name}_pace_points_yr"] / 100
    out.index.name = level
    return out.fillna({c: "" for c in out.columns if "_status_" in c})


def cohort_changes(old: dict, new: dict, changes: pd.DataFrame) -> pd.DataFrame:
    """Per target cohort (``cohort_<target>`` of the buildings) and township: cohort
    buildings, new systems and kW added in the cohort."""
    nb = new["buildings"]
    rows = []
    for name in targets_of(new["townships"]):
        col = f"cohort_{name}"
        if col not in nb:
            continue
        member = nb[col].fillna(False).astype(bool)
        ch = changes[changes.index.isin(nb.index[member])]
        new_pv = ch["change"].str.contains("new_pv")
        for town, group in nb[member].groupby("township"):
            sub = ch[ch["township"] == town]
            rows.append({"target": name, "township": town, "cohort_buildings": len(group),
                         "with_pv": int((_kw(group) > 0).sum()), "new_systems": int(new_pv[sub.index].sum()),
                         "kw_added": float(sub["kw_added"].clip(lower=0).sum())})
    return pd.DataFrame(rows, columns=["target", "township", "cohort_buildings", "with_pv", "new_systems",
                                       "kw_added"])


def _chip(status: str, lang: str) -> str:
    if not status:
        return '<span class="chip none">–</span>'
    label = LABELS[lang].get(status, status)
    colour = COLOURS.get(status, "#999999")
    return f'<span class="chip" style="background:{colour}">{html.escape(label)}</span>'


def _pct(x) -> str:
    return "–" if pd.isna(x) else f"{100 * x:.1f}%"


def _when(date: dt.date) -> float:
    """A date as a decimal year."""
    return date.year + (date.timetuple().tm_yday - 1) / 365.25


def _trend_svg(row: pd.Series, name: str, milestones: list[int], old_date, new_date) -> str:
    """Coverage of the whole city at the two run dates, the straight line through them to
    the last milestone (when the runs are on different dates), and each milestone's target
    at its deadline, coloured by its status in the new run."""
    if old_date is None or new_date is None:
        return ""
    w, h, pad = 560, 210, 40
    points = [(_when(old_date), row[f"{name}_coverage_old"]), (_when(new_date), row[f"{name}_coverage_new"])]
    targets = [(y + 1.0, row[f"{name}_target_{y}"]) for y in milestones]
    x0 = np.floor(min(points[0][0], targets[0][0] - 1))
    x1 = max(points[1][0], targets[-1][0])
    top = max([v for _, v in points + targets if pd.notna(v)] + [0.01]) * 1.15

    def sx(x):
        return pad + (x - x0) / max(x1 - x0, 1e-9) * (w - 2 * pad)

    def sy(v):
        return h - pad - v / top * (h - 2 * pad)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">',
             f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#888"/>']
    for y in range(int(x0), int(np.ceil(x1)) + 1):  # a tick at each new year, its name mid-year
        parts.append(f'<line x1="{sx(y):.1f}" y1="{h - pad}" x2="{sx(y):.1f}" y2="{h - pad + 4}" stroke="#888"/>')
        if y < x1:
            parts.append(f'<text x="{sx(y + 0.5):.1f}" y="{h - pad + 15}" font-size="10" '
                         f'text-anchor="middle">{y}</text>')
    (ax, av), (bx, bv) = points
    if pd.notna(av) and pd.notna(bv) and bx > ax:
        ev = bv + (bv - av) / (bx - ax) * (x1 - bx)
        parts.append(f'<line x1="{sx(bx):.1f}" y1="{sy(bv):.1f}" x2="{sx(x1):.1f}" y2="{sy(ev):.1f}" '
                     'stroke="#2874a6" stroke-dasharray="4 3"/>')
        parts.append(f'<line x1="{sx(ax):.1f}" y1="{sy(av):.1f}" x2="{sx(bx):.1f}" y2="{sy(bv):.1f}" '
                     'stroke="#2874a6" stroke-width="2"/>')
    for k, (x, v) in enumerate(points):
        if pd.notna(v):
            parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(v):.1f}" r="3.5" fill="#2874a6"/>'
                         f'<text x="{sx(x) + 6:.1f}" y="{sy(v) + (12 if k == 0 else -6):.1f}" font-size="10">'
                         f'{_pct(v)}</text>')
    for (x, v), y in zip(targets, milestones):
        colour = COLOURS.get(row.get(f"{name}_status_{y}_new", ""), "#666666")
        parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(v):.1f}" r="5" fill="{colour}"/>'
                     f'<text x="{sx(x) - 7:.1f}" y="{sy(v) - 7:.1f}" font-size="10" text-anchor="end">'
                     f'{y} {_pct(v)}</text>')
    parts.append("</svg>")
    return "".join(parts)


PAGE_CSS = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 7px;font-size:13px}
td.num{text-align:right}.chip{color:#fff;border-radius:3px;padding:0 5px;font-size:12px}
.chip.none{color:#666}tr.total{font-weight:bold;background:#f4f4f4}"""


def _level_table(table: pd.DataFrame, level: str, total: str, name: str, milestones: list[int],
                 lang: str) -> list[str]:
    """The table of one level (townships or counties, ``level`` its column head) for
    target ``name`` on the page, the ``total`` row marked."""
    e = html.escape
    zh = lang == "zh"
    head = [level, "原覆盖率" if zh else "old", "新覆盖率" if zh else "new",
            "变化(百分点)" if zh else "points", "年进度(百分点)" if zh else "points/yr"]
    for y in milestones:
        head += [f"{y} {'目标' if zh else 'target'}", f"{y} {'状态' if zh else 'status'}",
                 f"{y} {'按当前进度' if zh else 'at this pace'}"]
    out = ["<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr></thead><tbody>"]
    for town, r in table.iterrows():
        cells = [f"<td>{e(str(town))}</td>"] + [f'<td class="num">{v}</td>' for v in (
            _pct(r[f"{name}_coverage_old"]), _pct(r[f"{name}_coverage_new"]),
            "–" if pd.isna(r[f"{name}_points"]) else f"{r[f'{name}_points']:+.1f}",
            "–" if pd.isna(r[f"{name}_pace_points_yr"]) else f"{r[f'{name}_pace_points_yr']:+.1f}")]
        for y in milestones:
            proj = r.get(f"{name}_projected_{y}", np.nan)
            cells += [f'<td class="num">{_pct(r[f"{name}_target_{y}"])}</td>',
                      f"<td>{_chip(r[f'{name}_status_{y}_old'], lang)} → {_chip(r[f'{name}_status_{y}_new'], lang)}</td>",
                      f'<td class="num">{_pct(proj)}</td>']
        cls = ' class="total"' if town == total else ""
        out.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return out

def page(table: pd.DataFrame, cohorts: pd.DataFrame, old: dict, new: dict, labels: dict[str, str],
         total: str, lang: str = "zh", counties: pd.DataFrame | None = None) -> str:
    """The comparison report page: self-contained HTML, every input string escaped;
    with ``counties`` (a province run) a county table above each township table."""
    e = html.escape
    zh = lang == "zh"
    when = [f"{r['folder']} ({r['as_of'] or '?'})" for r in (old, new)]
    out = [f"<!DOCTYPE html><html lang=\"{'zh-CN' if zh else 'en'}\"><head><meta charset=\"utf-8\">",
           f"<title>{'两次评估对比' if zh else 'Progress between runs'}</title><style>{PAGE_CSS}</style></head><body>",
           f"<h1>{'两次评估对比' if zh else 'Progress between runs'}</h1>",
           f"<p>{'原' if zh else 'old'}: {e(when[0])}<br>{'新' if zh else 'new'}: {e(when[1])}</p>"]
    city = table.loc[total]
    out.append(f"<p>{'新增光伏' if zh else 'new systems'}: {int(city['new_systems']):,} · "
               f"{'新增容量' if zh else 'kW added'}: {city['kw_added']:,.1f} kW · "
               f"{'变化建筑' if zh else 'buildings changed'}: {int(city['buildings_changed']):,}</p>")
    for name, milestones in targets_of(new["townships"]).items():
        out.append(f"<h2>{e(labels.get(name, name))}</h2>")
        out.append(_trend_svg(city, name, milestones, old.get("as_of"), new.get("as_of")))
        if counties is not None:  # a province run: the counties, the province row last
            out += _level_table(counties, "县(市、区)" if zh else "county", counties.index[-1], name, milestones, lang)
        out += _level_table(table, "镇街道" if zh else "township", total, name, milestones, lang)
        sub = cohorts[cohorts["target"] == name]
        if len(sub):
            out.append(f"<p>{'对象建筑' if zh else 'cohort'}: " + " · ".join(
                f"{e(str(r.township))} {r.new_systems} / {r.cohort_buildings}" for r in sub.itertuples())
                + f" ({'新增光伏 / 对象建筑数' if zh else 'new systems / cohort buildings'})</p>")
    legend = " ".join(_chip(s, lang) for s in COLOURS)
    out.append(f"<p>{legend}</p><p>{'按当前进度：两次评估之间的年进度线性外推至目标年末。' if zh else 'At this pace: the pace between the runs extended linearly to the end of the milestone year.'}</p>")
    out.append("</body></html>")
    return "\n".join(out)


@dataclass(frozen=True)
class Comparison:
    """Progress between two runs (:func:`compare`).

    ``changes``: every building that changed (:func:`building_changes`, by building id);
    ``townships``: per township and the whole city (:data:`roofpv.schema.CITY`, last)
    (:func:`township_changes`); ``cohorts``: per target cohort and township
    (:func:`cohort_changes`); ``old``, ``new``: the two runs' outputs as compared;
    ``labels``: target name → label shown on the page.
    """

    changes: gpd.GeoDataFrame
    townships: pd.DataFrame
    cohorts: pd.DataFrame
    old: dict
    new: dict
    labels: dict[str, str] = field(default_factory=dict)
    #: Per county and the province (last) when both runs are province runs, else None.
    counties: pd.DataFrame | None = None

    def html(self, lang: str = "zh") -> str:
        """The comparison page (``compare.html``) in ``lang`` (``zh`` or ``en``)."""
        return page(self.townships, self.cohorts, self.old, self.new, self.labels, CITY, lang, self.counties)


def compare(old: dict, new: dict, labels: dict[str, str] | None = None) -> Comparison:
    """Progress from the run ``old`` to the run ``new``.

    Each run is a dict as :func:`roofpv.io.outputs.read_outputs` returns it (``buildings``
    by building id, ``townships`` with the whole-city row) with ``as_of``, its run date
    (a :class:`datetime.date`, or None: then no pace), and ``folder``, how the page names
    it. ``labels``: target name → label (default: the target names).
    """
    changes = building_changes(old["buildings"], new["buildings"])
    towns = township_changes(old, new, changes, CITY)
    cohorts = cohort_changes(old, new, changes)
    counties = None
    if all(run.get("counties") is not None for run in (old, new)) and "county" in changes:
        counties = township_changes(old, new, changes, new["counties"].index[-1], "county")
    return Comparison(changes, towns, cohorts, old, new, dict(labels or {}), counties)
