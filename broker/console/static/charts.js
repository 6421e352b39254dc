// Hand-drawn SVG charts: a sparkline for table rows and a small multi-line chart. No library.
import { h } from "./lib.js";

function path(values, width, height, max) {
  if (!values.length) return "";
  if (values.length === 1) values = [values[0], values[0]];
  const step = width / (values.length - 1);
  return values.map((v, i) => {
    const y = height - 1 - ((Number(v) || 0) / (max || 1)) * (height - 2);
    return `${i ? "L" : "M"}${(i * step).toFixed(1)},${y.toFixed(1)}`;
  }).join(" ");
}

// series: [{values: [...], cls: "depth"}]; each scaled to the largest value of all.
export function sparkline(series, { width = 120, height = 28, label = "" } = {}) {
  const max = Math.max(1, ...series.flatMap((s) => s.values.map(Number)));
  return h("svg", { class: "spark", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": label },
  series.map((s) => h("path", { svg: true, class: s.cls, d: path(s.values, width, height, max) })));
}

export function chart(series, { width = 600, height = 160, label = "" } = {}) {
  const max = Math.max(1, ...series.flatMap((s) => s.values.map(Number)));
  const pad = 4;
  const grid = [0.25, 0.5, 0.75].map((f) => h("line", { svg: true, x1: 0, x2: width,
    y1: (height * f).toFixed(0), y2: (height * f).toFixed(0), stroke: "#e3e7ec" }));
  return h("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none",
    role: "img", "aria-label": label },
  grid,
  h("text", { svg: true, x: 6, y: 14, "font-size": 11, fill: "#5c6670" }, `max ${Number(max).toFixed(1)}`),
  series.map((s) => h("path", { svg: true, class: s.cls, fill: "none", "stroke-width": 2,
    d: path(s.values, width, height - pad, max) })));
}

// Keeps the last `keep` samples of each key: the browser's own memory of what it has seen.
export class History {
  constructor(keep = 150) { this.keep = keep; this.rows = new Map(); }
  add(key, sample) {
    const list = this.rows.get(key) || [];
    list.push(sample);
    if (list.length > this.keep) list.splice(0, list.length - this.keep);
    this.rows.set(key, list);
    return list;
  }
  get(key) { return this.rows.get(key) || []; }
}
