// Every parameter and table cell of a programme with its values across
// dated values and versions, as a table and, on request, a step chart;
// searched by name or citation.
import { h, s, uid, announce } from "./dom.js";
import { t, date, amount } from "./i18n.js";
import { loadOverview, byProgramme, link, programmeChoice } from "./state.js";
import { linkify } from "./citations.js";

// The number in a value as written (`762.00 €`, `35 %`), for the chart.
function numberOf(v) {
  const m = /-?\d+(\.\d+)?/.exec(v || "");
  return m ? Number(m[0]) : null;
}

// A series: [{from, to, value, version}], oldest first; steps change at
// each dated value and each version's start.
function chart(name, series) {
  const pts = series.filter((p) => numberOf(p.value) !== null);
  if (!pts.length) return h("p", { class: "muted" }, "—");
  const day = (iso) => Date.parse(`${iso}T00:00:00Z`) / 86400000;
  const start = day(pts[0].from);
  const end = Math.max(...pts.map((p) => (p.to ? day(p.to) + 1 : day(p.from) + 365)));
  const vals = pts.map((p) => numberOf(p.value));
  const lo = Math.min(0, ...vals), hi = Math.max(...vals) * 1.1 || 1;
  const W = 640, H = 220, L = 56, B = 24;
  const x = (d) => L + ((d - start) / Math.max(end - start, 1)) * (W - L - 10);
  const y = (v) => H - B - ((v - lo) / (hi - lo)) * (H - B - 10);
  let d = "";
  pts.forEach((p, i) => {
    const a = x(day(p.from)), b = x(p.to ? day(p.to) + 1 : end), v = y(vals[i]);
    d += `${i ? "L" : "M"}${a.toFixed(1)},${v.toFixed(1)}L${b.toFixed(1)},${v.toFixed(1)}`;
  });
  const summary = pts.map((p) => `${date(p.from)}: ${amount(p.value)}`).join("; ");
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${name}: ${summary}` },
    s("line", { class: "axis", x1: L, x2: W - 10, y1: H - B, y2: H - B }),
    s("line", { class: "axis", x1: L, x2: L, y1: 10, y2: H - B }),
    s("text", { x: 4, y: y(hi / 1.1) + 4 }, amount(String(+(hi / 1.1).toFixed(2)))),
    s("text", { x: 4, y: y(lo) }, amount(String(lo))),
    s("path", { class: "step", d }));
  const years = new Set();
  for (let yr = new Date(start * 86400000).getUTCFullYear(); yr <= new Date(end * 86400000).getUTCFullYear(); yr += 1) years.add(yr);
  for (const yr of years) {
    const dd = day(`${yr}-01-01`);
    if (dd >= start && dd <= end) svg.append(s("text", { x: x(dd), y: H - 6 }, String(yr)));
  }
  return svg;
}

function valuesTable(series) {
  return h("table", {},
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("from")), h("th", { scope: "col" }, t("version")), h("th", { scope: "col", class: "num" }, t("value")))),
    h("tbody", {}, series.map((p) => h("tr", {}, h("td", {}, date(p.from)), h("td", {}, p.version), h("td", { class: "num" }, amount(p.value))))));
}

function entry(title, citation, series, fileLink) {
  const chartBox = h("div", {});
  const button = h("button", { class: "secondary", type: "button", "aria-expanded": "false", onclick: () => {
    const open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", String(!open));
    chartBox.replaceChildren(open ? "" : chart(title, series));
    if (!open) announce(`${t("plot")}: ${title}`);
  } }, `${t("plot")}: ${title}`);
  const id = uid("param");
  return h("section", { class: "card", "aria-labelledby": id, "data-name": title },
    h("h3", { id }, title),
    citation ? h("p", { class: "citation" }, `${t("source")}: `, linkify(citation)) : null,
    fileLink,
    valuesTable(series),
    button, chartBox);
}

// Each dated value of each version, ending where the next starts.
function seriesOf(points) {
  points.sort((a, b) => a.from.localeCompare(b.from));
  points.forEach((p, i) => {
    const next = points[i + 1];
    if (next && (!p.to || next.from <= p.to)) {
      const d = new Date(`${next.from}T00:00:00Z`);
      d.setUTCDate(d.getUTCDate() - 1);
      p.to = d.toISOString().slice(0, 10);
    }
  });
  return points;
}

export async function render(main, params) {
  const ov = await loadOverview();
  const groups = byProgramme(ov);
  const chosen = params.get("programme") || [...groups.keys()][0];
  const q = (params.get("q") || "").toLowerCase();
  const selectId = uid("programme");
  const searchId = uid("search");
  const select = programmeChoice(selectId, groups, chosen, "parameters", { q: params.get("q") });
  const search = h("input", { id: searchId, type: "search", value: params.get("q") || "", onchange: (e) => { location.hash = link("parameters", { programme: chosen, q: e.target.value }); } });
  main.replaceChildren(h("h1", {}, t("parameters")),
    h("div", { class: "toolbar" }, h("label", { for: selectId }, t("programme")), select, h("label", { for: searchId }, t("search")), search));
  const files = (groups.get(chosen) || []).filter((f) => f.outline);
  // Parameters by name, across versions.
  const params2 = new Map();
  for (const f of files) {
    for (const p of f.outline.parameters) {
      if (!params2.has(p.name)) params2.set(p.name, { citation: p.source || p.section, points: [] });
      for (const v of p.values) {
        params2.get(p.name).points.push({ from: v.from || f.in_force_from, to: f.in_force_to, value: v.value, version: f.version });
      }
    }
  }
  const matches = (name, citation) => !q || name.toLowerCase().includes(q) || (citation || "").toLowerCase().includes(q);
  let shown = 0;
  for (const [name, p] of params2) {
    if (!matches(name, p.citation)) continue;
    main.append(entry(name, p.citation, seriesOf(p.points)));
    shown += 1;
  }
  // Table cells by table and row, across versions.
  const cells = new Map();
  for (const f of files) {
    for (const tb of f.tables || []) {
      for (const r of tb.rows) {
        const key = `${tb.name}(${r.key})`;
        if (!cells.has(key)) cells.set(key, { citation: tb.source || tb.section, points: [] });
        cells.get(key).points.push({ from: f.in_force_from, to: f.in_force_to, value: r.result, version: f.version });
      }
    }
  }
  const tableHeading = h("h2", {}, `${t("tables")}: ${t("cells")}`);
  let tableShown = 0;
  for (const [name, c] of cells) {
    if (!matches(name, c.citation)) continue;
    if (!tableShown) main.append(tableHeading);
    main.append(entry(name, c.citation, seriesOf(c.points)));
    tableShown += 1;
  }
  if (!shown && !tableShown) main.append(h("p", {}, t("noMatch")));
}
