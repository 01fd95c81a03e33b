(function () {
  "use strict";
  var me = document.currentScript;
  var epoch = me ? me.getAttribute("data-epoch") : null;
  var key = "tipscale:scroll:" + location.pathname + location.search;
  function restore() {
    var saved = null;
    try { saved = sessionStorage.getItem(key); sessionStorage.removeItem(key); } catch (e) { return; }
    if (saved === null) { return; }
    var xy = saved.split(",");
    window.scrollTo(Number(xy[0]) || 0, Number(xy[1]) || 0);
  }
  if (document.readyState === "complete") { restore(); } else { window.addEventListener("load", restore); }
  if (!window.EventSource) { return; }
  var banner = null;
  function showProblem(text) {
    if (!banner) {
      banner = document.createElement("div");
      banner.setAttribute("role", "alert");
      banner.style.cssText = "position:fixed;left:0;right:0;bottom:0;z-index:2147483647;margin:0;" +
        "padding:.75em 1em;background:#7a1212;color:#fff;font:14px/1.4 monospace;white-space:pre-wrap;" +
        "max-height:40vh;overflow:auto";
      document.body.appendChild(banner);
    }
    banner.textContent = text;
    banner.hidden = !text;
  }
  function connect() {
    var source = new EventSource("/__tipscale/events");
    source.addEventListener("epoch", function (event) {
      if (epoch === null) { epoch = event.data; return; }
      if (event.data === epoch) { return; }
      source.close();
      try { sessionStorage.setItem(key, window.scrollX + "," + window.scrollY); } catch (e) { /* private mode */ }
      location.reload();
    });
    source.addEventListener("problem", function (event) {
      var data = JSON.parse(event.data);
      showProblem(data.message ? "Tipscale: the last rebuild failed; showing the previous site.\n" +
        data.message : "");
    });
  }
  // after "load": an open event stream would otherwise hold the page's load event back
  if (document.readyState === "complete") { connect(); } else { window.addEventListener("load", connect); }
})();
