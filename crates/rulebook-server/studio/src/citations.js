// Citations as links: a Finnish statute number (`734/1992`) links to its
// page in Finlex; a web address links to itself. Everything else stays text.
import { h } from "./dom.js";

const pattern = /(https?:\/\/[^\s"')]+)|\b(\d{1,4})\/(19\d\d|20\d\d)\b/g;

export function finlexUrl(number, year) {
  return `https://www.finlex.fi/fi/lainsaadanto/${year}/${number}`;
}

export function linkify(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[1]) out.push(h("a", { href: m[1], rel: "noopener noreferrer", target: "_blank" }, m[1]));
    else out.push(h("a", { href: finlexUrl(m[2], m[3]), rel: "noopener noreferrer", target: "_blank", class: "finlex", title: `Finlex ${m[2]}/${m[3]}` }, m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}
