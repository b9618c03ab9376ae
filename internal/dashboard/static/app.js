// stratus dashboard: keeps the page's live region current over a
// server-sent events stream. The server renders every fragment; this script
// only swaps them in. No framework, no build step.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var badge = document.getElementById("live-status");
  function status(text, cls) {
    if (badge) { badge.textContent = text; badge.className = "live-status " + cls; }
  }
  if (live && live.dataset.live && window.EventSource) {
    var es = new EventSource(live.dataset.live);
    es.addEventListener("open", function () { status("live", "on"); });
    es.addEventListener("error", function () {
      status(es.readyState === EventSource.CLOSED ? "offline" : "reconnecting", "off");
    });
    es.addEventListener("fragment", function (e) {
      live.innerHTML = e.data;
      live.setAttribute("data-updated", String(Date.now()));
      status("live", "on");
    });
    es.addEventListener("expired", function () {
      es.close();
      window.location.assign("/client/login");
    });
  }
  // Ask before destroying anything.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });
})();
