/* Comment threads without page reloads. Every form also works without this script. */
(function () {
  "use strict";

  function newToken() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(36).slice(2);
  }

  function fillTokens(root) {
    root.querySelectorAll("[data-client-token]").forEach(function (input) {
      if (!input.value) input.value = newToken();
    });
  }

  function csrf(form) {
    var field = form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  // Translated texts come from the form's data-label-* attributes (set by the template);
  // the English fallbacks only serve a form rendered without them.
  function label(form, name, fallback) {
    return form.getAttribute("data-label-" + name) || fallback;
  }

  function say(form, text, kind) {
    var status = form.querySelector("[data-form-status]");
    if (!status) return;
    status.textContent = text;
    status.className = "comment-form__status" + (kind ? " comment__status comment__status--" + kind : "");
  }

  // POST ``body`` and read the JSON answer: { ok: the status was 2xx, data: the JSON }.
  function postJson(url, body, token) {
    return fetch(url, {
      method: "POST",
      body: body,
      headers: { "Accept": "application/json", "X-CSRFToken": token },
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    });
  }

  function send(form) {
    return postJson(form.action, new FormData(form), csrf(form));
  }

  function insertComment(form, html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var node = template.content.firstElementChild;
    var parentInput = form.querySelector("input[name=parent_id]");
    var list;
    if (parentInput) {
      var parent = document.getElementById("comment-" + parentInput.value);
      list = parent && parent.querySelector(":scope > ol.comment-list--replies");
      if (parent && !list) {
        list = document.createElement("ol");
        list.className = "comment-list comment-list--replies";
        parent.appendChild(list);
      }
    } else {
      list = document.querySelector("[data-comment-list]");
    }
    if (!list || !node) return;
    var empty = list.querySelector("[data-empty]");
    if (empty) empty.remove();
    list.appendChild(node);
    enhance(node);
    node.scrollIntoView({ block: "nearest" });
    // The reader's own comment is on the page already: live updates do not offer it as new.
    var section = list.closest("[data-comments]");
    var id = Number(node.getAttribute("data-comment-id")) || 0;
    if (section && id) section.setAttribute("data-own", (section.getAttribute("data-own") || "") + " " + id);
  }

  function onCommentForm(form) {
    var textarea = form.querySelector("textarea");
    var counter = form.querySelector("[data-counter]");
    if (textarea && counter) {
      var update = function () {
        var max = parseInt(textarea.getAttribute("maxlength") || "0", 10);
        counter.textContent = max ? textarea.value.length + " / " + max : "";
      };
      textarea.addEventListener("input", update);
      update();
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      say(form, label(form, "sending", "Sending…"));
      send(form).then(function (result) {
        var data = result.data || {};
        if (!result.ok) {
          if (data.blocked_url) { window.location.href = data.blocked_url; return; }
          if (data.login_url) { window.location.href = data.login_url + "?next=" + encodeURIComponent(location.pathname); return; }
          say(form, data.error || label(form, "error", "Something went wrong."), "rejected");
          return;
        }
        say(form, data.message, data.status);
        if (data.html) insertComment(form, data.html);
        if (data.status === "published") {
          var count = document.querySelector("[data-comment-count]");
          if (count) count.textContent = String((parseInt(count.textContent, 10) || 0) + 1);
        }
        if (textarea) {
          textarea.value = "";
          textarea.dispatchEvent(new Event("input"));
        }
        var token = form.querySelector("[data-client-token]");
        if (token) token.value = newToken();
        if (data.status === "published") {
          var details = form.closest("details");
          if (details) details.open = false;
          var panel = form.closest("[data-panel]");
          if (panel) closePanel(panel.getAttribute("data-panel"), true);
        }
      }).catch(function () {
        say(form, label(form, "network", "Network error: your comment was not sent. Try again."), "rejected");
      }).finally(function () {
        if (button) button.disabled = false;
      });
    });
  }

  function onDeleteForm(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var question = form.getAttribute("data-confirm") || "Delete this comment? Replies to it stay in place.";
      if (!window.confirm(question)) return;
      send(form).then(function (result) {
        if (!result.ok) return;
        var item = form.closest("[data-comment-id]");
        var body = item && item.querySelector(".comment__body");
        if (!body) return;
        var tombstone = document.createElement("p");
        tombstone.className = "comment__tombstone";
        tombstone.textContent = (result.data && result.data.message) || label(form, "deleted", "You deleted this comment.");
        body.replaceChildren(tombstone);
      });
    });
  }

  function onReportForm(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(form).then(function (result) {
        var data = result.data || {};
        say(form, result.ok ? data.message : (data.error || label(form, "error", "Could not send the report.")), result.ok ? "published" : "rejected");
      });
    });
  }

  // One reply form and one report form per page (in <template data-reply-template> and
  // <template data-report-template>), moved under the comment whose button was pressed: a page
  // of 75 comments then carries two forms instead of 150, and the comment template costs the
  // same for every reader. Without this script, each comment's Reply and Report stay links to
  // the reply page and the report page.
  var panels = {};

  function panelFor(kind) {
    if (panels[kind]) return panels[kind];
    var template = document.querySelector("template[data-" + kind + "-template]");
    if (!template) return null;
    var element = template.content.firstElementChild.cloneNode(true);
    element.hidden = true;
    var form = element.querySelector("form");
    fillTokens(element);
    if (form.hasAttribute("data-comment-form")) onCommentForm(form);
    if (form.hasAttribute("data-report-form")) onReportForm(form);
    element.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        closePanel(kind, true);
      }
    });
    element.querySelectorAll("[data-cancel]").forEach(function (cancel) {
      cancel.addEventListener("click", function () { closePanel(kind, true); });
    });
    panels[kind] = { element: element, form: form, button: null, commentId: null };
    return panels[kind];
  }

  function closePanel(kind, restoreFocus) {
    var panel = panels[kind];
    if (!panel || panel.element.hidden) return;
    panel.element.hidden = true;
    if (panel.button) {
      panel.button.setAttribute("aria-expanded", "false");
      if (restoreFocus && panel.button.isConnected) panel.button.focus();
    }
  }

  function openPanel(kind, button) {
    var panel = panelFor(kind);
    var item = button.closest("[data-comment-id]");
    if (!panel || !item) return;
    if (panel.button === button && !panel.element.hidden) {
      closePanel(kind, true);
      return;
    }
    if (panel.button) panel.button.setAttribute("aria-expanded", "false");
    var commentId = item.getAttribute("data-comment-id");
    if (commentId !== panel.commentId) {
      say(panel.form, "");
      if (kind === "reply") {
        panel.form.querySelector("input[name=parent_id]").value = commentId;
      } else {
        panel.form.action = button.getAttribute("data-href");
        panel.form.reset();
      }
      panel.commentId = commentId;
    }
    panel.button = button;
    // Below the comment's own actions, before its replies.
    var actions = button.closest(".comment__actions");
    (actions || button).after(panel.element);
    panel.element.hidden = false;
    button.setAttribute("aria-controls", panel.element.id);
    button.setAttribute("aria-expanded", "true");
    var field = panel.element.querySelector("textarea, select");
    if (kind === "reply" && field && !field.value && button.quotedText) {
      // Text the reader selected in the comment becomes a quote ("> ...") to answer below.
      field.value = button.quotedText.split(/\r?\n/).map(function (line) {
        return "> " + line;
      }).join("\n") + "\n\n";
      field.dispatchEvent(new Event("input"));
    }
    if (field) {
      field.focus();
      if (field.setSelectionRange && field.value) field.setSelectionRange(field.value.length, field.value.length);
    }
  }

  // The text selected inside ``item``'s own words, if any (at most 500 characters).
  function selectionIn(item) {
    var selection = window.getSelection && window.getSelection();
    var text = item.querySelector(":scope > .comment__body .comment__text");
    if (!selection || selection.isCollapsed || !text) return "";
    if (!text.contains(selection.anchorNode) || !text.contains(selection.focusNode)) return "";
    return selection.toString().trim().slice(0, 500);
  }

  // The server renders links (they work without this script); with it they become buttons
  // that open the page's one form in place.
  function actionButtons(root) {
    root.querySelectorAll("a[data-action]").forEach(function (link) {
      var kind = link.getAttribute("data-action");
      if (!document.querySelector("template[data-" + kind + "-template]")) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link-button " + link.className;
      button.textContent = link.textContent;
      button.setAttribute("data-action", kind);
      button.setAttribute("data-href", link.href);
      button.setAttribute("aria-expanded", "false");
      // The selection is read as the button is pressed, before a click may clear it.
      button.addEventListener("pointerdown", function () {
        var item = button.closest("[data-comment-id]");
        button.pressedQuote = kind === "reply" && item ? selectionIn(item) : "";
      });
      button.addEventListener("click", function () {
        var item = button.closest("[data-comment-id]");
        // From the keyboard there was no press: the selection is still there.
        button.quotedText = button.pressedQuote !== undefined ? button.pressedQuote
          : (kind === "reply" && item ? selectionIn(item) : "");
        button.pressedQuote = undefined;
        openPanel(kind, button);
      });
      link.replaceWith(button);
    });
  }

  // The page's CSRF token: from any form on it, else the cookie (the comment markup itself
  // carries no token, so that every reader's copy is the same).
  function pageToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (field) return field.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function setRecommended(button, on, count) {
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.classList.toggle("is-recommended", on);
    if (count !== undefined) {
      button.querySelector("[data-recommend-count]").textContent = String(count);
    }
  }

  function onRecommendButton(button) {
    button.addEventListener("click", function () {
      var on = button.getAttribute("aria-pressed") !== "true";
      var body = new FormData();
      body.append("recommend", on ? "1" : "0");
      button.disabled = true;
      var failed = function (error) {
        var section = button.closest("[data-comments]");
        window.alert(error || (section && section.getAttribute("data-label-recommend-error")) || "Error");
      };
      postJson(button.getAttribute("data-url"), body, pageToken()).then(function (result) {
        if (result.ok) {
          setRecommended(button, result.data.recommended, result.data.recommendations);
        } else {
          failed(result.data.error);
        }
      }).catch(function () {
        failed("");
      }).finally(function () {
        button.disabled = false;
      });
    });
  }

  function recommendButtons(root) {
    var mine = {};
    document.querySelectorAll("[data-recommended]").forEach(function (section) {
      section.getAttribute("data-recommended").split(" ").forEach(function (id) { mine[id] = true; });
    });
    root.querySelectorAll("button[data-recommend]").forEach(function (button) {
      var item = button.closest("[data-comment-id]");
      if (item && mine[item.getAttribute("data-comment-id")]) setRecommended(button, true);
      onRecommendButton(button);
    });
  }

  // Live updates: the article page asks every data-live-seconds whether comments newer than
  // the newest it shows were published (not while the tab is hidden; slower after errors). A
  // button then offers them, and a click loads the section again in the reader's order.
  function liveUpdates(section) {
    var url = section.getAttribute("data-live-url");
    var button = section.querySelector("[data-live-button]");
    if (!url || !button || !window.fetch) return;
    var seconds = Math.max(1, Number(section.getAttribute("data-live-seconds")) || 30);
    var delay = seconds;
    var timer = null;
    var newest = Number(section.getAttribute("data-newest")) || 0;

    function ownNewer() {
      return (section.getAttribute("data-own") || "").split(" ").filter(function (id) {
        return Number(id) > newest;
      }).length;
    }
    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(ask, delay * 1000);
    }
    function ask() {
      if (!section.isConnected || document.visibilityState === "hidden") return;
      fetch(url + "?after=" + newest, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(function (data) {
          delay = seconds;
          var fresh = (Number(data.new) || 0) - ownNewer();
          if (fresh > 0) {
            button.textContent = button.getAttribute("data-label-new").replace("%(count)s", String(fresh));
            button.hidden = false;
          }
          schedule();
        })
        .catch(function () { delay = Math.min(delay * 2, 600); schedule(); });
    }
    function showNew() {
      button.disabled = true;
      fetch(section.getAttribute("data-section-url"), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) {
          var template = document.createElement("template");
          template.innerHTML = html;
          var fresh = template.content.querySelector("[data-comments]");
          if (!fresh) return Promise.reject("no section");
          var draft = section.querySelector("#comment-text");
          var freshDraft = fresh.querySelector("#comment-text");
          if (draft && freshDraft) freshDraft.value = draft.value;
          clearTimeout(timer);
          section.replaceWith(fresh);
          enhance(fresh);
          var heading = fresh.querySelector("#comments-heading");
          if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
        })
        .catch(function () { button.disabled = false; });
    }
    button.addEventListener("click", showNew);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && section.isConnected) schedule();
    });
    schedule();
  }

  function enhance(root) {
    recommendButtons(root);
    fillTokens(root);
    actionButtons(root);
    root.querySelectorAll("form[data-comment-form]").forEach(onCommentForm);
    root.querySelectorAll("form[data-delete-form]").forEach(onDeleteForm);
    root.querySelectorAll("form[data-report-form]").forEach(onReportForm);
    if (root.matches && root.matches("[data-live-url]")) liveUpdates(root);
    else if (root.querySelectorAll) root.querySelectorAll("[data-live-url]").forEach(liveUpdates);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  } else {
    enhance(document);
  }
})();
