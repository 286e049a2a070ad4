// What every page shares: the overview of the folder's rulebooks (fetched
// again after a save), the programmes of the decision API, and the route.
import { get } from "./api.js";
import { lang } from "./i18n.js";
import { h } from "./dom.js";

let overview = null;
let programmes = null;

export async function loadOverview(force) {
  if (!overview || force) overview = await get("/studio/api/overview");
  return overview;
}
export async function loadProgrammes(force) {
  if (!programmes || force) programmes = await get("/v1/programmes");
  return programmes;
}
export function forget() { overview = null; programmes = null; }

// The route: `#/page?key=value`.
export function route() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [page, query] = raw.split("?");
  return { page: page || "", params: new URLSearchParams(query || "") };
}
export function link(page, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const qs = q.toString();
  return `#/${page}${qs ? `?${qs}` : ""}`;
}

// A text of the rulebook (`title`, `output:NAME`, `input:PATH`,
// `criterion:NAME`) in the Studio's language, else its first language.
export function text(file, key, fallback) {
  const entry = file && file.texts && file.texts[key];
  if (entry) {
    if (entry[lang()]) return entry[lang()];
    const first = Object.values(entry)[0];
    if (first) return first;
  }
  return fallback;
}

// The files of each programme's versions that check, by programme id,
// oldest first.
export function byProgramme(ov) {
  const out = new Map();
  for (const f of ov.files) {
    if (!out.has(f.programme)) out.set(f.programme, []);
    out.get(f.programme).push(f);
  }
  for (const list of out.values()) list.sort((a, b) => (a.in_force_from || "").localeCompare(b.in_force_from || ""));
  return out;
}

// The version in force on a date, among a programme's files.
export function inForce(files, day) {
  return files.find((f) => f.in_force_from && f.in_force_from <= day && (!f.in_force_to || day <= f.in_force_to));
}

export function today() { return new Date().toISOString().slice(0, 10); }

// A choice of programme, each by its title in the chosen language; choosing
// one goes to `page` for it, keeping the route parameters in `keep`.
export function programmeChoice(id, groups, chosen, page, keep) {
  const go = (e) => { location.hash = link(page, { ...keep, programme: e.target.value }); };
  return h("select", { id, onchange: go },
    [...groups.entries()].map(([p, files]) => h("option", { value: p, selected: p === chosen }, text(files[files.length - 1], "title", p))));
}
