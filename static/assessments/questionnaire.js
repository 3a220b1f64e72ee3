// Autosave bookkeeping for the questionnaire. All rules (show_if, exclusive options, validity)
// live on the server; this only shows the saving state and keeps pending saves from being lost.
(function () {
  "use strict";
  var inFlight = 0;
  var dirty = new Set();
  var unsent = new Set();  // forms whose last save failed: sent again when the network is back
  var unavailable = new Set();  // ... of which the server answered 503 (its database is down)
  var retryTimer = null;

  function bar(state) {
    var el = document.getElementById("savebar");
    if (el) el.dataset.state = state;
  }
  function failed() {
    unsent.forEach(function (form) { if (!document.contains(form)) unsent.delete(form); });
    return unsent.size > 0 || document.querySelector(".qstatus.st-error") !== null;
  }

  function refresh() {
    // A question swapped out by the server (show_if) can no longer be pending.
    dirty.forEach(function (form) { if (!document.contains(form)) dirty.delete(form); });
    unavailable.forEach(function (form) { if (!unsent.has(form)) unavailable.delete(form); });
    var state = failed() ? "error" : inFlight > 0 || dirty.size > 0 ? "saving" : "idle";
    // Only 503s among the failures: the server said it is briefly down, and the page resends.
    if (state === "error" && unavailable.size === unsent.size &&
        document.querySelector(".qstatus.st-error:not(.st-retrying)") === null) {
      state = "retrying";
    }
    bar(state);
  }

  // The server's own words for a 503 (gradient/unavailable.py), in the user's language.
  function unavailableText(xhr) {
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
      var said = doc.querySelector("[data-unavailable]");
      return said ? said.textContent.trim() : "";
    } catch (err) { return ""; }
  }

  function resendSoon(seconds) {
    if (retryTimer) return;
    retryTimer = setTimeout(function () { retryTimer = null; resend(); }, seconds * 1000);
  }

  // Remember which checkbox was ticked, so the server can clear the others when it is an
  // exclusive option ("none of these"). Capture phase: runs before htmx sees the change.
  document.addEventListener("change", function (e) {
    var box = e.target;
    if (box.matches && box.matches(".controls-multi input[type=checkbox]")) {
      var clicked = box.form && box.form.querySelector("input[name=clicked]");
      if (clicked) clicked.value = box.checked ? box.value : "";
    }
  }, true);

  document.addEventListener("input", function (e) {
    if (e.target.form && e.target.form.classList.contains("qform")) {
      dirty.add(e.target.form);
      refresh();
    }
  });

  document.addEventListener("htmx:beforeRequest", function (e) {
    if (!e.target.closest || !e.target.closest(".qform")) return;
    inFlight += 1;
    dirty.delete(e.target.closest(".qform"));
    refresh();
  });

  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.target.closest && e.target.closest(".qform");
    if (!form) return;
    inFlight = Math.max(0, inFlight - 1);
    if (e.detail.successful) {
      unsent.delete(form);
      unavailable.delete(form);
    } else {
      unsent.add(form);
      var xhr = e.detail.xhr;
      var message = form.dataset.errorText;
      var busy = xhr && xhr.status === 503;
      if (busy) {
        // Not saved, and sent again by itself after the server's Retry-After (2 to 30 s).
        unavailable.add(form);
        message = unavailableText(xhr) || form.dataset.retryText || message;
        var wait = parseInt(xhr.getResponseHeader("Retry-After"), 10);
        resendSoon(isNaN(wait) ? 5 : Math.min(30, Math.max(2, wait)));
      } else {
        unavailable.delete(form);
      }
      var status = form.querySelector(".qstatus");
      if (status) {
        status.classList.remove("st-saved", "st-stored", "st-idle");
        status.classList.add("st-error");
        status.classList.toggle("st-retrying", busy);
        status.dataset.error = message;
      }
    }
    refresh();
  });

  // Leaving the page with a save pending: send it first, then follow the link.
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("a");
    if (!link || !link.href) return;
    // An answer changed in two places must be settled here, not dropped by leaving the page.
    var conflict = document.querySelector(".qstatus.st-conflict");
    if (conflict) {
      e.preventDefault();
      conflict.scrollIntoView({ block: "center" });
      return;
    }
    if (inFlight === 0 && dirty.size === 0) return;
    e.preventDefault();
    dirty.forEach(function (form) { htmx.trigger(form, "submit"); });
    var waited = 0;
    var wait = setInterval(function () {
      refresh();
      waited += 100;
      if (failed() || waited > 15000) { clearInterval(wait); return; }  // stay: the bar says why
      if (inFlight === 0 && dirty.size === 0) { clearInterval(wait); window.location = link.href; }
    }, 100);
  });

  // The status element is replaced by the swap, after htmx:afterRequest: look again then.
  document.addEventListener("htmx:afterSettle", refresh);

  // A phone that lost the network: resend the failed saves when it is back, and every 15 s.
  function resend() {
    unsent.forEach(function (form) {
      if (!document.contains(form)) { unsent.delete(form); return; }
      htmx.trigger(form, "submit");
    });
  }
  window.addEventListener("online", resend);
  setInterval(function () { if (unsent.size && navigator.onLine !== false) resend(); }, 15000);

  // Registered after htmx's own start-up (this script is deferred after htmx): from here on
  // every change is sent. Browser tests wait for this mark.
  document.addEventListener("DOMContentLoaded", function () {
    document.documentElement.dataset.qready = "1";
  });

  window.addEventListener("beforeunload", function (e) {
    if (inFlight > 0 || dirty.size > 0) { e.preventDefault(); e.returnValue = ""; }
  });
})();
