// The patient pages' countdowns (a hold's time to pay, a draw's or a release's time to
// open): the server wrote the seconds left and the units in the page's language
// (data-units "天|小时|分|秒" or "d|h|min|s"); this only ticks them down, in the same
// words the server wrote: "2 天 3 小时", "11 小时 39 分", "3 分 20 秒", "45 秒".
// Without it the pages still work and say the time themselves.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  function text(left, units) {
    var d = Math.floor(left / 86400), h = Math.floor((left % 86400) / 3600);
    var m = Math.floor((left % 3600) / 60), s = left % 60;
    if (d > 0) { return d + " " + units[0] + " " + h + " " + units[1]; }
    if (h > 0) { return h + " " + units[1] + " " + m + " " + units[2]; }
    if (m > 0) { return m + " " + units[2] + " " + s + " " + units[3]; }
    return s + " " + units[3];
  }
  document.querySelectorAll(".clock[data-left]").forEach(function (clock) {
    var units = (clock.dataset.units || "d|h|min|s").split("|");
    var end = Date.now() + parseInt(clock.dataset.left, 10) * 1000;
    function tick() {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      if (left === 0) {
        clock.textContent = clock.dataset.expired || text(0, units);
        return;
      }
      var shown = text(left, units);
      if (clock.textContent !== shown) { clock.textContent = shown; }
      window.setTimeout(tick, 1000);
    }
    tick();
  });
});
