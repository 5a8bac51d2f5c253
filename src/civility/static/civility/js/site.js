// Civility: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // "Copy" next to the short link: shown only where the clipboard API exists.
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    if (!navigator.clipboard) return;
    const input = document.getElementById(button.dataset.copyTarget);
    if (!input) return;
    const label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        button.textContent = button.dataset.copiedLabel || label;
        setTimeout(function () { button.textContent = label; }, 2000);
      });
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
