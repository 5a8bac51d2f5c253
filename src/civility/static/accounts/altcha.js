/* Civility's self-hosted ALTCHA solver (proof of work, protocol v1; MIT-compatible, no CDN).
 *
 * Markup (templates/accounts/widgets/captcha.html):
 *   <div data-altcha data-challenge-url="..."> <input type=hidden data-altcha-payload>
 *   <input type=checkbox data-altcha-checkbox> <span data-altcha-status> </div>
 * The server signs a challenge = SHA-256(salt + number); we find the number and post back
 * base64(JSON{algorithm, challenge, number, salt, signature}). The server verifies it once.
 */
(function () {
  "use strict";

  // Plain SHA-256 for pages served over plain HTTP, where crypto.subtle does not exist.
  function sha256HexFallback(message) {
    var k = [], h = [], i, j;
    var isPrime = function (n) { for (var d = 2; d * d <= n; d++) if (n % d === 0) return false; return true; };
    var frac = function (x) { return ((x - Math.floor(x)) * 4294967296) | 0; };
    for (i = 2, j = 0; j < 64; i++) if (isPrime(i)) { if (j < 8) h[j] = frac(Math.pow(i, 1 / 2)); k[j++] = frac(Math.pow(i, 1 / 3)); }
    var bytes = unescape(encodeURIComponent(message)), words = [], len = bytes.length * 8;
    for (i = 0; i < bytes.length; i++) words[i >> 2] |= bytes.charCodeAt(i) << (24 - (i % 4) * 8);
    words[len >> 5] |= 0x80 << (24 - (len % 32));
    words[(((len + 64) >> 9) << 4) + 15] = len;
    var rotr = function (x, n) { return (x >>> n) | (x << (32 - n)); };
    for (i = 0; i < words.length; i += 16) {
      var w = [], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
      for (j = 0; j < 64; j++) {
        if (j < 16) w[j] = words[i + j] | 0;
        else {
          var s0 = rotr(w[j - 15], 7) ^ rotr(w[j - 15], 18) ^ (w[j - 15] >>> 3);
          var s1 = rotr(w[j - 2], 17) ^ rotr(w[j - 2], 19) ^ (w[j - 2] >>> 10);
          w[j] = (w[j - 16] + s0 + w[j - 7] + s1) | 0;
        }
        var t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[j] + w[j]) | 0;
        var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h = [(h[0] + a) | 0, (h[1] + b) | 0, (h[2] + c) | 0, (h[3] + d) | 0, (h[4] + e) | 0, (h[5] + f) | 0, (h[6] + g) | 0, (h[7] + hh) | 0];
    }
    return h.map(function (x) { return ("00000000" + (x >>> 0).toString(16)).slice(-8); }).join("");
  }

  var encoder = new TextEncoder();
  function toHex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function sha256Hex(text) {
    if (window.crypto && window.crypto.subtle) {
      return window.crypto.subtle.digest("SHA-256", encoder.encode(text)).then(toHex);
    }
    return Promise.resolve(sha256HexFallback(text));
  }

  async function solve(challenge) {
    var max = challenge.maxNumber || challenge.maxnumber || 1000000;
    var batch = 500;
    for (var start = 0; start <= max; start += batch) {
      var end = Math.min(start + batch, max + 1), tries = [];
      for (var n = start; n < end; n++) tries.push(sha256Hex(challenge.salt + n));
      var hashes = await Promise.all(tries);
      var found = hashes.indexOf(challenge.challenge);
      if (found >= 0) return start + found;
    }
    return null;
  }

  function setup(root) {
    var payloadInput = root.querySelector("[data-altcha-payload]");
    var checkbox = root.querySelector("[data-altcha-checkbox]");
    var status = root.querySelector("[data-altcha-status]");
    var form = root.closest("form");
    var running = null;

    function setState(state, text) {
      root.setAttribute("data-state", state);
      if (text) status.textContent = text;
    }

    function run() {
      if (running) return running;
      checkbox.checked = true;
      checkbox.disabled = true;
      setState("verifying", root.getAttribute("data-label-verifying") || "Verifying…");
      running = fetch(root.getAttribute("data-challenge-url"), { credentials: "same-origin", cache: "no-store" })
        .then(function (response) { if (!response.ok) throw new Error("challenge " + response.status); return response.json(); })
        .then(function (challenge) {
          return solve(challenge).then(function (number) {
            if (number === null) throw new Error("unsolved");
            payloadInput.value = btoa(JSON.stringify({
              algorithm: challenge.algorithm, challenge: challenge.challenge, number: number,
              salt: challenge.salt, signature: challenge.signature
            }));
            setState("verified", root.getAttribute("data-label-verified") || "Verified: you are not a robot");
          });
        })
        .catch(function () {
          running = null;
          checkbox.checked = false;
          checkbox.disabled = false;
          setState("error", root.getAttribute("data-label-failed") || "The check failed. Tick the box to try again.");
        });
      return running;
    }

    checkbox.addEventListener("change", function () { if (checkbox.checked) run(); });
    if (form) {
      form.addEventListener("submit", function (event) {
        if (payloadInput.value) return;
        event.preventDefault();
        var submitter = event.submitter;
        var pending = run();
        if (pending) pending.then(function () {
          if (payloadInput.value) { if (form.requestSubmit) form.requestSubmit(submitter || undefined); else form.submit(); }
        });
      });
    }
    setState("idle");
  }

  function init() { document.querySelectorAll("[data-altcha]").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
