// Try a case: a form generated from the inputs of the version in force on
// the decision date, the decision with its explanation and letter; the
// case can be shared as a link and saved as an example.
import { h, uid, announce } from "./dom.js";
import { t, lang } from "./i18n.js";
import { get, post } from "./api.js";
import { loadOverview, loadProgrammes, byProgramme, link, text, inForce, today, programmeChoice } from "./state.js";
import { buildForm } from "./form.js";
import { decisionView, errorView } from "./decision.js";

export function encodeCase(c) {
  const bytes = new TextEncoder().encode(JSON.stringify(c));
  let bin = "";
  bytes.forEach((b) => { bin += String.fromCharCode(b); });
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
export function decodeCase(s) {
  try {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  } catch { return null; }
}

export function remembered(programme) {
  try { return JSON.parse(sessionStorage.getItem(`case:${programme}`) || "null"); } catch { return null; }
}
export function remember(programme, c) { sessionStorage.setItem(`case:${programme}`, JSON.stringify(c)); }

// The case form of a programme: a decision date and the inputs of the
// version in force on it (rebuilt, keeping what was filled, when the date
// moves into another version). Returns { element, value(), file() }.
export async function caseForm(programme, initial, onVersion) {
  const [ov, programmes] = await Promise.all([loadOverview(), loadProgrammes()]);
  const files = (byProgramme(ov).get(programme) || []).filter((f) => !f.errors);
  const served = (programmes.find((p) => p.id === programme) || { versions: [] }).versions;
  const dateId = uid("date");
  const start = initial && initial.decision_date
    ? initial.decision_date
    : (inForce(files, today()) ? today() : (files.length ? files[files.length - 1].in_force_from : today()));
  const dateInput = h("input", { id: dateId, type: "date", value: start, required: true, "data-path": "decision_date" });
  const box = h("div", {});
  let form = null;
  let file = null;
  let current = null;
  let inputs = initial ? initial.inputs : undefined;
  const build = () => {
    const f = inForce(files, dateInput.value) || files[files.length - 1];
    if (f === file && form) return;
    if (form) inputs = form.value();
    file = f;
    const v = served.find((x) => f && x.version === f.version);
    current = v || null;
    if (!v) { box.replaceChildren(h("p", { class: "bad" }, t("notServed"))); form = null; return; }
    const label = (path) => text(f, `input:${path}`, null);
    form = buildForm(v.input_schema, label, inputs);
    box.replaceChildren(h("p", { class: "muted", "data-version": f.version }, `${t("version")} ${f.version}`), form.element);
    if (onVersion) onVersion(f, v);
  };
  dateInput.addEventListener("change", build);
  build();
  return {
    element: h("fieldset", {}, h("legend", {}, t("customerCase")),
      h("div", { class: "field" }, h("label", { for: dateId }, t("decisionDate")), dateInput), box),
    value: () => ({ decision_date: dateInput.value, inputs: form ? form.value() : {} }),
    file: () => file,
    outputs: () => (current ? current.outputs : []),
  };
}

export async function decide(programme, c, language) {
  return post(`/v1/programmes/${encodeURIComponent(programme)}/decisions`, {
    decision_date: c.decision_date,
    inputs: c.inputs,
    explain: true,
    letter: language ? { language, format: "html" } : undefined,
  });
}

export async function render(main, params) {
  const ov = await loadOverview();
  const groups = byProgramme(ov);
  const programme = params.get("programme") || [...groups.keys()][0];
  const shared = params.get("case") ? decodeCase(params.get("case")) : null;
  const initial = shared || remembered(programme);
  const selectId = uid("programme");
  const select = programmeChoice(selectId, groups, programme, "try");
  const result = h("div", { "aria-live": "polite" });
  const form = await caseForm(programme, initial);
  const run = async (ev) => {
    if (ev) ev.preventDefault();
    const c = form.value();
    remember(programme, c);
    const file = form.file();
    const languages = (file && file.languages) || [];
    const first = languages.includes(lang()) ? lang() : languages[0];
    try {
      const d = await decide(programme, c, first);
      const letters = {
        languages,
        initial: first,
        load: async (l) => (l === first && d.letter ? d.letter : (await decide(programme, c, l)).letter),
      };
      result.replaceChildren(decisionView(d, file, letters), exampleBox(programme, d.version, c));
      announce(d.eligible ? t("eligible") : t("notEligible"));
    } catch (e) {
      result.replaceChildren(errorView(e));
      announce(e.message);
    }
  };
  const share = async () => {
    const c = form.value();
    history.replaceState(null, "", link("try", { programme, case: encodeCase(c) }));
    try { await navigator.clipboard.writeText(location.href); } catch { /* the address bar has it */ }
    announce(t("linkCopied"));
  };
  main.replaceChildren(h("h1", {}, t("try")),
    h("div", { class: "toolbar" }, h("label", { for: selectId }, t("programme")), select),
    h("form", { onsubmit: run, "aria-label": t("customerCase") }, form.element,
      h("div", { class: "toolbar" }, h("button", { type: "submit" }, t("decide")),
        h("button", { type: "button", class: "secondary", onclick: share }, t("share")))),
    result);
  if (shared) run();
}

function exampleBox(programme, version, c) {
  const nameId = uid("example");
  const out = h("div", {});
  const name = h("input", { id: nameId, type: "text", value: "tried in the Studio" });
  const save = async () => {
    try {
      const r = await post("/studio/api/example", { programme, version, name: name.value, decision_date: c.decision_date, inputs: c.inputs });
      const ov = await loadOverview();
      const file = ov.files.find((f) => f.programme === programme && f.version === version);
      const append = ov.editable && file ? h("button", { type: "button", class: "secondary", onclick: async () => {
        const doc = await get(`/studio/api/file?path=${encodeURIComponent(file.path)}`);
        const textNow = doc.text.endsWith("\n") ? doc.text : `${doc.text}\n`;
        await post("/studio/api/save", { path: file.path, text: `${textNow}\n${r.text}` });
        announce(`${t("appended")} ${file.path}`);
        out.append(h("p", { class: "ok" }, `${t("appended")} ${file.path}`));
      } }, t("appendExample")) : null;
      out.replaceChildren(h("pre", { class: "rule", "data-example": "" }, r.text), append);
    } catch (e) { out.replaceChildren(errorView(e)); }
  };
  return h("section", { class: "card", "aria-labelledby": `${nameId}-h` },
    h("h3", { id: `${nameId}-h` }, t("saveExample")),
    h("div", { class: "toolbar" }, h("label", { for: nameId }, t("exampleName")), name, h("button", { type: "button", class: "secondary", onclick: save }, t("saveExample"))),
    out);
}
