// The rulebook editor: syntax highlighting, live findings, completion and
// hover from the same analysis as the language server, examples re-run on
// each change, and saving back to the folder in `rulebook studio`.
import { EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection, hoverTooltip } from "@codemirror/view";
import { EditorState } from "@codemirror/state";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { StreamLanguage, syntaxHighlighting, HighlightStyle } from "@codemirror/language";
import { linter, lintGutter } from "@codemirror/lint";
import { autocompletion } from "@codemirror/autocomplete";
import { tags } from "@lezer/highlight";
import { h, announce } from "./dom.js";
import { t } from "./i18n.js";
import { get, post } from "./api.js";
import { forget, link } from "./state.js";

const keywords = new Set(("rulebook version languages in force to source section amends input parameter let output " +
  "table scale function enum record eligibility else example on given expect property use as from remove hit " +
  "first unique collect priority order where for at fold if then and or not is under more less than rounded " +
  "down up nearest cents eligible because sum min max all any count true false optional list of money integer " +
  "decimal percent bool text date duration over by").split(" "));

const rulebookLanguage = StreamLanguage.define({
  token(stream) {
    if (stream.eatSpace()) return null;
    if (stream.match("---")) { stream.skipToEnd(); return "docComment"; }
    if (stream.match("--")) { stream.skipToEnd(); return "comment"; }
    if (stream.match(/^"([^"\\]|\\.)*"?/)) return "string";
    if (stream.match(/^\d{4}-\d\d-\d\d/)) return "number";
    if (stream.match(/^-?\d+(\.\d+)?\s*(€|%)?/)) return "number";
    if (stream.match(/^§\s*[0-9][0-9a-z.]*/)) return "meta";
    if (stream.match(/^[A-Za-z_äöåÄÖÅ][A-Za-z0-9_äöåÄÖÅ]*/)) {
      return keywords.has(stream.current()) ? "keyword" : "variableName";
    }
    stream.next();
    return null;
  },
  languageData: { commentTokens: { line: "--" } },
});

const style = HighlightStyle.define([
  { tag: tags.keyword, color: "#6f2c91", fontWeight: "600" },
  { tag: tags.string, color: "#0b6b2f" },
  { tag: tags.number, color: "#8a3f00" },
  { tag: tags.comment, color: "#5b636d", fontStyle: "italic" },
  { tag: tags.docComment, color: "#1f4e79", fontStyle: "italic" },
  { tag: tags.meta, color: "#8a3f00" },
]);

export async function render(main, params) {
  const path = params.get("file");
  const doc = await get(`/studio/api/file?path=${encodeURIComponent(path)}`);
  let saved = doc.text;
  const findings = h("ul", { class: "findings", id: "findings" });
  const examples = h("ul", { class: "findings", id: "examples" });
  const state = h("p", { id: "save-state", class: "muted", role: "status" }, doc.editable ? t("saved") : t("readOnly"));
  let latest = null;
  const body = (text, extra) => ({ path, text, ...extra });

  const showFindings = (view, r) => {
    findings.replaceChildren(...(r.diagnostics.length ? r.diagnostics.map((d) =>
      h("li", { class: d.severity === "error" ? "bad" : "warn", "data-code": d.code },
        h("button", { type: "button", class: "secondary", onclick: () => { view.dispatch({ selection: { anchor: Math.min(d.from, view.state.doc.length) }, scrollIntoView: true }); view.focus(); } }, `${t("line")} ${d.line}`),
        ` [${d.code}] ${d.message}`, d.help ? h("div", { class: "muted" }, d.help) : null))
      : [h("li", { class: "ok" }, t("noFindings"))]));
    examples.replaceChildren(...r.examples.map((e) => h("li", { class: e.passed ? "ok" : "bad" },
      `${e.passed ? "✓" : "✗"} ${e.name} (${t("line")} ${e.line}): ${e.passed ? t("passed") : `${t("failed")}: ${e.failures.join("; ")}`}`)));
  };

  const lint = linter(async (view) => {
    const text = view.state.doc.toString();
    let r;
    try { r = await post("/studio/api/analyze", body(text)); } catch (e) { return [{ from: 0, to: 0, severity: "error", message: e.message }]; }
    latest = r;
    showFindings(view, r);
    const len = view.state.doc.length;
    return r.diagnostics.map((d) => ({
      from: Math.min(d.from, len),
      to: Math.min(Math.max(d.to, d.from), len),
      severity: d.severity === "error" ? "error" : "warning",
      message: `[${d.code}] ${d.message}${d.help ? `\n${d.help}` : ""}`,
    }));
  }, { delay: 350 });

  const hover = hoverTooltip(async (view, pos) => {
    let r;
    try { r = await post("/studio/api/hover", body(view.state.doc.toString(), { offset: pos })); } catch { return null; }
    if (!r) return null;
    return {
      pos: r.from, end: r.to, above: true,
      create: () => ({ dom: h("div", { class: "cm-hover", style: "max-width:40em;white-space:pre-wrap;padding:.4em" }, r.text.replace(/```rulebook\n?|```/g, "")) }),
    };
  });

  const complete = async (context) => {
    const word = context.matchBefore(/[A-Za-z0-9_.]*/);
    if (!context.explicit && (!word || word.from === word.to)) return null;
    let list;
    try { list = await post("/studio/api/completions", body(context.state.doc.toString(), { offset: context.pos })); } catch { return null; }
    const dot = word ? word.text.lastIndexOf(".") : -1;
    return {
      from: word ? word.from + dot + 1 : context.pos,
      options: list.map((c) => ({ label: c.label, detail: c.detail || undefined, type: c.kind === "function" ? "function" : c.kind === "keyword" ? "keyword" : "variable", apply: c.snippet ? c.insert.replace(/\$\{\d+:([^}]*)\}/g, "$1").replace(/\$\d+/g, "") : c.insert })),
    };
  };

  const saveNow = async (view) => {
    if (!doc.editable) { announce(t("readOnly")); return true; }
    const text = view.state.doc.toString();
    try {
      const r = await post("/studio/api/save", body(text));
      saved = text;
      forget();
      state.textContent = `${t("saved")}: ${r.saved}${r.errors ? ` (${r.errors} ${t("errors")})` : ""}`;
      announce(state.textContent);
    } catch (e) { state.textContent = `${t("error")}: ${e.message}`; }
    return true;
  };

  const view = new EditorView({
    parent: h("div", {}),
    state: EditorState.create({
      doc: doc.text,
      extensions: [
        lineNumbers(), history(), drawSelection(), highlightActiveLine(),
        rulebookLanguage, syntaxHighlighting(style), lintGutter(), lint, hover,
        autocompletion({ override: [complete] }),
        keymap.of([{ key: "Mod-s", run: (v) => { saveNow(v); return true; } }, indentWithTab, ...defaultKeymap, ...historyKeymap]),
        EditorView.contentAttributes.of({ "aria-label": `${t("edit")}: ${path}` }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged && doc.editable) state.textContent = u.state.doc.toString() === saved ? t("saved") : t("unsaved");
        }),
      ],
    }),
  });
  // The scrolling area can be reached and scrolled from the keyboard too.
  view.scrollDOM.tabIndex = 0;
  view.scrollDOM.setAttribute("aria-label", path);
  main.replaceChildren(
    h("h1", {}, `${t("edit")}: `, h("code", {}, path)),
    h("div", { class: "toolbar" },
      doc.editable ? h("button", { type: "button", id: "save", onclick: () => saveNow(view) }, t("save")) : null,
      h("a", { href: link("read", { file: path }) }, t("read")), state),
    h("div", { class: "editor-layout" },
      h("div", { class: "editor-wrap" }, view.dom),
      h("aside", { "aria-label": t("findings") }, h("h2", {}, t("findings")), findings, h("h2", {}, t("examples")), examples)));
  // Leaving with unsaved changes asks first.
  window.onbeforeunload = () => (doc.editable && view.state.doc.toString() !== saved ? true : undefined);
  return { view, latest: () => latest };
}
