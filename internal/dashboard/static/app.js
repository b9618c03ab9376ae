// stratus dashboard: keeps the page's live region current over a
// server-sent events stream, and sends forms marked data-fetch without
// leaving the page. The server renders every fragment; this script only
// swaps them in. No framework, no build step.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var badge = document.getElementById("live-status");
  var flashArea = document.getElementById("flash-area");

  function status(text, cls) {
    if (badge) { badge.textContent = text; badge.className = "live-status " + cls; }
  }

  function flash(text, isError) {
    if (!flashArea) { return; }
    var p = document.createElement("p");
    p.id = "flash";
    p.className = isError ? "flash error" : "flash";
    p.setAttribute("role", "status");
    p.textContent = text;
    flashArea.replaceChildren(p);
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

  document.addEventListener("submit", function (e) {
    var form = e.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { e.preventDefault(); return; }
    if (!form.hasAttribute("data-fetch") || !window.fetch) { return; }
    // Send the form in the background; the live region shows the effect.
    e.preventDefault();
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { "X-Stratus-Fetch": "1" },
      credentials: "same-origin"
    }).then(function (resp) {
      return resp.text().then(function (text) {
        var answer;
        try { answer = JSON.parse(text); } catch (err) { answer = { ok: false, message: text || ("HTTP " + resp.status) }; }
        if (answer.login) { window.location.assign("/client/login"); return; }
        flash(answer.message, !answer.ok);
      });
    }).catch(function () {
      flash("The request did not reach the server.", true);
    }).finally(function () {
      buttons.forEach(function (b) { b.disabled = false; });
    });
  });
})();
