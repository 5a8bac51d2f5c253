/* Civility embed: renders this page's comment thread in a sandboxed frame.
   Usage: <div id="civility-comments"></div>
          <script src="{{ base_url }}/embed.js" async></script>
   The thread is keyed by the page's canonical URL (<link rel="canonical">, else the URL). */
{% load i18n %}(function () {
  "use strict";
  var base = "{{ base_url|escapejs }}";
  var target = document.getElementById("civility-comments");
  if (!target) {
    target = document.createElement("div");
    target.id = "civility-comments";
    var me = document.currentScript;
    (me && me.parentNode ? me.parentNode : document.body).insertBefore(target, me ? me.nextSibling : null);
  }
  var link = document.querySelector('link[rel="canonical"]');
  var url = target.getAttribute("data-url") || (link && link.href) || location.href.split("#")[0];
  var frame = document.createElement("iframe");
  frame.src = base + "/embed/thread?url=" + encodeURIComponent(url) + "&title=" + encodeURIComponent(document.title);
  frame.title = "{% translate "Comments" as frame_title %}{{ frame_title|escapejs }}";
  frame.setAttribute("data-civility-embed", "");
  frame.style.width = "100%";
  frame.style.border = "0";
  frame.style.minHeight = "300px";
  frame.setAttribute("sandbox", "allow-scripts allow-forms allow-same-origin allow-popups allow-popups-to-escape-sandbox");
  target.appendChild(frame);
  window.addEventListener("message", function (event) {
    if (event.origin !== new URL(base).origin || event.source !== frame.contentWindow) return;
    var data = event.data || {};
    if (data.type === "civility:height" && typeof data.height === "number") {
      frame.style.height = Math.max(200, Math.ceil(data.height)) + "px";
    }
  });
})();
