"use strict";
// Live updates: the server renders <main>; this asks for it every second and swaps it in when it
// changed (ETag), keeping focus, open log panes and scroll. Same origin only; no other script.
(function () {
  var main = document.getElementById("main");
  var etag = "";
  function keep() {
    var active = document.activeElement;
    var open = [];
    main.querySelectorAll("details[open]").forEach(function (d) { open.push(d.id); });
    return { focus: active && active.id ? active.id : null, open: open };
  }
  function restore(state) {
    state.open.forEach(function (id) { var d = document.getElementById(id); if (d) d.open = true; });
    if (state.focus) { var f = document.getElementById(state.focus); if (f) f.focus(); }
  }
  function refresh() {
    fetch("/page/main", { headers: etag ? { "if-none-match": etag } : {}, credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.status === 401) { location.reload(); return null; }
        if (r.status !== 200) return null;
        etag = r.headers.get("etag") || "";
        return r.text();
      })
      .then(function (html) {
        if (html === null || html === undefined) return;
        var state = keep();
        main.innerHTML = html;
        restore(state);
      })
      .catch(function () {})
      .finally(function () { setTimeout(refresh, 1000); });
  }
  setTimeout(refresh, 1000);
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.classList || !form.classList.contains("stop")) return;
    if (window.confirm("Stop job " + form.getAttribute("data-job") + "? Its GPUs are freed; this cannot be undone.")) {
      form.elements.confirmed.value = "yes";
    } else {
      e.preventDefault();
    }
  });
  document.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("[data-copy]") : null;
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-copy"));
    input.select();
    var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
    else { document.execCommand("copy"); done(); }
  });
})();
