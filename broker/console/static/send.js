// Send: one test message to a queue, or routed by its topic through the bindings.
import { api, b64encode, errorBox, h, queueLink } from "./lib.js";

const GUARANTEES = ["GUARANTEE_AT_LEAST_ONCE", "GUARANTEE_FIRE_AND_FORGET", "GUARANTEE_BROADCAST", "GUARANTEE_QUORUM"];

export async function sendPage(root, route) {
  const queues = (await api("/queues")).queues.map((q) => q.queue.name);
  const queue = h("select", { id: "send-queue" }, h("option", { value: "" }, "(route by topic through bindings)"),
    queues.map((q) => h("option", { value: q, selected: q === route.queue ? true : null }, q)));
  const topic = h("input", { id: "send-topic", placeholder: "orders.eu.created" });
  const payload = h("textarea", { id: "send-payload", placeholder: '{"hello": "world"}' });
  const attributes = h("textarea", { id: "send-attributes", placeholder: "key=value, one a line" });
  const guarantee = h("select", { id: "send-guarantee" }, GUARANTEES.map((g) => h("option", { value: g }, g.replace("GUARANTEE_", "").toLowerCase().replace(/_/g, " "))));
  const requiredAcks = h("input", { id: "send-required-acks", type: "number", min: 0, value: 0 });
  const delay = h("input", { id: "send-delay", inputmode: "decimal", value: 0 });
  const priority = h("input", { id: "send-priority", type: "number", value: 0 });
  const orderingKey = h("input", { id: "send-ordering-key" });
  const result = h("div", { id: "send-result", "aria-live": "polite" });
  const form = h("form", { class: "grid", id: "send", "aria-label": "Send a message", onsubmit: async (e) => {
    e.preventDefault();
    const attrs = {};
    for (const line of attributes.value.split("\n")) {
      const cut = line.indexOf("=");
      if (line.trim() && cut > 0) attrs[line.slice(0, cut).trim()] = line.slice(cut + 1).trim();
    }
    const message = { topic: topic.value.trim(), payload: b64encode(payload.value), attributes: attrs, guarantee: guarantee.value,
      priority: Number(priority.value) || 0, ordering_key: orderingKey.value.trim() };
    if (Number(requiredAcks.value)) message.required_acks = Number(requiredAcks.value);
    if (delay.value.trim() && Number(delay.value) !== 0) message.delay = `${delay.value.trim()}s`;
    try {
      const out = await api("/send", { method: "POST", body: { queue: queue.value, message } });
      const r = out.results[0];
      if (r.error && r.error.message) { result.replaceChildren(h("p", { class: "error", role: "alert" }, r.error.message)); return; }
      const where = (r.queues || [queue.value]).map((q, i) => h("a", { href: queueLink(q, "messages") }, `${q}: ${(r.message_ids || [])[i] || r.message_id}`));
      result.replaceChildren(h("p", { class: "ok" }, `Sent ${r.message_id}${r.duplicate ? " (duplicate: nothing stored)" : ""} → `, where));
    } catch (error) { result.replaceChildren(errorBox(error)); }
  } },
  h("label", { for: "send-queue" }, "Queue", queue), h("label", { for: "send-topic" }, "Topic", topic),
  h("label", { for: "send-guarantee" }, "Guarantee", guarantee), h("label", { for: "send-required-acks" }, "Required acks (quorum)", requiredAcks),
  h("label", { for: "send-delay" }, "Delay (s)", delay), h("label", { for: "send-priority" }, "Priority", priority),
  h("label", { for: "send-ordering-key" }, "Ordering key", orderingKey),
  h("label", { for: "send-payload", class: "span-all" }, "Payload (UTF-8 text)", payload),
  h("label", { for: "send-attributes", class: "span-all" }, "Attributes", attributes),
  h("div", { class: "actions span-all" }, h("button", { type: "submit", id: "send-button" }, "Send")), h("div", { class: "span-all" }, result));
  root.append(h("h1", {}, "Send a test message"), form);
}
