// A rulebook laid out for reading: doc comments as prose in the chosen
// language, tables as tables, citations as links (Finlex for statute
// numbers), and every name linked to its definition, which lists its uses.
import { h } from "./dom.js";
import { t, lang } from "./i18n.js";
import { get } from "./api.js";
import { link, loadOverview, text as text2 } from "./state.js";
import { linkify } from "./citations.js";

const anchor = (key) => `def-${key.replace(/[^A-Za-z0-9]+/g, "_")}`;

// The text between `from` and `to` with names linked and definitions
// anchored.
function code(text, from, to, marks) {
  const out = [];
  let at = from;
  for (const m of marks) {
    if (m.from < at || m.to > to) continue;
    if (m.from > at) out.push(text.slice(at, m.from));
    const word = text.slice(m.from, m.to);
    out.push(m.def
      ? h("span", { id: anchor(m.key), class: "def" }, h("strong", {}, word))
      : h("a", { href: `#${anchor(m.key)}`, "data-name": word, onclick: follow }, word));
    at = m.to;
  }
  if (at < to) out.push(text.slice(at, to));
  return out;
}

// A hash link inside the page must not change the route: scroll instead.
function follow(ev) {
  const id = ev.currentTarget.getAttribute("href").slice(1);
  const target = document.getElementById(id);
  if (target) {
    ev.preventDefault();
    target.scrollIntoView({ block: "center" });
    const item = target.closest(".item");
    if (item) { item.setAttribute("tabindex", "-1"); item.focus({ preventScroll: true }); }
  }
}

function table(lines) {
  const rows = lines.map((l) => l.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim()));
  const [head, ...body] = rows;
  return h("table", {},
    h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, body.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))));
}

function citations(itemText) {
  const found = [];
  for (const m of itemText.matchAll(/\b(source|section)\s+"([^"]*)"/g)) found.push(m[2]);
  for (const m of itemText.matchAll(/§\s*[0-9][0-9a-z.]*/g)) found.push(m[0]);
  return found;
}

export async function render(main, params) {
  const path = params.get("file");
  const [doc, ov] = await Promise.all([get(`/studio/api/file?path=${encodeURIComponent(path)}`), loadOverview()]);
  const info = ov.files.find((f) => f.path === path) || {};
  const text = doc.text;
  const marks = [
    ...doc.definitions.map((d) => ({ ...d, def: true })),
    ...doc.references.map((r) => ({ ...r, def: false })),
  ].sort((a, b) => a.from - b.from || (a.def ? -1 : 1));
  // Keep one mark per place: a definition's name is also a use of itself.
  const marksUnique = marks.filter((m, i) => i === 0 || m.from !== marks[i - 1].from);
  // Each use, by the item it is in, to link to.
  const itemAt = (offset) => doc.items.findIndex((it) => it.from <= offset && offset < it.to);
  const usesOf = new Map();
  for (const r of doc.references) {
    if (!usesOf.has(r.key)) usesOf.set(r.key, []);
    usesOf.get(r.key).push({ line: r.line, item: itemAt(r.from) });
  }
  main.replaceChildren(
    h("h1", {}, (info.texts && info.texts.title && (info.texts.title[lang()] || Object.values(info.texts.title)[0])) || info.title || path),
    h("p", { class: "muted" }, `${t("file")}: `, h("code", {}, path), info.version ? ` · ${t("version")} ${info.version}` : "",
      " · ", h("a", { href: link("edit", { file: path }) }, t("edit")),
      info.programme && !info.errors ? [" · ", h("a", { href: link("try", { programme: info.programme, version: info.version }) }, t("try"))] : ""),
    info.source ? h("p", { class: "citation" }, `${t("source")}: `, linkify(info.source)) : null,
  );
  if (doc.diagnostics.length) {
    main.append(h("div", { class: "error-box" }, h("h2", {}, t("findings")),
      h("ul", {}, doc.diagnostics.map((d) => h("li", {}, `${t("line")} ${d.line}: ${d.message}`)))));
  }
  const container = h("div", { class: "reading" });
  doc.items.forEach((item, n) => {
    const itemText = text.slice(item.from, item.to);
    const prose = item.doc_in[lang()] || item.doc;
    const section = h("section", { class: "item", id: `item-${n}`, "aria-label": `${item.kind} ${t("line")} ${item.line}` });
    if (prose) section.append(h("div", { class: "prose" }, prose.split(/\n\s*\n/).map((p) => h("p", {}, linkify(p)))));
    const lines = itemText.split("\n");
    const tableLines = lines.filter((l) => l.trim().startsWith("|"));
    // Code up to the table, the table, then what follows it.
    if (item.kind === "table" && tableLines.length > 1) {
      const firstRow = itemText.indexOf(tableLines[0]);
      section.append(h("pre", { class: "rule" }, code(text, item.from, item.from + firstRow, marksUnique)));
      section.append(table(tableLines));
    } else {
      section.append(h("pre", { class: "rule" }, code(text, item.from, item.to, marksUnique)));
    }
    // Eligibility: each criterion with the reason a decision gives, in the
    // chosen language.
    if (item.kind === "eligibility" && info.outline) {
      section.append(h("ul", { class: "criteria" }, info.outline.criteria.map((c) =>
        h("li", {}, h("strong", {}, c.name), ": ", text2(info, `criterion:${c.name}`, c.reason)))));
    }
    const cited = citations(itemText);
    if (cited.length) section.append(h("p", { class: "citation" }, `${t("source")}: `, cited.map((c, i) => [i ? "; " : "", linkify(c)])));
    const defs = doc.definitions.filter((d) => d.from >= item.from && d.to <= item.to && !d.container);
    for (const d of defs) {
      const seen = new Set();
      const uses = (usesOf.get(d.key) || []).filter((u) => u.item !== n && u.item >= 0 && !seen.has(u.line) && seen.add(u.line));
      if (uses.length) {
        section.append(h("p", { class: "uses" }, `${d.name}: ${t("usedAt")} `,
          uses.map((u, i) => [i ? ", " : "", h("a", { href: `#item-${u.item}`, onclick: follow }, String(u.line))])));
      }
    }
    container.append(section);
  });
  main.append(container);
}
