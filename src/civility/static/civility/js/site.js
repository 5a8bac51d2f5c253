// Civility: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // "Copy" next to the short link. The clipboard API needs a secure context and permission;
  // the older selection-based copy covers the rest.
  function copyBySelection(input) {
    input.focus();
    input.select();
    try { return document.execCommand("copy"); } catch (error) { return false; }
  }

  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    const input = document.getElementById(button.dataset.copyTarget);
    if (!input) return;
    const label = button.textContent.trim();
    function done() {
      button.textContent = button.dataset.copiedLabel || label;
      setTimeout(function () { button.textContent = label; }, 2000);
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () {
          if (copyBySelection(input)) done();
        });
      } else if (copyBySelection(input)) {
        done();
      }
    });
  });

  // Selecting the short link on focus makes it easy to copy by hand.
  document.querySelectorAll(".short-url__input").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });

  // Share links count a share, then open the network as usual.
  document.querySelectorAll("[data-share-url]").forEach(function (box) {
    const counter = box.querySelector("[data-share-count]");
    box.querySelectorAll(".share__link").forEach(function (link) {
      link.addEventListener("click", function () {
        fetch(box.dataset.shareUrl, {
          method: "POST",
          headers: { "X-CSRFToken": csrfToken() },
          credentials: "same-origin",
          keepalive: true,
        })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (data) { if (data && counter) counter.textContent = data.shares; })
          .catch(function () { /* counting is best effort */ });
      });
    });
  });
})();
