// latch admin page: confirmations, the copy button, live events, the
// import's progress. No inline script anywhere (the CSP forbids it).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.dataset.confirm)) { e.preventDefault(); }
    });
  });
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    b.addEventListener("click", function () {
      var el = document.getElementById(b.dataset.copy);
      var text = el ? el.textContent : "";
      var ok = function () { b.textContent = b.dataset.copied; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(ok);
      } else {
        var r = document.createRange();
        r.selectNodeContents(el);
        var s = window.getSelection();
        s.removeAllRanges();
        s.addRange(r);
        try { document.execCommand("copy"); ok(); } catch (e) { /* selected: the user copies */ }
      }
    });
  });
  var t = document.getElementById("events");
  if (t && !t.dataset.paged && window.EventSource) {
    var es = new EventSource(t.dataset.stream);
    var live = document.getElementById("live");
    es.onopen = function () { if (live) { live.hidden = false; } };
    es.onerror = function () { if (live) { live.hidden = true; } };
    es.onmessage = function (m) {
      var e = JSON.parse(m.data);
      var body = t.tBodies[0];
      var empty = body.querySelector("tr.empty");
      if (empty) { empty.remove(); }
      var tr = document.createElement("tr");
      [e.time, e.Event, e.Door, e.User, e.Detail].forEach(function (v, i) {
        var td = document.createElement("td");
        td.textContent = v || "";
        if (i === 4) { td.className = "detail"; }
        tr.appendChild(td);
      });
      tr.className = "new";
      body.insertBefore(tr, body.firstChild);
      while (body.rows.length > 200) { body.deleteRow(body.rows.length - 1); }
    };
  }
  if (document.querySelector("[data-reload]")) {
    setTimeout(function () { window.location.reload(); }, 1000);
  }
});
