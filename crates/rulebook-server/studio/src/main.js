// Rulebook Studio: one page, one route per view (`#/read?file=...`).
import { h } from "./dom.js";
import { t, setLanguage, lang } from "./i18n.js";
import { route, link } from "./state.js";
import { errorView } from "./decision.js";
import * as programmes from "./programmes.js";
import * as read from "./read.js";
import * as parameters from "./parameters.js";
import * as tryit from "./tryit.js";
import * as providers from "./providers.js";
import * as versions from "./versions.js";
import * as edit from "./edit.js";

const pages = {
  "": { view: programmes, label: "programmes" },
  parameters: { view: parameters, label: "parameters" },
  try: { view: tryit, label: "try" },
  providers: { view: providers, label: "providers" },
  versions: { view: versions, label: "versions" },
  read: { view: read, label: "read", hidden: true },
  edit: { view: edit, label: "edit", hidden: true },
};

function nav(current) {
  const list = h("ul", {}, Object.entries(pages).filter(([, p]) => !p.hidden).map(([key, p]) =>
    h("li", {}, h("a", { href: link(key), "aria-current": key === current ? "page" : undefined }, t(p.label)))));
  document.getElementById("nav").replaceChildren(list);
  document.getElementById("nav").setAttribute("aria-label", t("nav"));
  document.getElementById("skip").textContent = t("skip");
  document.getElementById("language-label").textContent = t("language");
}

let showing = 0;
async function show() {
  window.onbeforeunload = null;
  const { page, params } = route();
  const entry = pages[page] || pages[""];
  nav(page in pages ? page : "");
  const main = document.getElementById("main");
  const mine = ++showing;
  main.dataset.ready = "";
  document.title = `${t(entry.label)} — Rulebook Studio`;
  try {
    await entry.view.render(main, params);
  } catch (e) {
    if (mine === showing) main.replaceChildren(h("h1", {}, t("error")), errorView(e));
  }
  if (mine === showing) {
    main.dataset.ready = page || "programmes";
    main.focus({ preventScroll: true });
  }
}

function start() {
  const chooser = document.getElementById("language");
  const stored = localStorage.getItem("rulebook-studio-language");
  const initial = stored || (navigator.language || "en").slice(0, 2);
  setLanguage(["fi", "sv", "en"].includes(initial) ? initial : "en");
  chooser.value = lang();
  chooser.addEventListener("change", () => {
    setLanguage(chooser.value);
    localStorage.setItem("rulebook-studio-language", chooser.value);
    show();
  });
  window.addEventListener("hashchange", show);
  show();
}

start();
