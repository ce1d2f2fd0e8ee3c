// After htmx swaps in another week, put keyboard focus on its heading, so the
// change is announced and the next Tab goes to that week's first time.
document.body.addEventListener("htmx:afterSwap", (event) => {
  const title = document.getElementById("week-title");
  if (title && event.detail.target.id === "week") {
    title.focus();
  }
});
