// Django's two-box chooser (filter_horizontal, SelectFilter2.js) labels each of its
// search boxes with an icon: a <span aria-label="Type into this box to filter...">.
// ARIA allows no name on a plain span (axe: aria-prohibited-attr), so the box is
// left unnamed. As an image (role="img") the icon keeps that name and gives it to
// the box its <label> is for. The chooser is built after the page loads, so new
// nodes are watched for.
"use strict";
{
  const selector = "span.help-tooltip[aria-label]:not([role])";
  const name = (root) => {
    if (root.matches?.(selector)) root.setAttribute("role", "img");
    root.querySelectorAll?.(selector).forEach((icon) => icon.setAttribute("role", "img"));
  };
  name(document);
  new MutationObserver((changes) => {
    for (const change of changes) change.addedNodes.forEach(name);
  }).observe(document.documentElement, { childList: true, subtree: true });
}
