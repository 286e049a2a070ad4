// Every programme and its versions on a timeline of validity periods, with
// each version's status: findings, examples, properties, coverage.
import { h, s } from "./dom.js";
import { t, date } from "./i18n.js";
import { loadOverview, byProgramme, link, text } from "./state.js";

function timeline(files) {
  const dated = files.filter((f) => f.in_force_from);
  if (!dated.length) return null;
  const day = (iso) => Date.parse(`${iso}T00:00:00Z`) / 86400000;
  const start = Math.min(...dated.map((f) => day(f.in_force_from)));
  const ends = dated.map((f) => (f.in_force_to ? day(f.in_force_to) + 1 : day(f.in_force_from) + 730));
  const end = Math.max(...ends);
  const width = 720, left = 10, rowH = 26;
  const x = (d) => left + ((d - start) / Math.max(end - start, 1)) * (width - 2 * left);
  const height = dated.length * rowH + 24;
  const svg = s("svg", { class: "timeline", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": t("timeline") });
  dated.forEach((f, i) => {
    const a = x(day(f.in_force_from));
    const b = x(ends[i]);
    const y = i * rowH + 4;
    const colour = f.errors ? "#a3181a" : "#0a54a8";
    svg.append(s("rect", { x: a, y, width: Math.max(b - a, 2), height: rowH - 8, fill: colour, rx: 3 }));
    svg.append(s("text", { x: a + 6, y: y + rowH / 2 + 1, fill: "#ffffff", style: "fill:#ffffff" }, f.version));
  });
  const firstYear = new Date(start * 86400000).getUTCFullYear();
  const lastYear = new Date(end * 86400000).getUTCFullYear();
  for (let yr = firstYear; yr <= lastYear; yr += 1) {
    const d = day(`${yr}-01-01`);
    if (d < start || d > end) continue;
    svg.append(s("line", { x1: x(d), x2: x(d), y1: 0, y2: height - 16, stroke: "#4a5360", "stroke-dasharray": "2,3" }));
    svg.append(s("text", { x: x(d) + 2, y: height - 4 }, String(yr)));
  }
  return svg;
}

function status(f) {
  if (f.errors) return h("span", { class: "bad" }, `${f.errors} ${t("errors")}, ${f.warnings} ${t("warnings")}`);
  const parts = [];
  const ex = f.examples;
  parts.push(h("span", { class: ex.passed === ex.total ? "ok" : "bad" }, `${t("examples")} ${ex.passed}/${ex.total}`));
  const pr = f.properties;
  parts.push(" · ", h("span", { class: pr.failed ? "bad" : "ok" }, `${t("properties")} ${pr.searched}: ${pr.failed ? t("failedProps") : t("verified")}`));
  parts.push(" · ", `${t("coverage")} ${f.coverage.percent.toFixed(0)} %`);
  if (f.warnings) parts.push(" · ", h("span", { class: "warn" }, `${f.warnings} ${t("warnings")}`));
  return h("span", {}, parts);
}

export async function render(main) {
  const ov = await loadOverview(true);
  main.replaceChildren(h("h1", {}, t("programmes")));
  if (ov.refused) {
    main.append(h("div", { class: "error-box", role: "note" }, h("p", {}, t("refused")), h("pre", {}, ov.refused)));
  }
  for (const [id, files] of byProgramme(ov)) {
    const latest = files[files.length - 1];
    const title = text(latest, "title", latest.title || id);
    const rows = files.map((f) => h("tr", {},
      h("td", {}, f.version),
      h("td", {}, f.in_force_from ? `${date(f.in_force_from)} – ${date(f.in_force_to)}` : ""),
      h("td", {}, status(f)),
      h("td", {}, f.errors ? t("notServed") : (f.served ? t("served") : t("notServed"))),
      h("td", {}, h("a", { href: link("read", { file: f.path }) }, t("read")), " · ",
        f.errors ? "" : [h("a", { href: link("try", { programme: id, version: f.version }) }, t("try")), " · "],
        h("a", { href: link("edit", { file: f.path }) }, t("edit")))));
    main.append(h("section", { class: "card", "aria-labelledby": `p-${id}` },
      h("h2", { id: `p-${id}` }, title),
      h("p", { class: "muted" }, h("code", {}, id), " · ",
        h("a", { href: link("parameters", { programme: id }) }, t("parameters")), " · ",
        h("a", { href: link("providers", { programme: id }) }, t("providers")), " · ",
        h("a", { href: link("versions", { programme: id }) }, t("versions"))),
      timeline(files),
      h("table", {},
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("version")), h("th", { scope: "col" }, t("period")), h("th", { scope: "col" }, t("status")), h("th", { scope: "col" }, t("served")), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("open"))))),
        h("tbody", {}, rows))));
  }
}
