/* The push prompt: "Get push notifications? Accept / Refuse", asked once per browser.
 * Accept: permission, service worker (scope "/"), PushManager subscription, POST to the site.
 * Refuse: remembered; nothing is stored on the server and we do not ask again. */
(function () {
  "use strict";
  var STORAGE_KEY = "civility.push.choice";

  function remember(choice) { try { localStorage.setItem(STORAGE_KEY, choice); } catch (e) { /* private mode */ } }
  function remembered() { try { return localStorage.getItem(STORAGE_KEY); } catch (e) { return null; } }

  function urlBase64ToUint8Array(base64) {
    var padding = "=".repeat((4 - (base64.length % 4)) % 4);
    var raw = atob((base64 + padding).replace(/-/g, "+").replace(/_/g, "/"));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  async function accept(prompt) {
    var permission = await Notification.requestPermission();
    if (permission !== "granted") { remember("refused"); return "refused"; }
    var registration = await navigator.serviceWorker.register(prompt.dataset.workerUrl, { scope: "/" });
    await navigator.serviceWorker.ready;
    var key = await (await fetch(prompt.dataset.keyUrl, { credentials: "same-origin" })).json();
    var subscription = await registration.pushManager.getSubscription();
    if (!subscription) {
      subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: urlBase64ToUint8Array(key.publicKey)
      });
    }
    var response = await fetch(prompt.dataset.subscribeUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": prompt.dataset.csrf },
      body: JSON.stringify(subscription.toJSON())
    });
    if (!response.ok) throw new Error("subscribe " + response.status);
    remember("accepted");
    return "accepted";
  }

  function init() {
    var prompt = document.querySelector("[data-push-prompt]");
    if (!prompt) return;
    var supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
    if (!supported || remembered() || Notification.permission === "denied") return;
    prompt.hidden = false;
    prompt.querySelector("[data-push-refuse]").addEventListener("click", function () {
      remember("refused");
      prompt.hidden = true;
      prompt.setAttribute("data-state", "refused");
    });
    prompt.querySelector("[data-push-accept]").addEventListener("click", function () {
      prompt.setAttribute("data-state", "working");
      accept(prompt).then(function (state) {
        prompt.setAttribute("data-state", state);
        prompt.hidden = true;
      }).catch(function (error) {
        prompt.setAttribute("data-state", "error");
        if (window.console) console.warn("push subscription failed", error);
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
