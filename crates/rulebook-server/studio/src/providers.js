// Compare providers: what the customer and the city would pay at each
// provider, given the customer's case and the providers' prices, sorted.
// One call to the service's comparisons (`rulebook eval --compare` is the
// same from the command line).
import { h, uid, announce } from "./dom.js";
import { t, amount } from "./i18n.js";
import { post } from "./api.js";
import { loadOverview, byProgramme, text, programmeChoice } from "./state.js";
import { caseForm, remembered, remember } from "./tryit.js";
import { errorView } from "./decision.js";

// CSV with a header: quoted fields may hold commas and quotes ("").
export function parseCsv(textIn) {
  const rows = [];
  let row = [], cell = "", quoted = false;
  const src = textIn.replace(/\r\n?/g, "\n");
  for (let i = 0; i < src.length; i += 1) {
    const c = src[i];
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') { cell += '"'; i += 1; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === "," || c === ";") { row.push(cell); cell = ""; } else if (c === "\n") { row.push(cell); rows.push(row); row = []; cell = ""; } else cell += c;
  }
  if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
  return rows.filter((r) => r.some((c) => c.trim() !== ""));
}

// Providers as alternatives: `[{label, inputs: {path: value}}]`.
export function alternatives(textIn) {
  const trimmed = textIn.trim();
  if (!trimmed) return [];
  if (trimmed.startsWith("[")) {
    return JSON.parse(trimmed).map((p) => {
      if (p.inputs) return { label: String(p.label || p.provider || p.name), inputs: p.inputs };
      const { label, provider, name, ...rest } = p;
      return { label: String(label || provider || name), inputs: rest };
    });
  }
  const [head, ...rows] = parseCsv(trimmed);
  return rows.map((r) => ({
    label: r[0].trim(),
    inputs: Object.fromEntries(head.slice(1).map((k, i) => [k.trim(), (r[i + 1] || "").trim()])),
  }));
}

const numberOf = (v) => { const m = /-?\d+(\.\d+)?/.exec(String(v)); return m ? Number(m[0]) : Infinity; };

export async function render(main, params) {
  const ov = await loadOverview();
  const groups = byProgramme(ov);
  const programme = params.get("programme") || [...groups.keys()][0];
  const selectId = uid("programme"), listId = uid("providers"), fileId = uid("upload"), sortId = uid("sort");
  const select = programmeChoice(selectId, groups, programme, "providers");
  const sortBy = h("select", { id: sortId });
  const fillSort = (f, v) => {
    const outs = v ? v.outputs : [];
    sortBy.replaceChildren(...outs.map((o) => h("option", { value: o, selected: /self_fee|customer|client|omavastuu/.test(o) }, text(f, `output:${o}`, o))));
  };
  const form = await caseForm(programme, remembered(programme), fillSort);
  const list = h("textarea", { id: listId, rows: 6, "aria-describedby": `${listId}-help`, spellcheck: "false" });
  const upload = h("input", { id: fileId, type: "file", accept: ".csv,.json,text/csv,application/json", onchange: async (e) => {
    const f = e.target.files[0];
    if (f) list.value = await f.text();
  } });
  const result = h("div", { "aria-live": "polite" });
  const run = async (ev) => {
    ev.preventDefault();
    const c = form.value();
    remember(programme, c);
    let alts;
    try { alts = alternatives(list.value); } catch (e) { result.replaceChildren(errorView(e)); return; }
    try {
      const r = await post(`/v1/programmes/${encodeURIComponent(programme)}/comparisons`, { decision_date: c.decision_date, inputs: c.inputs, alternatives: alts });
      const file = form.file();
      const key = sortBy.value;
      const rows = r.alternatives.slice().sort((a, b) => {
        const va = a.outputs && key in a.outputs ? numberOf(a.outputs[key]) : Infinity;
        const vb = b.outputs && key in b.outputs ? numberOf(b.outputs[key]) : Infinity;
        return va - vb;
      });
      const outs = form.outputs().filter((o) => rows.some((a) => a.outputs && o in a.outputs));
      result.replaceChildren(h("table", { class: "comparison" },
        h("caption", {}, `${t("providers")} — ${t("sortBy")}: ${text(file, `output:${key}`, key)}`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("provider")), outs.map((o) => h("th", { scope: "col", class: "num" }, text(file, `output:${o}`, o))))),
        h("tbody", {}, rows.map((a) => h("tr", { "data-provider": a.label },
          h("th", { scope: "row" }, a.label),
          a.error ? h("td", { colspan: outs.length || 1, class: "bad" }, a.error.message || JSON.stringify(a.error))
            : !a.eligible ? h("td", { colspan: outs.length || 1, class: "bad", "data-eligible": "false" }, `${t("notEligible")}: `, (a.failed_criteria || []).map((c) => text(file, `criterion:${c.criterion}`, c.reason)).join("; "))
            : outs.map((o) => h("td", { class: "num", "data-output": o }, amount(String(a.outputs[o])))))))));
      announce(`${rows.length} ${t("providers")}`);
    } catch (e) { result.replaceChildren(errorView(e)); }
  };
  main.replaceChildren(h("h1", {}, t("providers")),
    h("div", { class: "toolbar" }, h("label", { for: selectId }, t("programme")), select),
    h("form", { onsubmit: run, "aria-label": t("providers") }, form.element,
      h("div", {}, h("label", { for: listId }, t("providersFile")), h("p", { class: "muted", id: `${listId}-help` }, t("providersHelp")), list),
      h("div", { class: "toolbar" }, h("label", { for: fileId }, t("orUpload")), upload),
      h("div", { class: "toolbar" }, h("label", { for: sortId }, t("sortBy")), sortBy, h("button", { type: "submit" }, t("compare")))),
    result);
}
