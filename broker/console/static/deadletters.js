// Dead letters: why each one failed, where it came from, how often it was tried, filtered by
// reason and source; redrive one, the ones ticked, the oldest N or all of them, to each one's
// source queue or to a queue chosen here.
import { api, errorBox, h, queueLink, toast, when } from "./lib.js";
import { payloadView } from "./messages.js";
import { tabs } from "./queue.js";

export async function deadLettersPage(root, route) {
  const name = route.queue;
  const list = h("div", {}), detailBox = h("div", {}), result = h("div", { "aria-live": "polite", id: "redrive-result" });
  const queues = (await api("/queues")).queues.map((q) => q.queue.name).filter((q) => q !== name);
  const destination = h("select", { id: "redrive-to" }, h("option", { value: "" }, "each message's source queue"),
    queues.map((q) => h("option", { value: q }, q)));
  const count = h("input", { id: "redrive-count", type: "number", min: 1, value: 1 });
  const reset = h("input", { id: "redrive-reset", type: "checkbox" });
  const reason = h("select", { id: "filter-reason" }, [["", "any reason"], ["DEAD_LETTER_REASON_MAX_DELIVERIES", "max deliveries"],
    ["DEAD_LETTER_REASON_NACKED", "nacked"], ["DEAD_LETTER_REASON_EXPIRED", "expired"]].map(([v, t]) => h("option", { value: v }, t)));
  const source = h("input", { id: "filter-source", placeholder: "any source queue" });
  const selected = new Set();
  const redrive = async (max, ids = []) => {
    try {
      const out = await api(`/queues/${encodeURIComponent(name)}/redrive`, { method: "POST", body: { destination: destination.value, max_messages: max, reset_attempts: reset.checked, message_ids: ids } });
      selected.clear();
      result.replaceChildren(h("p", { class: "ok" }, `Redrove ${out.redriven}${out.skipped ? `, skipped ${out.skipped} (gone, or no queue to go to)` : ""}.`));
      toast(`Redrove ${out.redriven}`);
      await load();
    } catch (error) { result.replaceChildren(errorBox(error)); }
  };
  const load = async () => {
    const q = new URLSearchParams({ max_messages: 1000 });
    if (reason.value) q.set("reason", reason.value);
    if (source.value.trim()) q.set("source_queue", source.value.trim());
    const data = await api(`/queues/${encodeURIComponent(name)}/dead-letters?${q}`);
    if (!data.messages.length) {
      list.replaceChildren(h("p", { class: "muted", id: "no-dead-letters" }, "No dead letters."));
      return;
    }
    const shown = new Set(data.messages.map((m) => m.id));
    for (const id of [...selected]) if (!shown.has(id)) selected.delete(id);
    const redriveSelected = h("button", { type: "button", id: "redrive-selected", disabled: !selected.size,
      onclick: () => redrive(0, [...selected]) }, "Redrive selected");
    list.replaceChildren(h("div", { class: "actions" }, h("p", { class: "muted" }, `${data.messages.length} dead letters (oldest first)`), redriveSelected),
      h("div", { class: "scroll" }, h("table", { id: "dead-letters" }, h("thead", {}, h("tr", {}, h("th", {}, h("span", { class: "visually-hidden" }, "Select")), h("th", {}, "Id"), h("th", {}, "Reason"),
        h("th", {}, "Source"), h("th", { class: "num" }, "Attempts"), h("th", { class: "hide-narrow" }, "Subscription"), h("th", { class: "hide-narrow" }, "When"), h("th", {}, ""))),
      h("tbody", {}, data.messages.map((m) => {
        const d = m.dead_letter || {};
        const tick = h("input", { type: "checkbox", "aria-label": `Select ${m.id}`, checked: selected.has(m.id), onchange: (e) => {
          if (e.target.checked) selected.add(m.id); else selected.delete(m.id);
          redriveSelected.disabled = !selected.size;
        } });
        return h("tr", { "data-id": m.id }, h("td", {}, tick), h("td", {}, h("button", { type: "button", class: "secondary", onclick: () => {
          const was = d.source_queue && d.source_message_id
            ? h("a", { href: queueLink(d.source_queue, `messages/${encodeURIComponent(d.source_message_id)}`) }, `${d.source_message_id} in ${d.source_queue}`)
            : "—";
          detailBox.replaceChildren(h("h2", {}, `Dead letter ${m.id}`), h("p", {}, `topic ${m.topic || "—"} · was `, was), payloadView(m.payload));
        } }, m.id)), h("td", {}, d.reason || "—", d.last_nack_reason && d.last_nack_reason !== d.reason ? h("div", { class: "muted" }, `last nack: ${d.last_nack_reason}`) : null), h("td", {}, d.source_queue || "—"), h("td", { class: "num" }, d.attempts ?? 0),
        h("td", { class: "hide-narrow" }, d.subscription || "—"), h("td", { class: "hide-narrow" }, when(d.dead_letter_time)),
        h("td", {}, h("button", { type: "button", class: "secondary", "aria-label": `Redrive ${m.id}`, onclick: () => redrive(0, [m.id]) }, "Redrive this")));
      })))));
  };
  root.append(h("h1", {}, `${name}: dead letters`), tabs(name, "dead"),
    h("form", { class: "grid", "aria-label": "Redrive", onsubmit: (e) => { e.preventDefault(); redrive(Number(count.value) || 1); } },
      h("label", { for: "redrive-to" }, "Redrive to", destination), h("label", { for: "redrive-count" }, "How many (oldest first)", count),
      h("label", { for: "redrive-reset", class: "check" }, h("span", {}, reset, " start their attempt counts afresh")),
      h("div", { class: "actions span-all" }, h("button", { type: "submit", id: "redrive-some" }, "Redrive oldest"),
        h("button", { type: "button", id: "redrive-all", class: "secondary", onclick: () => redrive(0) }, "Redrive all"))),
    h("form", { class: "actions", "aria-label": "Filter dead letters", onsubmit: (e) => { e.preventDefault(); load().catch((error) => list.replaceChildren(errorBox(error))); } },
      reason, source, h("button", { type: "submit", class: "secondary", id: "filter-dead" }, "Filter")),
    result, list, detailBox);
  await load();
}
