// Starts ReDoc on the server's own OpenAPI document, with system fonts only.
window.addEventListener("load", function () {
  Redoc.init("/openapi.json", {
    theme: { typography: { fontFamily: "system-ui, sans-serif", headings: { fontFamily: "system-ui, sans-serif" } } },
  }, document.getElementById("redoc"));
});
