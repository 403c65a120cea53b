// Says the browser is too old (base.html's #old-browser) where app.js did not run to its end: it
// failed to parse (syntax newer than the engine), to load, or threw. Deferred scripts run in the
// page's order, so this runs once app.js has had its turn, however slowly it arrived: the words
// depend on what the browser did, not on a clock. ES5 on purpose: it must run where app.js cannot.
(function () {
  if (document.documentElement.hasAttribute("data-app-started")) return;
  var line = document.getElementById("old-browser");
  if (line) line.removeAttribute("hidden");
})();
