// Overview: the server's state and every queue, polled every two seconds, with sparklines of
// what this page has seen (depth) and of the server's own rates where it reports them.
import { age, api, bytes, enumName, h, queueLink, rate, when } from "./lib.js";
import { points, sparkline } from "./charts.js";

export const POLL_MS = 2000;

function card(label, value, id) {
  return h("div", { class: "card" }, h("div", { class: "label" }, label),
    h("div", { class: "value", id }, value));
}

export function ratesOf(stats) {
  // rates_1m comes from the server (ListQueueStats/GetQueueStats) when it keeps them.
  const r = stats.rates_1m;
  return r ? { in: r.sent, out: r.acked, delivered: r.delivered } : null;
}

function serverCards(info) {
  return h("div", { class: "cards", id: "server" },
    card("Health", h("span", { class: `pill ${info.health}` }, info.health), "health"),
    card("Uptime", age(info.uptime_s), "uptime"),
    card("Storage", info.storage, "storage"),
    info.storage === "wal" ? card("WAL size", bytes(info.wal_bytes), "wal-size") : null,
    info.storage === "wal" ? card("Last checkpoint", info.last_checkpoint ? when(info.last_checkpoint) : "none yet", "checkpoint") : null);
}

function row(item, now) {
  const q = item.queue, s = item.stats;
  const depth = Number(s.depth);
  const r = ratesOf(s);
  const depthLine = [{ cls: "depth", points: points(item.history, "depth") }];
  const rateLines = r ? [{ cls: "in", points: points(item.history, "rates.sent") }, { cls: "out", points: points(item.history, "rates.acked") }] : null;
  return h("tr", { "data-queue": q.name },
    h("td", {}, h("a", { href: queueLink(q.name) }, q.name), s.paused ? h("span", { class: "pill" }, " paused") : null),
    h("td", { class: "hide-narrow" }, enumName(q.kind, "QUEUE_KIND_")),
    h("td", { class: "num", "data-col": "ready" }, s.ready),
    h("td", { class: "num", "data-col": "in_flight" }, s.in_flight),
    h("td", { class: "num", "data-col": "delayed" }, s.delayed),
    h("td", { class: "num", "data-col": "dead_lettered" }, s.dead_lettered),
    h("td", { class: "num" }, age(parseFloat(s.oldest_age))),
    h("td", { class: "num", "data-col": "in" }, r ? rate(r.in) : "—"),
    h("td", { class: "num", "data-col": "out" }, r ? rate(r.out) : "—"),
    h("td", {}, sparkline(depthLine, { now, label: `${q.name}: depth ${depth} over the last minutes` })),
    h("td", { class: "hide-narrow" }, rateLines ? sparkline(rateLines, { now, label: `${q.name}: sent and acked per second over the last minutes` }) : "—"));
}

export async function overview(root, _route, ctx) {
  const serverBox = h("div", {});
  const body = h("tbody", { id: "queues" });
  const stamp = h("p", { class: "muted", id: "updated" });
  const problem = h("div", {});
  root.append(h("h1", {}, "Overview"), serverBox, h("h2", {}, "Queues"),
    h("div", { class: "scroll" }, h("table", { "aria-label": "Queues" },
      h("thead", {}, h("tr", {}, h("th", {}, "Queue"), h("th", { class: "hide-narrow" }, "Kind"),
        h("th", { class: "num" }, "Ready"), h("th", { class: "num" }, "In flight"),
        h("th", { class: "num" }, "Delayed"), h("th", { class: "num" }, "Dead-lettered"),
        h("th", { class: "num" }, "Oldest"), h("th", { class: "num", title: "sent per second, last minute" }, "In/s"),
        h("th", { class: "num", title: "acked per second, last minute" }, "Out/s"), h("th", {}, "Depth"),
        h("th", { class: "hide-narrow" }, "Rates"))),
      body)),
    h("p", { class: "legend" }, h("span", { class: "depth" }, "depth"), h("span", { class: "in" }, "in/s (sent)"),
      h("span", { class: "out" }, "out/s (acked)")),
    stamp, problem);
  let noRates = false;
  const refresh = async () => {
    try {
      const [info, list] = await Promise.all([api("/server"), api("/queues")]);
      serverBox.replaceChildren(serverCards(info));
      body.replaceChildren(...list.queues.map((item) => row(item, list.time)));
      if (!list.queues.length) body.append(h("tr", {}, h("td", { colspan: 11, class: "muted" }, "No queues yet.")));
      noRates = list.queues.some((item) => !ratesOf(item.stats));
      stamp.textContent = `Updated ${when(list.time)}${noRates ? " · this server reports no rates (in/s, out/s)" : ""}`;
      problem.replaceChildren();
    } catch (error) {
      if (error.status === 401) throw error;
      problem.replaceChildren(h("p", { class: "error", role: "alert" }, error.message));
    }
  };
  await refresh();
  ctx.every(POLL_MS, refresh);
}
