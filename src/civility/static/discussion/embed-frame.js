/* Inside the embed frame: tell the host page our height so the frame fits its content. */
(function () {
  "use strict";
  function report() {
    if (window.parent === window) return;
    window.parent.postMessage({ type: "civility:height", height: document.documentElement.scrollHeight }, "*");
  }
  window.addEventListener("load", report);
  if (window.ResizeObserver) new ResizeObserver(report).observe(document.documentElement);
  document.addEventListener("toggle", report, true);
})();
