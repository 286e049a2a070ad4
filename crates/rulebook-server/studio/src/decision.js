// A decision as people read it: eligibility, the results with their
// labels, the failed criteria's reasons, the explanation (each value once,
// collapsible) and the decision letter in each of the rulebook's languages.
import { h, uid } from "./dom.js";
import { t, amount } from "./i18n.js";
import { text } from "./state.js";
import { linkify } from "./citations.js";

export function outputsTable(decision, file) {
  // The explanation writes each value with its unit (`32.18 €`).
  const written = new Map(((decision.explanation_graph || {}).nodes || []).map((n) => [n.id, n.value]));
  const shown = (k, v) => amount(written.get(k) || (typeof v === "object" ? JSON.stringify(v) : String(v)));
  return h("table", {},
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("outputs")), h("th", { scope: "col", class: "num" }, t("value")))),
    h("tbody", {}, Object.entries(decision.outputs || {}).map(([k, v]) =>
      h("tr", { "data-output": k }, h("th", { scope: "row" }, text(file, `output:${k}`, k)), h("td", { class: "num" }, shown(k, v))))));
}

function explanation(graph) {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const shown = new Set();
  const render = (id, depth) => {
    const n = nodes.get(id);
    if (!n) return null;
    const anchor = `node-${id.replace(/[^A-Za-z0-9]+/g, "_")}`;
    const head = `${n.name} = ${amount(n.value || "")}`;
    if (shown.has(id)) return h("div", { class: "node" }, head, " (", h("a", { href: `#${anchor}`, onclick: (e) => { e.preventDefault(); const el = document.getElementById(anchor); if (el) { el.open = true; el.scrollIntoView({ block: "center" }); el.querySelector("summary").focus(); } } }, t("shownAbove")), ")");
    shown.add(id);
    const uses = (n.uses || []).map((u) => render(u, depth + 1)).filter(Boolean);
    if (!n.formula && !n.source && !n.section && !uses.length && !n.reason) {
      return h("div", { class: "node", id: anchor }, head, n.kind === "input" ? h("span", { class: "muted" }, " (", n.kind, ")") : "");
    }
    return h("details", { class: "node", id: anchor, open: depth === 0 },
      h("summary", {}, head),
      n.formula ? h("div", { class: "formula" }, n.formula) : null,
      n.substituted ? h("div", { class: "formula" }, "= ", n.substituted) : null,
      n.reason ? h("div", {}, n.reason) : null,
      n.source || n.section ? h("div", { class: "citation" }, `${t("source")}: `, linkify([n.section ? `§ ${n.section}` : "", n.source || ""].filter(Boolean).join(" — "))) : null,
      uses);
  };
  const roots = [...(graph.outputs || []), ...(graph.failed_criteria || [])];
  return h("div", { class: "explanation" }, roots.map((r) => render(r, 0)));
}

export function decisionView(decision, file, letters) {
  const out = h("section", { class: "card decision", "aria-labelledby": "decision-heading" });
  out.append(h("h2", { id: "decision-heading", class: decision.eligible ? "ok" : "bad" }, decision.eligible ? t("eligible") : t("notEligible")));
  out.append(h("p", { class: "muted" }, `${t("decidedBy")} ${decision.version} · ${decision.decision_date}`));
  if (decision.eligible) out.append(outputsTable(decision, file));
  if ((decision.failed_criteria || []).length) {
    out.append(h("h3", {}, t("failedCriteria")),
      h("ul", {}, decision.failed_criteria.map((c) => h("li", { "data-criterion": c.criterion }, text(file, `criterion:${c.criterion}`, c.reason)))));
  }
  if (decision.explanation_graph) {
    out.append(h("h3", {}, t("explanation")), explanation(decision.explanation_graph));
  }
  if (letters && letters.languages.length) {
    const frame = h("iframe", { class: "letter", title: t("letter"), sandbox: "" });
    const buttons = letters.languages.map((l) => h("button", { type: "button", class: "secondary", "data-letter": l, onclick: () => show(l) }, `${t("letter")} (${l})`));
    const show = async (l) => {
      buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.letter === l)));
      frame.srcdoc = await letters.load(l);
    };
    out.append(h("h3", {}, t("letter")), h("div", { class: "toolbar" }, buttons), frame);
    show(letters.initial);
  }
  return out;
}

export function errorView(e) {
  const id = uid("err");
  return h("div", { class: "error-box", role: "alert", id },
    h("p", {}, `${t("error")}: ${e.message}`),
    (e.problems || []).length ? h("ul", {}, e.problems.map((p) => h("li", {}, h("code", {}, p.path), `: ${p.message}`, p.help ? ` — ${p.help}` : ""))) : null);
}
