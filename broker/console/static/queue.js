// Queue: stats, configuration (UpdateQueue's fields, checked by the server), bindings,
// subscriptions, pause/resume, purge, and a chart of the server's rates.
import { age, api, enumName, errorBox, h, queueLink, rate, seconds, toast, when } from "./lib.js";
import { chart, points } from "./charts.js";
import { POLL_MS, ratesOf } from "./overview.js";

const KINDS = ["QUEUE_KIND_STANDARD", "QUEUE_KIND_FIFO", "QUEUE_KIND_PRIORITY"];
const OVERFLOW = ["OVERFLOW_POLICY_REJECT_NEW", "OVERFLOW_POLICY_DROP_OLDEST"];
// [field, label, kind]: "s" durations in seconds, "n" whole numbers, "t" text.
const FIELDS = [
  ["lease", "Lease (s)", "s"], ["max_deliveries", "Max deliveries (0: no limit)", "n"],
  ["dead_letter_queue", "Dead-letter queue", "t"], ["dedup_window", "Dedup window (s)", "s"],
  ["message_ttl", "Message TTL (s, 0: none)", "s"], ["default_delay", "Default delay (s)", "s"],
  ["max_depth", "Max depth (0: no limit)", "n"], ["max_payload_bytes", "Max payload bytes (0: server's)", "n"],
];

export function tabs(name, current) {
  const tab = (sub, label) => h("a", { href: queueLink(name, sub), "aria-current": current === sub ? "page" : null }, label);
  return h("nav", { class: "tabs", "aria-label": "Queue pages" }, tab("", "Queue"), tab("messages", "Messages"),
    tab("dead", "Dead letters"), h("a", { href: `#/send/${encodeURIComponent(name)}` }, "Send"));
}

function select(id, options, value) {
  return h("select", { id, name: id }, options.map((o) => h("option", { value: o, selected: o === value ? true : null }, enumName(o, /^(QUEUE_KIND_|OVERFLOW_POLICY_)/))));
}

function configForm(q, onSaved) {
  const inputs = {};
  const problem = h("div", { id: "config-problem", "aria-live": "polite" });
  const fields = FIELDS.map(([field, label, kind]) => {
    const value = kind === "s" ? seconds(q[field]) : q[field];
    inputs[field] = h("input", { id: `f-${field}`, name: field, value: value ?? "", inputmode: kind === "t" ? null : "decimal" });
    return h("label", { for: `f-${field}` }, label, inputs[field]);
  });
  inputs.kind = select("f-kind", KINDS, q.kind);
  inputs.overflow_policy = select("f-overflow_policy", OVERFLOW, q.overflow_policy);
  inputs.dedup_by_content = h("input", { id: "f-dedup_by_content", type: "checkbox", checked: !!q.dedup_by_content });
  const b = q.retry_backoff || {};
  const backoff = {
    initial: h("input", { id: "f-backoff-initial", value: seconds(b.initial), inputmode: "decimal" }),
    multiplier: h("input", { id: "f-backoff-multiplier", value: b.multiplier ?? 0, inputmode: "decimal" }),
    max: h("input", { id: "f-backoff-max", value: seconds(b.max), inputmode: "decimal" }),
    jitter: h("input", { id: "f-backoff-jitter", value: b.jitter ?? 0, inputmode: "decimal" }),
    delays: h("input", { id: "f-backoff-delays", value: (b.delays || []).map(seconds).join(", "), placeholder: "e.g. 1, 5, 30" }),
  };
  const original = JSON.stringify(collect());
  function collect() {
    const out = { kind: inputs.kind.value, overflow_policy: inputs.overflow_policy.value };
    if (q.dedup_by_content !== undefined) out.dedup_by_content = inputs.dedup_by_content.checked;
    for (const [field, , kind] of FIELDS) {
      const raw = inputs[field].value.trim();
      out[field] = kind === "s" ? `${raw || 0}s` : kind === "n" ? (raw === "" ? 0 : raw) : raw;
    }
    const delays = backoff.delays.value.split(",").map((x) => x.trim()).filter(Boolean).map((x) => `${x}s`);
    out.retry_backoff = { initial: `${backoff.initial.value.trim() || 0}s`, multiplier: backoff.multiplier.value.trim() || 0,
      max: `${backoff.max.value.trim() || 0}s`, jitter: backoff.jitter.value.trim() || 0, delays };
    return out;
  }
  const form = h("form", { class: "grid", id: "config", "aria-label": "Configuration", onsubmit: async (e) => {
    e.preventDefault();
    const now = collect(), before = JSON.parse(original);
    const mask = Object.keys(now).filter((k) => JSON.stringify(now[k]) !== JSON.stringify(before[k]));
    if (!mask.length) { problem.replaceChildren(h("p", { class: "muted" }, "Nothing changed.")); return; }
    try {
      await api(`/queues/${encodeURIComponent(q.name)}`, { method: "PATCH", body: { queue: now, update_mask: mask } });
      toast(`Saved ${mask.join(", ")}`);
      onSaved();
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  } },
  h("label", { for: "f-kind" }, "Kind", inputs.kind), fields,
  h("label", { for: "f-overflow_policy" }, "Overflow policy", inputs.overflow_policy),
  q.dedup_by_content !== undefined ? h("label", { for: "f-dedup_by_content", class: "check" },
    h("span", {}, inputs.dedup_by_content, " dedup by content (messages without a dedup id)")) : null,
  h("fieldset", { class: "span-all grid" }, h("legend", {}, "Retry backoff: explicit delays, or initial × multiplier up to max"),
    h("label", { for: "f-backoff-initial" }, "Initial (s)", backoff.initial),
    h("label", { for: "f-backoff-multiplier" }, "Multiplier", backoff.multiplier),
    h("label", { for: "f-backoff-max" }, "Max (s, 0: no cap)", backoff.max),
    h("label", { for: "f-backoff-jitter" }, "Jitter (0–1)", backoff.jitter),
    h("label", { for: "f-backoff-delays" }, "Delays (s, comma-separated)", backoff.delays)),
  h("div", { class: "span-all actions" }, h("button", { type: "submit", id: "save" }, "Save configuration")),
  h("div", { class: "span-all" }, problem));
  return form;
}

function statCards(s) {
  const c = (label, value, col) => h("div", { class: "card" }, h("div", { class: "label" }, label), h("div", { class: "value", "data-col": col }, value));
  const r = ratesOf(s);
  return h("div", { class: "cards", id: "stats" }, c("Ready", s.ready, "ready"), c("In flight", s.in_flight, "in_flight"),
    c("Delayed", s.delayed, "delayed"), c("Dead-lettered", s.dead_lettered, "dead_lettered"),
    c("Oldest", age(parseFloat(s.oldest_age)), "oldest"), c("Sent", s.sent, "sent"), c("Acked", s.acked, "acked"),
    c("Redelivered", s.redelivered, "redelivered"), c("In/s", r ? rate(r.in) : "—", "in"), c("Out/s", r ? rate(r.out) : "—", "out"),
    s.paused !== undefined ? c("Paused", s.paused ? "yes" : "no", "paused") : null);
}

function bindingsSection(name, bindings, reload) {
  const pattern = h("input", { id: "new-binding", placeholder: "orders.#", "aria-label": "New binding pattern" });
  const problem = h("div", {});
  return h("section", { "aria-labelledby": "bindings-title" }, h("h2", { id: "bindings-title" }, "Bindings"),
    h("div", { class: "scroll" }, h("table", { id: "bindings" }, h("thead", {}, h("tr", {}, h("th", {}, "Pattern"), h("th", {}, ""))),
      h("tbody", {}, bindings.length ? bindings.map((b) => h("tr", {}, h("td", {}, b.pattern), h("td", {},
        h("button", { type: "button", class: "secondary", onclick: async () => {
          try { await api(`/queues/${encodeURIComponent(name)}/bindings?pattern=${encodeURIComponent(b.pattern)}`, { method: "DELETE" }); reload(); } catch (error) { problem.replaceChildren(errorBox(error)); }
        } }, "Unbind"))))
        : h("tr", {}, h("td", { colspan: 2, class: "muted" }, "No bindings: only sends naming this queue reach it."))))),
    h("form", { class: "actions", onsubmit: async (e) => {
      e.preventDefault();
      try { await api(`/queues/${encodeURIComponent(name)}/bindings`, { method: "POST", body: { pattern: pattern.value.trim() } }); reload(); } catch (error) { problem.replaceChildren(errorBox(error)); }
    } }, pattern, h("button", { type: "submit" }, "Bind")), problem);
}

function subscriptionsSection(name, subs, lag) {
  const lagOf = Object.fromEntries((lag || []).map((l) => [l.subscription, l]));
  return h("section", { "aria-labelledby": "subs-title" }, h("h2", { id: "subs-title" }, "Subscriptions"),
    h("div", { class: "scroll" }, h("table", { id: "subscriptions" }, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Filter"),
      h("th", { class: "num" }, "Consumers"), h("th", { class: "num" }, "In flight"), h("th", { class: "num" }, "Lag (ready)"),
      h("th", { class: "num" }, "Oldest unfinished"), h("th", { class: "hide-narrow" }, "Created"))),
    h("tbody", {}, subs.length ? subs.map((s) => {
      const l = lagOf[s.name];
      return h("tr", {}, h("td", {}, s.name), h("td", {}, s.filter || "#"), h("td", { class: "num" }, s.consumers),
        h("td", { class: "num" }, s.in_flight), h("td", { class: "num" }, l ? l.ready : "—"),
        h("td", { class: "num" }, l && l.oldest_age !== undefined ? age(parseFloat(l.oldest_age)) : "—"),
        h("td", { class: "hide-narrow" }, when(s.create_time)));
    }) : h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No subscriptions yet.")))))
  );
}

// `note` lives outside the controls (which are redrawn when the queue changes): results stay.
function controls(name, stats, reload, note) {
  const problem = h("div", { id: "controls-problem" });
  const confirmBox = h("div", {});
  const act = (verb) => async () => {
    try {
      await api(`/queues/${encodeURIComponent(name)}/${verb}`, { method: "POST" });
      toast(`${verb}d ${name}`);
      await reload();
      const toggle = document.getElementById(verb === "pause" ? "resume" : "pause");
      if (toggle) toggle.focus(); // the button was redrawn: keep the keyboard where it was
    } catch (error) { problem.replaceChildren(errorBox(error)); }
  };
  const purge = h("button", { type: "button", class: "danger", id: "purge", onclick: () => {
    const yes = h("button", { type: "button", class: "danger", id: "purge-confirm", onclick: async () => {
      try {
        const out = await api(`/queues/${encodeURIComponent(name)}/purge`, { method: "POST" });
        confirmBox.replaceChildren();
        note.replaceChildren(h("p", { class: "ok", id: "purged" }, `Purged ${out.purged} messages.`));
        reload();
      } catch (error) { confirmBox.replaceChildren(errorBox(error)); }
    } }, "Yes, purge");
    confirmBox.replaceChildren(h("div", { class: "confirm", role: "alertdialog", "aria-label": "Confirm purge" },
      h("p", {}, `Delete the ${Number(stats.ready) + Number(stats.delayed)} waiting messages of ${name}? Messages in flight stay. This cannot be undone.`),
      h("div", { class: "actions" }, yes, h("button", { type: "button", class: "secondary", onclick: () => confirmBox.replaceChildren() }, "Cancel"))));
    yes.focus();
  } }, "Purge…");
  return h("div", {}, h("div", { class: "actions" },
    stats.paused ? h("button", { type: "button", id: "resume", onclick: act("resume") }, "Resume deliveries")
      : h("button", { type: "button", id: "pause", class: "secondary", onclick: act("pause") }, "Pause deliveries"),
    purge), confirmBox, problem);
}

export async function queuePage(root, route, ctx) {
  const name = route.queue;
  const head = h("div", {}), controlBox = h("div", {}), note = h("div", { "aria-live": "polite" }), chartBox = h("div", { id: "rates" }), rest = h("div", {});
  root.append(h("h1", {}, name), tabs(name, ""), head, controlBox, note, h("h2", {}, "Rates"), chartBox, rest);
  const draw = (data) => {
    const now = data.time;
    const depth = chart([{ cls: "depth", points: points(data.history, "depth") }], { now, label: "depth over the last minutes" });
    if (!ratesOf(data.stats)) {
      chartBox.replaceChildren(h("p", { class: "muted" }, "This server reports no rates (send, deliver, ack per second) yet; depth:"), depth);
      return;
    }
    chartBox.replaceChildren(chart([
      { cls: "in", points: points(data.history, "rates.sent") }, { cls: "out", points: points(data.history, "rates.delivered") },
      { cls: "ack", points: points(data.history, "rates.acked") }], { now, label: "send, deliver and ack rates" }),
    h("p", { class: "legend" }, h("span", { class: "in" }, "sent/s"), h("span", { class: "out" }, "delivered/s"), h("span", { class: "ack" }, "acked/s")),
    depth, h("p", { class: "legend" }, h("span", { class: "depth" }, "depth")));
  };
  let paused = null;
  let latest = 0; // an answer to an older request (a poll sent before an action) is dropped
  let wantFull = false; // ...but a full redraw it was asked for is done by the newer one
  const load = async (full) => {
    wantFull = wantFull || full;
    const mine = ++latest;
    const data = await api(`/queues/${encodeURIComponent(name)}`);
    if (mine !== latest) return;
    full = wantFull;
    wantFull = false;
    head.replaceChildren(statCards(data.stats));
    if (full || paused !== !!data.stats.paused) {
      paused = !!data.stats.paused;
      controlBox.replaceChildren(controls(name, data.stats, () => load(true), note));
    }
    draw(data);
    if (full) {
      rest.replaceChildren(h("h2", {}, "Configuration"), h("p", { class: "muted" }, `Created ${when(data.queue.create_time)} · kind ${enumName(data.queue.kind, "QUEUE_KIND_")}`),
        configForm(data.queue, () => load(true)),
        bindingsSection(name, data.bindings, () => load(true)), subscriptionsSection(name, data.subscriptions, data.stats.subscription_lag));
    }
  };
  await load(true);
  ctx.every(POLL_MS, () => load(false));
}
