// Message browser: peeks (never claims, never changes a message), filtered by topic pattern
// and state; a message's payload as text, JSON or hex, its attributes, and its status timeline
// (GetMessageStatus, then WatchMessage's changes as they happen); cancel when it waits.
import { age, api, b64bytes, enumName, errorBox, events, h, queueLink, seconds, toast, when } from "./lib.js";
import { tabs } from "./queue.js";

function hex(raw) {
  const lines = [];
  for (let i = 0; i < raw.length; i += 16) {
    const chunk = Array.from(raw.slice(i, i + 16));
    const text = chunk.map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${i.toString(16).padStart(8, "0")}  ${chunk.map((b) => b.toString(16).padStart(2, "0")).join(" ").padEnd(48)}  ${text}`);
  }
  return lines.join("\n") || "(empty)";
}

export function payloadView(b64) {
  const raw = b64bytes(b64);
  const text = new TextDecoder("utf-8", { fatal: false }).decode(raw);
  let json = null;
  try { json = JSON.stringify(JSON.parse(text), null, 2); } catch { json = null; }
  const pre = h("pre", { class: "payload", id: "payload", tabindex: 0 });
  const views = { text: () => text || "(empty)", json: () => json ?? "(not JSON)", hex: () => hex(raw) };
  const buttons = Object.keys(views).map((v) => h("button", { type: "button", class: "secondary", "data-view": v,
    "aria-pressed": "false", onclick: () => show(v) }, v === "json" ? "JSON" : v));
  function show(v) {
    pre.textContent = views[v]();
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.view === v));
  }
  show(json !== null ? "json" : "text");
  return h("div", {}, h("div", { class: "actions", role: "group", "aria-label": "Payload view" }, h("span", { class: "muted" }, `${raw.length} bytes`), buttons), pre);
}

function describe(status) {
  const state = enumName(status.state, "MESSAGE_STATE_");
  const copies = (status.subscriptions || []).map((c) => `${c.subscription || "any subscription"}: ${enumName(c.state, "MESSAGE_STATE_")} (attempt ${c.attempts})`);
  const acked = (status.acked_by || []).length ? ` · acked by ${status.acked_by.join(", ")}` : "";
  return `${state}${status.attempts ? ` · ${status.attempts} attempt(s)` : ""}${acked}${status.reason ? ` · ${status.reason}` : ""}${copies.length ? ` · ${copies.join("; ")}` : ""}`;
}

async function detail(box, name, item, signal) {
  const m = item.message;
  const timeline = h("ol", { class: "timeline", id: "timeline", "aria-live": "polite" },
    h("li", {}, `${when(m.publish_time)} stored (${enumName(m.guarantee || "GUARANTEE_AT_LEAST_ONCE", "GUARANTEE_")})`));
  const problem = h("div", {});
  const attrs = Object.entries(m.attributes || {});
  const cancel = h("button", { type: "button", class: "danger", id: "cancel", onclick: async () => {
    try {
      const out = await api(`/queues/${encodeURIComponent(name)}/messages/${encodeURIComponent(m.id)}/cancel`, { method: "POST" });
      toast(`Message ${m.id} is now ${describe(out.status)}`);
    } catch (error) { problem.replaceChildren(errorBox(error)); }
  } }, "Cancel message");
  box.replaceChildren(h("section", { "aria-labelledby": "detail-title", id: "detail" },
    h("h2", { id: "detail-title", tabindex: -1 }, `Message ${m.id}`),
    h("p", {}, `topic ${m.topic || "—"} · priority ${m.priority || 0}${m.ordering_key ? ` · key ${m.ordering_key}` : ""}${m.dedup_id ? ` · dedup ${m.dedup_id}` : ""}`),
    payloadView(m.payload),
    h("h2", {}, "Attributes"),
    attrs.length ? h("div", { class: "scroll" }, h("table", { id: "attributes" }, h("tbody", {}, attrs.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, v))))))
      : h("p", { class: "muted" }, "None."),
    h("h2", {}, "Status"), timeline,
    item.view !== "in_flight" ? h("div", { class: "actions" }, cancel) : null, problem));
  box.querySelector("#detail-title").focus();
  await follow(name, m.id, timeline, problem, signal);
}

// Appends the message's status, then each change (WatchMessage), until it is final.
async function follow(name, id, timeline, problem, signal) {
  try {
    for await (const [event, data] of events(`/queues/${encodeURIComponent(name)}/messages/${encodeURIComponent(id)}/watch`, signal)) {
      if (event === "status") timeline.append(h("li", {}, `${when(data.update_time)} ${describe(data)}`));
      else if (event === "problem") problem.replaceChildren(h("p", { class: "error" }, data.error));
      else if (event === "end") timeline.append(h("li", { class: "muted" }, "final: no more changes"));
    }
  } catch (error) {
    if (error.name !== "AbortError") problem.replaceChildren(errorBox(error));
  }
}

// A message found by id, live or finished (acked, dead-lettered, expired...): its status only.
async function lookup(box, name, id, signal) {
  const timeline = h("ol", { class: "timeline", id: "timeline", "aria-live": "polite" });
  const problem = h("div", {});
  box.replaceChildren(h("section", { "aria-labelledby": "detail-title", id: "detail" },
    h("h2", { id: "detail-title", tabindex: -1 }, `Message ${id}`), h("h2", {}, "Status"), timeline, problem));
  box.querySelector("#detail-title").focus();
  await follow(name, id, timeline, problem, signal);
}

export async function messagesPage(root, route, ctx) {
  const name = route.queue;
  const params = new URLSearchParams(sessionStorage.getItem(`conveyor.filter.${name}`) || "");
  const topic = h("input", { id: "filter-topic", name: "topic", placeholder: "orders.*.created or #", value: params.get("topic") || "" });
  const state = h("select", { id: "filter-state", name: "state" }, ["all", "ready", "delayed", "in_flight"].map((s) =>
    h("option", { value: s, selected: s === (params.get("state") || "all") ? true : null }, s.replace("_", " "))));
  const limit = h("input", { id: "filter-limit", name: "max_messages", type: "number", min: 1, max: 1000, value: params.get("max_messages") || 50 });
  const list = h("div", {}), detailBox = h("div", {});
  let watching = null; // the open watch of the message shown, ended when another is chosen
  const pageSignal = ctx.signal();
  const show = (item, byId = false) => {
    if (watching) watching.abort();
    watching = new AbortController();
    pageSignal.addEventListener("abort", () => watching.abort(), { once: true });
    if (byId) lookup(detailBox, name, item.message.id, watching.signal);
    else detail(detailBox, name, item, watching.signal);
  };
  const load = async () => {
    const q = new URLSearchParams({ topic: topic.value.trim(), state: state.value, max_messages: limit.value });
    sessionStorage.setItem(`conveyor.filter.${name}`, q.toString());
    try {
      const data = await api(`/queues/${encodeURIComponent(name)}/messages?${q}`);
      list.replaceChildren(h("p", { class: "muted" }, `${data.messages.length} shown of ${data.scanned} peeked (peeking changes nothing)`),
        h("div", { class: "scroll" }, h("table", { id: "messages" }, h("thead", {}, h("tr", {}, h("th", {}, "Id"), h("th", {}, "Topic"), h("th", {}, "State"),
          h("th", { class: "num" }, "Attempts"), h("th", { class: "num" }, "Due in"), h("th", { class: "hide-narrow" }, "Published"))),
        h("tbody", {}, data.messages.map((item) => h("tr", { "data-id": item.message.id },
          h("td", {}, h("button", { type: "button", class: "secondary", onclick: () => show(item) }, item.message.id)),
          h("td", {}, item.message.topic || "—"), h("td", {}, h("span", { class: `pill ${item.view}` }, item.view.replace("_", " "))),
          h("td", { class: "num" }, item.attempts), h("td", { class: "num" }, item.view === "delayed" ? age(seconds(item.due_in)) : "—"),
          h("td", { class: "hide-narrow" }, when(item.message.publish_time))))))));
      if (!data.messages.length) list.replaceChildren(list.firstChild, h("p", { class: "muted", id: "no-messages" }, "No messages match."));
    } catch (error) { list.replaceChildren(errorBox(error)); }
  };
  const wanted = h("input", { id: "find-id", placeholder: "message id", value: route.message || "", "aria-label": "Message id" });
  const find = h("form", { class: "actions", "aria-label": "Find a message by id", onsubmit: (e) => {
    e.preventDefault();
    if (wanted.value.trim()) show({ message: { id: wanted.value.trim() } }, true);
  } }, wanted, h("button", { type: "submit", class: "secondary", id: "find" }, "Follow by id"));
  root.append(h("h1", {}, name), tabs(name, "messages"),
    h("form", { class: "grid", "aria-label": "Filter messages", onsubmit: (e) => { e.preventDefault(); load(); } },
      h("label", { for: "filter-topic" }, "Topic pattern", topic), h("label", { for: "filter-state" }, "State", state),
      h("label", { for: "filter-limit" }, "At most", limit),
      h("div", { class: "actions span-all" }, h("button", { type: "submit", id: "browse" }, "Browse"), h("a", { href: queueLink(name, "dead") }, "Dead letters"))),
    find, list, detailBox);
  await load();
  if (route.message) show({ message: { id: route.message } }, true);
}
