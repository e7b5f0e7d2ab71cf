// Live updates: listen to the page's server-sent events and refresh its [data-live] parts
// in place (fetch the same URL, swap the matching elements). Forms being typed in are left alone.
// The header's badge says whether the page refreshes itself ("auto-refresh on"), never whether
// an alert is live: that is the alert's own banner and mode badge.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.getAttribute("data-events");
  var status = document.getElementById("live-status");
  // The words come from the page (data-* attributes, translated there); English otherwise.
  function say(key, fallback) {
    if (status) status.textContent = status.getAttribute("data-" + key) || fallback;
  }
  if (!url || !window.EventSource) { say("off", "auto-refresh off"); return; }
  var pending = null;    // a refresh is scheduled
  var inflight = false;  // a fetch is running: never start another beside it
  var again = false;     // a change came while it ran: refresh once more when it ends

  function busy(el) {
    var a = document.activeElement;
    return a && el.contains(a) && /INPUT|TEXTAREA|SELECT/.test(a.tagName) && a.value !== a.defaultValue;
  }

  function schedule() {
    if (inflight) { again = true; return; }
    if (!pending) pending = setTimeout(refresh, 300);  // coalesce bursts of changes
  }

  function done() {
    inflight = false;
    if (again) { again = false; schedule(); }
  }

  function refresh() {
    pending = null;
    inflight = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live][id]").forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (fresh && !busy(el)) { el.replaceWith(fresh); }
        });
        document.dispatchEvent(new CustomEvent("bolo:refreshed"));
      })
      .catch(function () { say("failed", "refresh failed"); })
      .then(done);
  }

  var source = new EventSource(url);
  source.addEventListener("hello", function () { say("live-text", "auto-refresh on"); });
  source.addEventListener("change", function () {
    say("live-text", "auto-refresh on");
    schedule();
  });
  // The session is over (signed out here or elsewhere, password changed, account disabled):
  // stop listening and reload, which leads to the sign-in page.
  source.addEventListener("ended", function () { source.close(); window.location.reload(); });
  source.onerror = function () { say("reconnecting", "auto-refresh reconnecting"); };
})();
