// The course-length step: show the timeline for the number of sessions chosen, as soon
// as it is chosen (without this, the page shows the one for the choice it was sent with).
// A file, not inline: the Content Security Policy allows no inline script.
document.addEventListener("change", (event) => {
  const input = event.target;
  if (input.name !== "sessions") {
    return;
  }
  document.querySelectorAll(".course-timeline[data-sessions]").forEach((figure) => {
    figure.hidden = figure.dataset.sessions !== input.value;
  });
});
