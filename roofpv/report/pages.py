"""HTML pages: a city overview (``index.html``) and one page per township, rendered by
an autoescaping Jinja2 template; every string from the inputs is escaped, charts and
the map are inline SVG and the font is embedded, so each page is one file."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from roofpv.appraise.suitability import STATUS_COLOURS, STATUSES
from roofpv.config import Config
from roofpv.inputs.provenance import sample_inputs, site_mismatch
from roofpv.report import charts, data, maps
from roofpv.report.fonts import font_face_css, printable
from roofpv.report.labels import code_label, reason_label, text
from roofpv.schema import SURFACE_TYPES
from roofpv.targets.milestones import COLOURS, LABELS

#: Roofs listed from the plan: per township, and on the city overview.
PLAN_ROWS_TOWNSHIP, PLAN_ROWS_CITY = 15, 20
_FONT_PLACEHOLDER = "/*roofpv-font*/"


@cache
def environment() -> Environment:
    """Jinja2 environment of the pages: every value is made printable (normalised) and
    then escaped, in that order; values marked ``Markup`` (our SVG) are left as they are."""
    return Environment(loader=PackageLoader("roofpv.report", "templates"), autoescape=True,
                       trim_blocks=True, lstrip_blocks=True, finalize=_printable)


def _printable(value: object) -> object:
    return value if isinstance(value, Markup) or not isinstance(value, str) else printable(value)


def page_file(number: int, name: str) -> str:
    """File name of a township page: its number and the name's letters, digits, CJK
    characters, ``-`` and ``_`` only (no separators or dots from the input)."""
    slug = re.sub(r"[^\w-]+", "", str(name), flags=re.UNICODE)[:40]
    return f"{number:02d}-{slug}.html" if slug else f"{number:02d}.html"


def _num(x: float, digits: int = 1) -> str:
    return "–" if x is None or pd.isna(x) else f"{x:,.{digits}f}"


def _pct(x: float) -> str:
    return "–" if x is None or pd.isna(x) else f"{x:.1%}"


def _figures(row: pd.Series, t: dict) -> list[tuple[str, str]]:
    return [
        (t["buildings"], _num(row["buildings"], 0)), (t["suitable"], _num(row["suitable"], 0)),
        (t["conditional"], _num(row["conditional"], 0)), (t["unsuitable"], _num(row["unsuitable"], 0)),
        (t["counted_mwp"], _num(row["counted_potential_kwp"] / 1000.0)),
        (t["generation_gwh"], _num(row["annual_mwh"] / 1000.0, 2)),
        *([(t["generation_p90_gwh"], _num(row["annual_mwh_p90"] / 1000.0, 2))]
          if "annual_mwh_p90" in row else []),
        (t["existing_mw"], _num(row["existing_pv_kw"] / 1000.0, 2)),
        (t["pv_full"], _num(row["pv_full"], 0)),
        (t["co2_kt"], _num(row["co2_avoided_t_yr"] / 1000.0, 2)),
        (t["technical_mwp"], _num(row["technical_potential_kwp"] / 1000.0)),
        (t["technical_gwh"], _num(row.get("technical_annual_mwh", np.nan) / 1000.0, 2)),
        (t["technical_p90_gwh"], _num(row.get("technical_annual_mwh_p90", np.nan) / 1000.0, 2)),
        *_grid_figures(row, t),
    ]


def _grid_figures(row: pd.Series, t: dict) -> list[tuple[str, str]]:
    """The grid's figures (:func:`roofpv.grid.assess.township_grid`) where the run has them."""
    out = []
    if pd.notna(row.get("transformers_green", np.nan)):
        out += [(t["grid_grades"], "/".join(_num(row[f"transformers_{g}"], 0) for g in ("green", "yellow", "red"))),
                (t["grid_open_mwp"], _num(row["open_kw"] / 1000.0, 2)),
                (t["grid_storage_mwh"], _num(row["storage_to_host_kwh"] / 1000.0, 2))]
    if pd.notna(row.get("self_consumption_share", np.nan)):
        out.append((t["grid_self_use"], _pct(row["self_consumption_share"])))
    return out


#: Transformers listed per township where hosting binds, most kWp held back first.
GRID_ROWS = 10


def _grid_note(row: pd.Series, t: dict) -> str | None:
    """The township's hosting grades and open capacity, to stand beside a coverage
    figure (None without the grid's figures)."""
    if pd.isna(row.get("transformers_green", np.nan)):
        return None
    return t["grid_note"].format(**{g: _num(row[f"transformers_{g}"], 0) for g in ("green", "yellow", "red")},
                                 open=_num(row["open_kw"] / 1000.0, 2))


def _release_rows(transformers: pd.DataFrame | None, townships: set[str] | None, t: dict) -> list[dict] | None:
    """The transformers of ``townships`` (None: all) whose candidate roofs exceed their
    open capacity, most kWp held back first (at most :data:`GRID_ROWS`), each with the
    storage or upgrade that would release it; None without a transformers layer."""
    if transformers is None or "released_kwp" not in transformers:
        return None
    own = transformers if townships is None else transformers[transformers["township"].isin(townships)]
    bound = own[own["released_kwp"] > 0].sort_values("released_kwp", ascending=False, kind="stable").head(GRID_ROWS)
    rows = []
    for r in bound.itertuples():
        cost = getattr(r, "storage_to_host_yuan", np.nan)
        if r.storage_to_host_kwh > 0:
            measure = t["grid_release"].format(kwh=_num(r.storage_to_host_kwh, 0), kw=_num(r.storage_to_host_kw, 0),
                                               kva=_num(r.kva + r.upgrade_kva, 0), kwp=_num(r.released_kwp, 0))
            if pd.notna(cost):
                measure += t["grid_release_cost"].format(wan=_num(cost / 1e4, 1))
        else:  # held back at DL/T 2041's typical moment only
            measure = t["grid_release_hourly"].format(kwp=_num(r.released_kwp, 0))
        rows.append({"id": r.transformer_id, "grade": t.get(f"grade_{r.grade}", r.grade),
                     "open": _num(r.open_kw, 0), "candidate": _num(r.candidate_kwp, 0), "measure": measure})
    return rows


def _target_names(config: Config, lang: str) -> dict[str, str]:
    return {t.name: (t.label if lang == "zh" else t.name.replace("_", " ")) for t in config.policy.targets}


def _plan_rows(roofs: pd.DataFrame | None, n: int, config: Config, lang: str,
               sheet_of: dict) -> list[dict] | None:
    """The first ``n`` of the ranked ``roofs`` (:func:`roofpv.report.data.plan_roofs`) as
    table rows; None without a plan."""
    if roofs is None:
        return None
    names = _target_names(config, lang)
    return [
        {"id": bid, "name": "" if pd.isna(r["name"]) else r["name"], "township": r["township"],
         "sheet": sheet_of.get(bid, ""),
         "category": code_label("category", r["category"], lang), "kwp": _num(r["capacity_kwp"]),
         "mwh": _num(r["annual_kwh"] / 1000.0), "year": int(r["build_year"]),
         "targets": "；".join(names.get(x, x) for x in r["targets"]) if lang == "zh"
         else "; ".join(names.get(x, x) for x in r["targets"])}
        for bid, r in roofs.head(n).iterrows()
    ]


def _exclusion_rows(b: pd.DataFrame, config: Config, lang: str) -> list[dict]:
    t = text(lang)
    return [
        {"label": reason_label(r.reason, lang), "code": r.reason, "severity": t[r.severity],
         "count": f"{r.buildings:,}"}
        for r in data.exclusions(b, config.rules.severity).itertuples()
    ]


def _map_words(t: dict) -> dict[str, str]:
    return {k: t[f"map_{k}"] for k in ("sheet", "north", "m", "km", "overview")}


def _city_maps(report: data.ReportData, targets, t: dict, lang: str, names: list[str] | None = None
               ) -> list[dict]:
    """Per target: the townships (``names``, default all) coloured by the status of its
    last milestone on the run date (:mod:`roofpv.targets.milestones`)."""
    polygons = report.polygons
    if names is not None and polygons is not None:
        polygons = polygons.loc[polygons.index.intersection(names, sort=False)]
    if polygons is None or polygons.empty:
        return []
    out = []
    for target in targets:
        year = max(target.milestones, default=None)
        column = f"{target.name}_status_{year}"
        if year is None or column not in report.townships.columns:
            continue
        status = report.townships[column].reindex(polygons.index)
        fill = {name: COLOURS[s] for name, s in status.items() if s in COLOURS}
        name = target.label if lang == "zh" else target.name.replace("_", " ")
        out.append({"svg": Markup(maps.city_map(polygons, fill, _map_words(t), f"{year}")),
                    "title": t["city_map_title"].format(target=name, year=year)})
    return out


def _survey_rows(b: pd.DataFrame, order: list[str], city: str, targets) -> list[dict]:
    """Survey completeness per township and for the city (:mod:`roofpv.fieldwork.completeness`)."""
    from roofpv.fieldwork.completeness import TOTAL, from_buildings, summary

    table = summary(from_buildings(b), targets, order).rename(index={TOTAL: city})
    return [{
        "name": name, "total": name == city, "buildings": _num(row["buildings"], 0),
        "surveyed": _pct(row["surveyed_share"]), "complete": _pct(row["complete_share"]),
        "cohorts": [f"{_pct(row[f'{t.name}_complete_share'])} / {int(row[f'{t.name}_cohort']):,}"
                    for t in targets],
        "field_check": _num(row["field_check"], 0),
    } for name, row in table.iterrows()]


def _area_rows(table: pd.DataFrame, names: list[str], total: str, files_of: dict[str, str], targets,
               lang: str) -> list[dict]:
    """Rows of a township (or county) table: ``names`` then the ``total`` row, each
    linked to its page where it has one, with coverage and milestone status per target."""
    rows = []
    for name in [*names, total]:
        row = table.loc[name]
        rows.append({
            "name": name, "file": files_of.get(name), "total": name == total,
            "buildings": _num(row["buildings"], 0), "suitable": _num(row["suitable"], 0),
            "mwp": _num(row["counted_potential_kwp"] / 1000.0),
            "technical": _num(row["technical_potential_kwp"] / 1000.0), "gwh": _num(row["annual_mwh"] / 1000.0, 2),
            "technical_gwh": (f"{_num(row.get('technical_annual_mwh', np.nan) / 1000.0, 2)} / "
                              f"{_num(row.get('technical_annual_mwh_p90', np.nan) / 1000.0, 2)}"),
            "coverage": [
                {"today": _pct(c["today"]), "potential": _pct(c["potential"]), "technical": _pct(c["technical"]),
                 "reach": [(year, LABELS[lang][s], COLOURS[s]) for year, _, s in c["milestones"]],
                 "condition": c["grid_condition"], "grid": _grid_note(row, text(lang))}
                for c in data.coverage_rows(row, targets)
            ],
        })
    return rows


def county_file(number: int, name: str) -> str:
    """File name of a county page of a province report (``county-01-<name>.html``)."""
    return f"county-{page_file(number, name)}"


def _page(context: dict, lang: str) -> str:
    css = (files("roofpv.report") / "templates" / "report.css").read_text(encoding="utf-8")
    t = text(lang)
    return environment().get_template("page.html.j2").render(
        t=t, lang=lang, css=Markup(css), font_css=Markup(_FONT_PLACEHOLDER), **context
    )


def render(report: data.ReportData, config: Config, parameters: pd.DataFrame, lang: str,
           config_name: str) -> dict[str, str]:
    """Every page of the report by file name: ``index.html`` first, then (a province
    report) the counties, then the townships."""
    t = text(lang)
    b, towns = report.buildings, report.townships
    targets = config.policy.targets
    site = config.site.name
    township_of = b["township"].to_numpy()
    pages: dict[str, str] = {}
    files_of = {name: page_file(i + 1, name) for i, name in enumerate(report.order)}
    names = _target_names(config, lang)

    def common(name: str, mask: np.ndarray, row: pd.Series | None = None) -> dict:
        row = towns.loc[name] if row is None else row
        sub = b[mask]
        return {
            "figures": _figures(row, t),
            "coverage_svg": Markup(charts.coverage_chart(data.coverage_rows(row, targets), lang)),
            "category_svg": Markup(charts.category_chart(data.by_category(sub), lang)),
            "surface_svg": Markup(charts.category_chart(
                data.by_surface(row, report.surfaces, None if name == report.city else set(sub["township"])), lang,
                surface_labels, t["by_surface"])),
            "by_surface_note": t["by_surface_note"].format(
                roofs=_pct(row.get("substitution_roofs", np.nan)),
                facades=_pct(row.get("substitution_with_facades", np.nan)), all=_pct(row.get("substitution_all", np.nan))),
            "monthly_svg": Markup(charts.monthly_chart(data.monthly_mwh(b, report.monthly_share, mask), lang)),
            "exclusion_rows": _exclusion_rows(sub, config, lang),
            "grid_note": _grid_note(row, t),
            "grid_conditions": [(names[c.name], c.grid_condition) for c in targets if c.grid_condition],
            "release_rows": _release_rows(report.transformers, None if name == report.city else set(sub["township"]), t),
            "site": site, "config_name": config_name, "banners": banners, "province": report.province,
        }

    surface_labels = {"roofs": t["surface_roofs"], "facades": t["surface_facades"],
                      **{k: v[0 if lang == "zh" else 1] for k, v in SURFACE_TYPES.items()}}
    banners = []
    samples = sample_inputs(config)
    if samples:
        banners.append(t["banner_sample"].format(files="、".join(samples) if lang == "zh" else ", ".join(samples)))
    km = site_mismatch(config, report.polygons)
    if km is not None:
        banners.append(t["banner_site"].format(site=site, km=km))
    polygons = report.polygons.geometry if report.polygons is not None else None
    everything = np.ones(len(b), dtype=bool)
    # every planned roof ranked once; a township's (county's) are its rows, in that order
    city_plan = data.plan_roofs(report.plan) if report.plan is not None else None
    atlases, plans = {}, {}
    for name in report.order:
        mask = township_of == name
        boundary = polygons.loc[[name]] if polygons is not None and name in polygons.index else None
        plans[name] = city_plan[city_plan["township"] == name] if city_plan is not None else None
        ranked = plans[name].head(PLAN_ROWS_TOWNSHIP).index if plans[name] is not None else []
        atlases[name] = maps.township_atlas(b[mask], boundary, {bid: i + 1 for i, bid in enumerate(ranked)},
                                            _map_words(t))
    sheet_of = {bid: f"{name} {letter}" if lang == "en" else f"{name}{letter}"
                for name, atlas in atlases.items() for bid, letter in atlas.sheet_of.items()}
    township_rows = _area_rows(towns, report.order, report.city, files_of, targets, lang)
    target_heads = [{"short": name} for name in _target_names(config, lang).values()]
    counties, province = report.counties, report.province
    county_names = [c for c in counties.index if c != province] if counties is not None else []
    county_files = {name: county_file(i + 1, name) for i, name in enumerate(county_names)}
    place, overview = (site, t["overview"]) if counties is None else (province, t["province_overview"])
    pages["index.html"] = _page({
        **common(report.city, everything),
        "heading": f"{place} {overview}" if lang == "zh" else f"{place} · {overview}",
        "is_index": True,
        "targets": target_heads,
        "county_rows": (_area_rows(counties, county_names, province, county_files, targets, lang)
                        if counties is not None else None),
        "township_rows": township_rows,
        "city_maps": _city_maps(report, targets, t, lang),
        "milestone_legend": [(COLOURS[s], LABELS[lang][s]) for s in COLOURS],
        "plan_title": t["plan"].format(n=PLAN_ROWS_CITY),
        "plan_rows": _plan_rows(city_plan, PLAN_ROWS_CITY, config, lang, sheet_of),
        "parameter_rows": parameters.to_dict("records"),
        "survey_rows": _survey_rows(b, report.order, report.city, targets),
    }, lang)
    for name in county_names:  # a province report: one page per county
        own = [n for n in report.order if towns.at[n, "county"] == name]
        mask = b["county"].to_numpy() == name
        rows = pd.concat([towns.loc[own], counties.loc[[name]]])
        plan = city_plan[city_plan["township"].isin(own)] if city_plan is not None else None
        pages[county_files[name]] = _page({
            **common(name, mask, counties.loc[name]),
            "heading": f"{province} {name}" if lang == "zh" else f"{name}, {province}",
            "is_index": False, "is_county": True,
            "targets": target_heads,
            "township_rows": _area_rows(rows, own, name, files_of, targets, lang),
            "city_maps": _city_maps(report, targets, t, lang, own),
            "milestone_legend": [(COLOURS[s], LABELS[lang][s]) for s in COLOURS],
            "plan_title": t["plan"].format(n=PLAN_ROWS_CITY),
            "plan_rows": _plan_rows(plan, PLAN_ROWS_CITY, config, lang, sheet_of),
        }, lang)
    for name in report.order:
        atlas = atlases[name]
        pages[files_of[name]] = _page({
            **common(name, township_of == name),
            "heading": f"{site} {name}" if lang == "zh" else f"{name}, {site}",
            "is_index": False,
            "overview_svg": Markup(atlas.overview),
            "sheets": [(letter, Markup(svg)) for letter, svg in atlas.sheets],
            "map_note": t["map_note"].format(n=len(atlas.sheets), scale=atlas.scale * 96 / 0.0254),
            "legend": [(maps.hex_colour(STATUS_COLOURS[s]), t[s]) for s in STATUSES],
            "plan_title": t["plan"].format(n=PLAN_ROWS_TOWNSHIP),
            "plan_rows": _plan_rows(plans[name], PLAN_ROWS_TOWNSHIP, config, lang,
                                    {bid: letter for bid, letter in atlas.sheet_of.items()}),
        }, lang)
    pages = {name: printable(html, markup=True) for name, html in pages.items()}
    font = font_face_css("".join(set("".join(pages.values()))))
    return {name: html.replace(_FONT_PLACEHOLDER, font, 1) for name, html in pages.items()}
