// Buttons marked data-action="print" open the browser's print dialog.
// (A file, not an inline handler: the Content Security Policy allows no inline script.)
document.addEventListener("click", (event) => {
  const button = event.target.closest('[data-action="print"]');
  if (button) {
    window.print();
  }
});
