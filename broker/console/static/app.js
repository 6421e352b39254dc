// The console's shell: hash routes to pages, the sign-in form, and the poll timer pages use.
import { api, errorBox, h, session } from "./lib.js";
import { overview } from "./overview.js";
import { queuePage } from "./queue.js";
import { messagesPage } from "./messages.js";
import { deadLettersPage } from "./deadletters.js";
import { sendPage } from "./send.js";

const main = () => document.getElementById("main");
let stopCurrent = () => {};

function routeOf(hash) {
  const parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (!parts[0]) return { page: "overview" };
  if (parts[0] === "send") return { page: "send", queue: parts[1] || "" };
  if (parts[0] === "login") return { page: "login" };
  if (parts[0] === "queue" && parts[1]) {
    return { page: { messages: "messages", dead: "dead" }[parts[2]] || "queue", queue: parts[1],
      message: parts[3] || "" };
  }
  return { page: "missing" };
}

// A page is (root, route, ctx) -> optional stop function; ctx.every(ms, fn) polls until it leaves.
async function render() {
  stopCurrent();
  const timers = [];
  const aborts = [];
  const ctx = {
    every(ms, fn) {
      let stopped = false;
      const tick = async () => {
        if (stopped) return;
        try { await fn(); } catch (e) { if (e.status === 401) return; }
        if (!stopped) timers.push(setTimeout(tick, ms));
      };
      timers.push(setTimeout(tick, ms));
      aborts.push(() => { stopped = true; });
    },
    signal() { const c = new AbortController(); aborts.push(() => c.abort()); return c.signal; },
  };
  stopCurrent = () => { timers.forEach(clearTimeout); aborts.forEach((f) => f()); };
  const route = routeOf(location.hash);
  for (const a of document.querySelectorAll("[data-nav]")) {
    a.toggleAttribute("aria-current", a.dataset.nav === route.page);
    if (a.dataset.nav === route.page) a.setAttribute("aria-current", "page");
  }
  const root = h("div", { class: "page" });
  main().replaceChildren(root);
  const pages = { overview, queue: queuePage, messages: messagesPage, dead: deadLettersPage,
    send: sendPage, login: loginPage };
  const page = pages[route.page];
  if (!page) { root.append(h("h1", {}, "Not found"), h("a", { href: "#/" }, "Back to the overview")); return; }
  try {
    await page(root, route, ctx);
  } catch (error) {
    if (error.status !== 401) root.append(errorBox(error));
  }
}

async function loginPage(root, route) {
  const input = h("input", { id: "token", type: "password", autocomplete: "current-password", required: true });
  const problem = h("div", { id: "login-problem" });
  if (route.reason) problem.append(h("p", { class: "error", role: "alert" }, route.reason));
  const form = h("form", { class: "grid login", "aria-labelledby": "login-title", onsubmit: async (e) => {
    e.preventDefault();
    session.token = input.value.trim();
    try {
      const me = await api("/whoami");
      showWho(me);
      location.hash = sessionStorage.getItem("conveyor.after") || "#/";
    } catch (error) {
      session.token = "";
      problem.replaceChildren(errorBox(error));
      input.focus();
    }
  } },
  h("label", { for: "token" }, "Token (needs the admin grant)", input),
  h("div", { class: "actions" }, h("button", { type: "submit" }, "Sign in")), problem);
  root.append(h("h1", { id: "login-title" }, "Sign in"), form);
  input.focus();
}

function showWho(me) {
  const who = document.getElementById("who");
  who.textContent = me && me.auth ? `signed in as ${me.principal}` : "open console (no auth file)";
  document.getElementById("signout").hidden = !(me && me.auth);
}

window.addEventListener("conveyor:unauthorized", (event) => {
  if (routeOf(location.hash).page === "login") return;
  sessionStorage.setItem("conveyor.after", location.hash || "#/");
  stopCurrent();
  const root = h("div", { class: "page" });
  main().replaceChildren(root);
  const reason = session.token ? event.detail.message : "";
  session.token = "";
  history.replaceState(null, "", "#/login");
  loginPage(root, { reason });
});

async function start() {
  document.getElementById("signout").addEventListener("click", () => {
    session.token = "";
    location.hash = "#/login";
    showWho(null);
  });
  window.addEventListener("hashchange", render);
  try {
    showWho(await api("/whoami"));
  } catch (error) {
    if (error.status !== 401) main().replaceChildren(errorBox(error));
    return;
  }
  render();
}

start();
