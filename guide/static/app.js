// Progressive enhancement only: every page works as plain links and form posts without this.
import { initAll } from "./vendor/govuk/govuk-frontend.min.js";

initAll();

// After htmx swaps in the next step, start its GOV.UK components and move focus the way a
// full page load would: to the error summary if there is one, otherwise to the page heading,
// so screen reader and keyboard users hear the new question.
document.body.addEventListener("htmx:afterSettle", (event) => {
  // An outerHTML swap replaces the target, so compare by id, not by element.
  if (!event.detail.target || event.detail.target.id !== "page-container") return;
  const container = document.getElementById("page-container");
  if (!container) return;
  initAll({ scope: container });
  highlightMenu();
  const summary = container.querySelector(".govuk-error-summary");
  if (summary) return; // the error summary component focuses itself
  // A page may name where reading continues (the chat: the guide's newest reply) with autofocus,
  // as it does for a full page load. htmx focuses it without scrolling and then scrolls the
  // window to the top, so scroll to it once htmx has finished (the next frame).
  const continueAt = container.querySelector("[autofocus]");
  if (continueAt) {
    continueAt.focus({ preventScroll: true });
    requestAnimationFrame(() => continueAt.scrollIntoView({ block: "start" }));
    return;
  }
  const heading = container.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  }
});

// Print buttons (record pages) are buttons rather than inline handlers, which the CSP forbids.
document.body.addEventListener("click", (event) => {
  const button = event.target.closest("[data-print]");
  if (button) {
    event.preventDefault();
    window.print();
  }
});

// htmx swaps only the page container, so the menu would keep highlighting the page it was
// loaded on: mark the item whose address is the longest prefix of the new one, as the server does.
function highlightMenu() {
  const links = Array.from(document.querySelectorAll(".govuk-service-navigation__link[href]"));
  const here = window.location.pathname;
  const best = links
    .filter((link) => { const path = new URL(link.href).pathname; return here === path || (path !== "/" && here.startsWith(path)); })
    .sort((a, b) => new URL(b.href).pathname.length - new URL(a.href).pathname.length)[0];
  for (const link of links) {
    const item = link.closest(".govuk-service-navigation__item");
    const active = link === best;
    item?.classList.toggle("govuk-service-navigation__item--active", active);
    if (active) link.setAttribute("aria-current", "true"); else link.removeAttribute("aria-current");
    const strong = link.querySelector("strong.govuk-service-navigation__active-fallback");
    if (strong && !active) strong.replaceWith(...strong.childNodes);
    if (!strong && active && link.tagName === "A") {
      const wrapper = document.createElement("strong");
      wrapper.className = "govuk-service-navigation__active-fallback";
      wrapper.append(...link.childNodes);
      link.append(wrapper);
    }
  }
}

// The GOV.UK timeout warning: before the idle timeout signs the person out, a dialog offers to keep
// them signed in. Nothing typed is lost either way: if the time runs out, the page (and what was
// typed on it) stays, and sending it asks them to sign in again and then sends it on.
let timeoutTimers = [];

function sessionTimeoutDialog() {
  let dialog = document.getElementById("session-timeout-dialog");
  if (dialog) return dialog;
  dialog = document.createElement("dialog");
  dialog.id = "session-timeout-dialog";
  dialog.className = "app-timeout-dialog";
  dialog.setAttribute("aria-labelledby", "session-timeout-heading");
  dialog.setAttribute("aria-describedby", "session-timeout-message");
  dialog.innerHTML =
    '<h2 class="govuk-heading-m" id="session-timeout-heading">You’re about to be signed out</h2>' +
    '<p class="govuk-body" id="session-timeout-message"></p>' +
    '<div class="govuk-button-group">' +
    '<button type="button" class="govuk-button" data-stay-signed-in>Stay signed in</button>' +
    '</div>';
  document.body.appendChild(dialog);
  dialog.addEventListener("cancel", (event) => event.preventDefault()); // Escape does not silently dismiss it
  return dialog;
}

function scheduleSessionTimeout() {
  timeoutTimers.forEach((timer) => clearTimeout(timer));
  timeoutTimers = [];
  const holder = document.getElementById("session-timeout");
  if (!holder) return;
  const left = Number(holder.dataset.secondsLeft);
  const warn = Number(holder.dataset.warnSeconds);
  if (!Number.isFinite(left) || !Number.isFinite(warn)) return;
  const dialog = sessionTimeoutDialog();
  const message = dialog.querySelector("#session-timeout-message");
  const stay = dialog.querySelector("[data-stay-signed-in]");
  stay.hidden = false;
  stay.onclick = async () => {
    const answer = await fetch(holder.dataset.keepAliveUrl, {
      method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": holder.dataset.csrfToken },
    });
    dialog.close();
    if (answer.status === 204) {
      holder.dataset.secondsLeft = holder.dataset.idleSeconds; // a full idle period again
      scheduleSessionTimeout();
    }
  };
  timeoutTimers.push(setTimeout(() => {
    const when = warn >= 120 ? `${Math.round(warn / 60)} minutes` : `${Math.round(warn)} seconds`;
    message.textContent = `For your security, we will sign you out in ${when}. ` +
      "Anything you have typed on this page will be kept.";
    if (!dialog.open) dialog.showModal();
    stay.focus();
  }, Math.max(0, left - warn) * 1000));
  timeoutTimers.push(setTimeout(() => {
    document.getElementById("session-timeout-heading").textContent = "You have been signed out";
    message.textContent = "What you typed is still on this page. When you send it, you will be asked to sign in " +
      "again and it will then be sent on.";
    stay.hidden = true;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "govuk-button govuk-button--secondary";
    close.textContent = "Close";
    close.onclick = () => { dialog.close(); close.remove(); };
    stay.parentElement.appendChild(close);
    if (!dialog.open) dialog.showModal();
    close.focus();
  }, (left + 1) * 1000)); // a second after the server ends it: the seconds left were rounded down
}

scheduleSessionTimeout();
document.body.addEventListener("htmx:afterSettle", scheduleSessionTimeout);
