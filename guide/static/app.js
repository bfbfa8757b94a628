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
