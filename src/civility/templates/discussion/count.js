/* Civility comment counts for a host site's listings and article pages.
   Usage: <a href="https://news.example/story" data-civility-count></a>
          <span data-civility-count="https://news.example/story"></span>
          <script src="{{ base_url }}/embed/count.js" async></script>
   Each marked element's text becomes "12 comments" (in the reader's language). The page is
   the attribute's value, else the element's href, else this page's canonical URL. The element
   also gets data-civility-count-value="12" for styling. */
(function () {
  "use strict";
  var base = "{{ base_url|escapejs }}";
  var perRequest = {{ max_urls }};

  function pageOf(element) {
    var named = element.getAttribute("data-civility-count");
    if (named) return new URL(named, location.href).href;
    if (element.href) return element.href;
    var link = document.querySelector('link[rel="canonical"]');
    return (link && link.href) || location.href.split("#")[0];
  }

  function show(elements, counts) {
    elements.forEach(function (element) {
      var answer = counts[element.getAttribute("data-civility-count-url")];
      if (!answer) return;
      element.textContent = answer.label;
      element.setAttribute("data-civility-count-value", String(answer.count));
    });
  }

  function run() {
    var elements = Array.prototype.slice.call(document.querySelectorAll("[data-civility-count]"));
    var pages = [];
    elements.forEach(function (element) {
      var page = pageOf(element).split("#")[0];
      element.setAttribute("data-civility-count-url", page);
      if (pages.indexOf(page) < 0) pages.push(page);
    });
    for (var start = 0; start < pages.length; start += perRequest) {
      var query = pages.slice(start, start + perRequest).map(function (page) {
        return "url=" + encodeURIComponent(page);
      }).join("&");
      fetch(base + "/embed/counts?" + query, { credentials: "omit" })
        .then(function (response) { return response.ok ? response.json() : { counts: {} }; })
        .then(function (body) { show(elements, body.counts || {}); })
        .catch(function () { /* counts are decoration: a host page never breaks for them */ });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
