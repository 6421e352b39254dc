// Hand-drawn SVG charts over time: a sparkline for table rows and a larger chart. No library.
// A series is {cls, points: [[t, value], ...]}; x spans the last `window` seconds up to `now`.
import { h } from "./lib.js";

export const WINDOW_S = 300; // the server keeps five minutes of samples (broker/console/history.py)

function path(points, { width, height, now, window, max, top = 0 }) {
  if (!points.length) return "";
  if (points.length === 1) points = [[points[0][0] - 1, points[0][1]], points[0]];
  return points.map(([t, v], i) => {
    const x = Math.max(0, width - ((now - t) / window) * width);
    const y = top + height - 1 - ((Number(v) || 0) / (max || 1)) * (height - 2);
    return `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`;
  }).join(" ");
}

// The span drawn: the window, or less while the samples cover less (a server just started).
function span(series, now, window) {
  const first = Math.min(now, ...series.flatMap((s) => s.points.map(([t]) => t)));
  return Math.max(10, Math.min(window, now - first));
}

function scale(series) {
  return Math.max(1, ...series.flatMap((s) => s.points.map(([, v]) => Number(v) || 0)));
}

export function sparkline(series, { width = 120, height = 28, now, window = WINDOW_S, label = "" } = {}) {
  const max = scale(series);
  window = span(series, now, window);
  return h("svg", { class: "spark", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label },
    series.map((s) => h("path", { svg: true, class: s.cls, d: path(s.points, { width, height, now, window, max }) })));
}

export function chart(series, { width = 600, height = 160, now, window = WINDOW_S, label = "" } = {}) {
  const max = scale(series);
  window = span(series, now, window);
  const grid = [0.25, 0.5, 0.75].map((f) => h("line", { svg: true, x1: 0, x2: width,
    y1: (height * f).toFixed(0), y2: (height * f).toFixed(0), stroke: "#e3e7ec" }));
  const over = window >= 120 ? `${(window / 60).toFixed(0)} min` : `${window.toFixed(0)} s`;
  return h("figure", { class: "chart" },
    h("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img", "aria-label": label },
      grid,
      series.map((s) => h("path", { svg: true, class: s.cls, fill: "none", "stroke-width": 2, "vector-effect": "non-scaling-stroke",
        d: path(s.points, { width, height: height - 8, now, window, max, top: 6 }) }))),
    h("figcaption", { class: "muted" }, `${label}: the last ${over}, top of the chart ${Number(max).toFixed(1)}`));
}

// [[t, value]] of one field of the server's samples (a dotted path such as "rates.sent").
export function points(history, field) {
  const [a, b] = field.split(".");
  return history.filter((x) => (b ? x[a] : true)).map((x) => [x.t, Number(b ? x[a][b] : x[a]) || 0]);
}
