/* Moderation queue keys: j/k move between cards, a approves, r rejects (with the rule chosen
   in the card), x toggles the card's bulk checkbox. Ignored while typing in a field. */
(function () {
  "use strict";
  var index = -1;

  function cards() { return Array.prototype.slice.call(document.querySelectorAll("[data-card]")); }

  function focus(i) {
    var all = cards();
    if (!all.length) return;
    index = Math.max(0, Math.min(all.length - 1, i));
    all.forEach(function (card) { card.classList.remove("is-focused"); });
    all[index].classList.add("is-focused");
    all[index].focus({ preventScroll: true });
    all[index].scrollIntoView({ block: "nearest" });
  }

  function current() {
    var all = cards();
    return index >= 0 && index < all.length ? all[index] : null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable) return;
    var card = current();
    if (event.key === "j") { focus(index + 1); event.preventDefault(); }
    else if (event.key === "k") { focus(index - 1); event.preventDefault(); }
    else if (event.key === "a" && card) {
      var approve = card.querySelector("form[data-approve]");
      if (approve) { approve.requestSubmit ? approve.requestSubmit() : approve.submit(); event.preventDefault(); }
    } else if (event.key === "r" && card) {
      var reject = card.querySelector("form[data-reject]");
      var select = reject && reject.querySelector("select[name=rule]");
      if (select && !select.value) { select.focus(); event.preventDefault(); return; }
      if (reject) { reject.requestSubmit ? reject.requestSubmit() : reject.submit(); event.preventDefault(); }
    } else if (event.key === "x" && card) {
      var box = card.querySelector("[data-bulk-box]");
      if (box) { box.checked = !box.checked; event.preventDefault(); }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var all = document.querySelector("[data-bulk-all]");
    if (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll("[data-bulk-box]").forEach(function (box) { box.checked = all.checked; });
      });
    }
    document.querySelectorAll("[data-card]").forEach(function (card, i) {
      card.addEventListener("click", function () { index = i; });
    });
  });
})();
