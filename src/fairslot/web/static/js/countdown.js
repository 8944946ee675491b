// The patient pages' countdowns (a hold's time to pay, a draw's or a release's time to
// open): the server wrote the seconds left; this only ticks them down, as h:mm:ss past an
// hour. Without it the pages still work and say the time itself.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function text(left) {
    var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    return h > 0 ? h + ":" + two(m) + ":" + two(s) : m + ":" + two(s);
  }
  document.querySelectorAll(".clock[data-left]").forEach(function (clock) {
    var end = Date.now() + parseInt(clock.dataset.left, 10) * 1000;
    function tick() {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      if (left === 0) {
        clock.textContent = clock.dataset.expired || "0:00";
        return;
      }
      clock.textContent = text(left);
      window.setTimeout(tick, 1000);
    }
    tick();
  });
});
