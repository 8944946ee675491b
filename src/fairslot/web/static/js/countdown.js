// The hold page's countdown (web/patient/templates/patient/book_held.html): the server
// wrote the seconds left; this only ticks them down. Without it the page still works.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".clock[data-left]").forEach(function (clock) {
    var end = Date.now() + parseInt(clock.dataset.left, 10) * 1000;
    function tick() {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      if (left === 0) {
        clock.textContent = clock.dataset.expired || "0:00";
        return;
      }
      var s = left % 60;
      clock.textContent = Math.floor(left / 60) + ":" + (s < 10 ? "0" : "") + s;
      window.setTimeout(tick, 1000);
    }
    tick();
  });
});
