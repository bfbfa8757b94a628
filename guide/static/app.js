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
