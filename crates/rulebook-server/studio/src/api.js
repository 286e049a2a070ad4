// Calls to the service that serves the Studio: `/v1` (decisions, letters,
// comparisons) and `/studio/api`. A service with API keys answers 401; the
// page then asks for a key once and keeps it for this browser tab only.
import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, body) {
    const e = body && body.error;
    super(e ? e.message : `HTTP ${status}`);
    this.status = status;
    this.code = e ? e.code : "";
    this.problems = e && e.problems ? e.problems : [];
  }
}

function headers(json) {
  const hd = {};
  if (json) hd["Content-Type"] = "application/json";
  const key = sessionStorage.getItem("rulebook-key");
  if (key) hd.Authorization = `Bearer ${key}`;
  return hd;
}

async function call(method, url, body) {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const res = await fetch(url, {
      method,
      headers: headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (res.status === 401 && attempt === 0) {
      const key = window.prompt(`${t("keyNeeded")}\n${t("apiKey")}:`);
      if (key) { sessionStorage.setItem("rulebook-key", key.trim()); continue; }
    }
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }
  throw new ApiError(401, null);
}

export const get = (url) => call("GET", url);
export const post = (url, body) => call("POST", url, body);
