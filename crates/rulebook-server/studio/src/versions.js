// Compare versions: the semantic diff of two versions and, with an
// uploaded population (JSON Lines or CSV), the impact of the change with
// its charts and breakdowns: the report of `rulebook diff --format html`.
import { h, uid, announce } from "./dom.js";
import { t } from "./i18n.js";
import { post } from "./api.js";
import { loadOverview, byProgramme, programmeChoice } from "./state.js";
import { errorView } from "./decision.js";

export async function render(main, params) {
  const ov = await loadOverview();
  const groups = byProgramme(ov);
  const programme = params.get("programme") || [...groups.keys()][0];
  const files = (groups.get(programme) || []).filter((f) => !f.errors);
  const ids = { p: uid("programme"), a: uid("old"), b: uid("new"), pop: uid("population"), up: uid("upload"), by: uid("by") };
  const select = programmeChoice(ids.p, groups, programme, "versions");
  const choice = (id, chosen) => h("select", { id }, files.map((f) => h("option", { value: f.path, selected: f.path === chosen }, `${f.version} (${f.path})`)));
  const old = choice(ids.a, params.get("old") || (files[files.length - 2] || files[0] || {}).path);
  const nu = choice(ids.b, params.get("new") || (files[files.length - 1] || {}).path);
  const population = h("textarea", { id: ids.pop, rows: 6, spellcheck: "false" });
  let format = "jsonl";
  const upload = h("input", { id: ids.up, type: "file", accept: ".jsonl,.json,.csv,.ndjson", onchange: async (e) => {
    const f = e.target.files[0];
    if (!f) return;
    population.value = await f.text();
    format = f.name.endsWith(".csv") ? "csv" : "jsonl";
  } });
  const by = h("input", { id: ids.by, type: "text", placeholder: "household.size" });
  const report = h("div", { class: "diff-report", "aria-live": "polite" });
  const run = async (ev) => {
    ev.preventDefault();
    report.replaceChildren(h("p", {}, "…"));
    const cases = population.value.trim();
    const fmt = cases && !cases.startsWith("{") && cases.includes(",") ? "csv" : format;
    try {
      const r = await post("/studio/api/diff", { old: old.value, new: nu.value, cases: cases || undefined, format: fmt, by: by.value.trim() ? by.value.split(/\s+/) : [] });
      // The report is the service's own HTML, with every text from a
      // rulebook or a case escaped there.
      const frag = document.createRange().createContextualFragment(r.html);
      report.replaceChildren(frag);
      announce(t("versions"));
    } catch (e) { report.replaceChildren(errorView(e)); }
  };
  main.replaceChildren(h("h1", {}, t("versions")),
    h("div", { class: "toolbar" }, h("label", { for: ids.p }, t("programme")), select),
    h("form", { onsubmit: run, "aria-label": t("versions") },
      h("div", { class: "field" }, h("label", { for: ids.a }, t("oldVersion")), old),
      h("div", { class: "field" }, h("label", { for: ids.b }, t("newVersion")), nu),
      h("div", {}, h("label", { for: ids.pop }, t("population")), population),
      h("div", { class: "toolbar" }, h("label", { for: ids.up }, t("orUpload")), upload),
      h("div", { class: "field" }, h("label", { for: ids.by }, t("breakdown")), by),
      h("div", { class: "toolbar" }, h("button", { type: "submit" }, t("compare")))),
    report);
}
