// Shared pieces of the console's pages: the API client (bearer token from sessionStorage),
// a DOM builder that never parses HTML, and formatting of proto JSON values.

const TOKEN_KEY = "conveyor.token";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
  }
}

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY) || ""; },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY);
  },
};

function headers(extra = {}) {
  const out = { ...extra };
  if (session.token) out.Authorization = `Bearer ${session.token}`;
  return out;
}

export async function api(path, { method = "GET", body } = {}) {
  const init = { method, headers: headers(method === "GET" ? {} : { "Content-Type": "application/json" }) };
  // Every call that changes something is JSON (the server refuses others: see api.py).
  if (method !== "GET") init.body = JSON.stringify(body ?? {});
  const response = await fetch(`/api${path}`, init);
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401) window.dispatchEvent(new CustomEvent("conveyor:unauthorized", { detail: error }));
    throw error;
  }
  return data;
}

// Server-sent events with the bearer header (EventSource cannot send one): yields [event, data].
export async function* events(path, signal) {
  const response = await fetch(`/api${path}`, { headers: headers(), signal });
  if (!response.ok) {
    let data = null;
    try { data = await response.json(); } catch { data = null; }
    throw new ApiError(response.status, data);
  }
  if (!(response.headers.get("Content-Type") || "").startsWith("text/event-stream")) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      yield [name, data ? JSON.parse(data) : {}];
    }
  }
}

// h("td", {class: "num"}, "5"): an element with attributes (on* names are listeners) and children.
export function h(tag, attrs = {}, ...children) {
  const el = tag === "svg" || attrs.svg ? document.createElementNS("http://www.w3.org/2000/svg", tag)
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false || key === "svg") continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "value" && "value" in el) el.value = value;
    else if (key === "checked") el.checked = !!value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function toast(text) {
  const box = document.getElementById("toast");
  const item = h("div", {}, text);
  box.append(item);
  setTimeout(() => item.remove(), 4000);
}

export function errorBox(error) {
  return h("p", { class: "error", role: "alert" }, error.message || String(error));
}

// Proto JSON durations are "1.500s"; timestamps RFC 3339; enums by name.
export function seconds(duration) {
  if (duration === undefined || duration === null || duration === "") return 0;
  return parseFloat(String(duration));
}

export function age(s) {
  s = Number(s) || 0;
  if (s < 1) return s ? `${(s * 1000).toFixed(0)} ms` : "0 s";
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

export function bytes(n) {
  n = Number(n) || 0;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

export function when(value) {
  if (!value) return "—";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? "—" : date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function enumName(value, prefix) {
  return String(value || "").replace(prefix, "").toLowerCase().replace(/_/g, " ");
}

export function rate(value) {
  if (value === undefined || value === null) return "—";
  return Number(value).toFixed(Number(value) < 10 ? 1 : 0);
}

export function queueLink(name, sub = "") {
  return `#/queue/${encodeURIComponent(name)}${sub ? `/${sub}` : ""}`;
}

// UTF-8 text <-> the base64 that proto JSON uses for bytes.
export function b64encode(text) {
  const raw = new TextEncoder().encode(text);
  let s = "";
  for (const b of raw) s += String.fromCharCode(b);
  return btoa(s);
}

export function b64bytes(b64) {
  const s = atob(b64 || "");
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i += 1) out[i] = s.charCodeAt(i);
  return out;
}
