// Schedules pages: show that a long post is under way. The forms work without this file.
(function () {
  "use strict";
  // A plain form marked data-busy: show its spinner and keep it from being sent twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-busy")) return;
    if (form.classList.contains("busy")) { event.preventDefault(); return; }
    form.classList.add("busy");
    form.setAttribute("aria-busy", "true");
  });
  // An upload sent by htmx: how much of the file has gone.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var bar = document.getElementById("sch-upload-progress");
    var detail = event.detail || {};
    if (bar && detail.lengthComputable && detail.total > 0) {
      bar.max = detail.total;
      bar.value = detail.loaded;
    }
  });
})();
