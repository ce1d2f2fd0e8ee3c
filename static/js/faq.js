// Opening /faq/#some-question opens that question's disclosure widget.
function openFromHash() {
  const id = decodeURIComponent(window.location.hash.slice(1));
  const target = id && document.getElementById(id);
  if (target && target.tagName === "DETAILS") {
    target.open = true;
    target.querySelector("summary").focus();
  }
}
window.addEventListener("hashchange", openFromHash);
openFromHash();
