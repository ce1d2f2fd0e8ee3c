// The error summary (templates/includes/error_summary.html) takes the focus when a
// page loads with errors, so a keyboard or screen reader user meets the problems
// first. Its links move the focus into the field itself, not just the scroll
// position, and bring the field's label or question into view above it.
// (A file, not inline script: the Content Security Policy allows no inline script.)
const summary = document.querySelector("[data-error-summary]");

if (summary) {
  summary.focus();
  summary.addEventListener("click", (event) => {
    const link = event.target.closest('a[href^="#"]');
    const field = link && document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!field) {
      return;
    }
    event.preventDefault();
    const legend = field.closest("fieldset")?.querySelector("legend");
    const label = field.labels && field.labels[0];
    (legend || label || field).scrollIntoView();
    field.focus({ preventScroll: true });
  });
}
