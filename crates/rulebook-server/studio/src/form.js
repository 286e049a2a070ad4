// A form generated from a version's input schema (JSON Schema): records as
// groups, enums as choices, lists with members added and removed, dates as
// date fields, amounts as text (kept exact: never a floating-point number).
import { h, uid } from "./dom.js";
import { t, range } from "./i18n.js";

const types = (schema) => (Array.isArray(schema.type) ? schema.type : [schema.type]);

// `label(path)` names a field in the chosen language; `initial` fills it.
export function buildForm(schema, label, initial) {
  const root = field(schema, "", label, initial, true);
  return { element: root.element, value: () => root.value() };
}

function field(schema, path, label, initial, required) {
  if (schema.oneOf) return choiceOf(schema, path, label, initial);
  if (schema.enum) return select(schema.enum, path, label, initial, required);
  const ty = types(schema);
  if (ty.includes("object")) return group(schema, path, label, initial);
  if (ty.includes("array")) return list(schema, path, label, initial);
  if (ty.includes("boolean")) return checkbox(path, label, initial);
  return input(schema, path, label, initial, required);
}

const nameOf = (path) => path.split(".").pop();
const plain = (path) => path.replace(/\.\d+(?=\.|$)/g, "");

function group(schema, path, label, initial) {
  const required = new Set(schema.required || []);
  const children = Object.entries(schema.properties || {}).map(([k, sub]) => {
    const p = path ? `${path}.${k}` : k;
    return [k, field(sub, p, label, initial ? initial[k] : undefined, required.has(k))];
  });
  const content = children.map(([, c]) => c.element);
  const element = path
    ? h("fieldset", { "data-path": path }, h("legend", {}, label(plain(path)) || nameOf(path)), content)
    : h("div", { class: "case-form" }, content);
  return {
    element,
    value: () => {
      const out = {};
      for (const [k, c] of children) {
        const v = c.value();
        if (v !== undefined) out[k] = v;
      }
      return out;
    },
  };
}

function describe(path, label) {
  return label(plain(path)) || nameOf(path);
}

function input(schema, path, label, initial, required) {
  const id = uid("f");
  const ty = types(schema);
  const isDate = schema.format === "date";
  const euros = schema.format === "euros";
  const attrs = { id, name: path, "data-path": path };
  if (isDate) attrs.type = "date";
  else { attrs.type = "text"; attrs.inputmode = ty.includes("integer") ? "numeric" : "decimal"; }
  if (!ty.includes("integer") && !ty.includes("number") && !isDate) attrs.inputmode = undefined;
  if (required) attrs.required = true;
  const el = h("input", attrs);
  if (initial !== undefined && initial !== null) el.value = String(initial).replace(/\s*(€|EUR)$/, "");
  // The schema's description is in the rulebook's first language; shown
  // when the label has no text in the chosen one. Its allowed range always.
  const own = label(plain(path));
  const desc = schema.description || "";
  const at = desc.indexOf("allowed: ");
  const allowed = at >= 0 ? `${t("allowed")}: ${range(desc.slice(at + 9).trim())}` : null;
  const before = (at >= 0 ? desc.slice(0, at) : desc).replace(/[;,.\s]+$/, "");
  const hintText = [own ? null : before, allowed, euros && !(allowed || "").includes("€") ? "€" : null].filter(Boolean).join(" · ");
  const hintId = hintText ? uid("hint") : null;
  if (hintId) el.setAttribute("aria-describedby", hintId);
  return {
    element: h("div", { class: "field" }, h("label", { for: id }, describe(path, label)), el,
      hintText ? h("div", { class: "hint", id: hintId }, hintText) : null),
    value: () => {
      const v = el.value.trim();
      if (v === "") return undefined;
      if (ty.includes("integer") && !ty.includes("string")) return /^-?\d+$/.test(v) ? Number(v) : v;
      // Decimals and amounts go as text, so no digit is lost; a comma is
      // read as the decimal point.
      if (ty.includes("number") || ty.includes("string")) return v.replace(",", ".").replace(/\s/g, "");
      return v;
    },
  };
}

function checkbox(path, label, initial) {
  const id = uid("f");
  const el = h("input", { id, type: "checkbox", name: path, "data-path": path });
  el.checked = initial === true;
  return {
    element: h("div", { class: "field" }, h("label", { for: id }, describe(path, label)), h("div", {}, el)),
    value: () => el.checked,
  };
}

function select(options, path, label, initial, required) {
  const id = uid("f");
  const el = h("select", { id, name: path, "data-path": path },
    required ? null : h("option", { value: "" }, "—"),
    options.map((o) => h("option", { value: o, selected: o === initial }, o)));
  return {
    element: h("div", { class: "field" }, h("label", { for: id }, describe(path, label)), el),
    value: () => (el.value === "" ? undefined : el.value),
  };
}

// An enum whose variants may carry data: a choice, and the chosen
// variant's fields.
function choiceOf(schema, path, label, initial) {
  const variants = [];
  for (const alt of schema.oneOf) {
    if (alt.enum) for (const v of alt.enum) variants.push({ name: v });
    else if (alt.const) variants.push({ name: alt.const });
    else if (alt.properties) {
      const [name, data] = Object.entries(alt.properties)[0];
      variants.push({ name, data });
    }
  }
  const id = uid("f");
  const current = typeof initial === "string" ? initial : initial ? Object.keys(initial)[0] : variants[0] && variants[0].name;
  const el = h("select", { id, name: path, "data-path": path }, variants.map((v) => h("option", { value: v.name, selected: v.name === current }, v.name)));
  const box = h("div", {});
  let sub = null;
  const show = () => {
    const v = variants.find((x) => x.name === el.value);
    sub = v && v.data ? field(v.data, `${path}.${v.name}`, label, initial && typeof initial === "object" ? initial[v.name] : undefined, true) : null;
    box.replaceChildren(sub ? sub.element : "");
  };
  el.addEventListener("change", show);
  show();
  return {
    element: h("div", {}, h("div", { class: "field" }, h("label", { for: id }, describe(path, label)), el), box),
    value: () => (sub ? { [el.value]: sub.value() } : el.value),
  };
}

function list(schema, path, label, initial) {
  const items = [];
  const box = h("div", {});
  const title = describe(path, label);
  const addMember = (init) => {
    const n = items.length;
    const member = field(schema.items || {}, `${path}.${n}`, label, init, true);
    const entry = { member };
    const removeBtn = h("button", { type: "button", class: "secondary", onclick: () => {
      const i = items.indexOf(entry);
      items.splice(i, 1);
      wrap.remove();
    } }, `${t("remove")}: ${title} ${n + 1}`);
    const wrap = h("fieldset", { "data-member": `${path}.${n}` }, h("legend", {}, `${title}: ${t("member")} ${n + 1}`), member.element, removeBtn);
    entry.wrap = wrap;
    items.push(entry);
    box.append(wrap);
  };
  for (const init of Array.isArray(initial) ? initial : []) addMember(init);
  const add = h("button", { type: "button", class: "secondary", "data-add": path, onclick: () => addMember(undefined) }, `${t("add")}: ${title}`);
  return {
    element: h("fieldset", { "data-path": path }, h("legend", {}, title), box, add),
    value: () => items.map((e) => e.member.value()),
  };
}
