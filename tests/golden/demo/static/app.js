/* Tipscale: copy buttons, and search / filter / sort on the contact list.
   The pages work without this file; it only adds conveniences. */
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }

  function setupCopy() {
    var buttons = document.querySelectorAll("button.copy[data-copy]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.hidden = false;
      var label = button.textContent;
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy"));
        if (!source) { return; }
        copyText(source.textContent).then(function () {
          button.textContent = "Copied";
        }, function () {
          button.textContent = "Press Ctrl+C to copy";
          var range = document.createRange();
          range.selectNodeContents(source);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
        });
        window.setTimeout(function () { button.textContent = label; }, 2000);
      });
    });
  }

  function setupList() {
    var form = document.getElementById("filters");
    var list = document.getElementById("contact-list");
    if (!form || !list) { return; }
    form.hidden = false;
    var rows = Array.prototype.slice.call(list.children);
    var q = document.getElementById("q");
    var tag = document.getElementById("tag");
    var company = document.getElementById("company");
    var sort = document.getElementById("sort");
    var status = document.getElementById("result-count");
    var none = document.getElementById("no-results");
    var reset = document.getElementById("reset-filters");
    var total = rows.length;

    var params = new URLSearchParams(window.location.search);
    if (params.get("q")) { q.value = params.get("q"); }
    if (params.get("tag")) { tag.value = params.get("tag"); }
    if (params.get("company")) { company.value = params.get("company"); }

    function haystack(row) {
      var slug = row.getAttribute("data-slug");
      // search-NN.js run after this file (all deferred), so look the index up when searching.
      var index = window.TIPSCALE_SEARCH || {};
      return index[slug] || (row.getAttribute("data-name") + " " + row.getAttribute("data-company-name") + " " +
        row.getAttribute("data-tags").split("|").join(" "));
    }

    function apply() {
      var words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
      var wantTag = tag.value;
      var wantCompany = company.value;
      var shown = 0;
      rows.forEach(function (row) {
        var ok = true;
        if (wantTag && row.getAttribute("data-tags").split("|").indexOf(wantTag) < 0) { ok = false; }
        if (ok && wantCompany && row.getAttribute("data-company") !== wantCompany) { ok = false; }
        if (ok && words.length) {
          var text = haystack(row);
          for (var i = 0; i < words.length; i++) {
            if (text.indexOf(words[i]) < 0) { ok = false; break; }
          }
        }
        row.hidden = !ok;
        if (ok) { shown++; }
      });
      var filtered = words.length || wantTag || wantCompany;
      status.textContent = filtered ? shown + " of " + total + " contacts" : total + (total === 1 ? " contact" : " contacts");
      if (none) { none.hidden = shown !== 0; }
    }

    function keyOf(row, by) {
      if (by === "company") { return (row.getAttribute("data-company-name") || "\uffff") + "\u0000" + row.getAttribute("data-name"); }
      if (by === "last") { return row.getAttribute("data-last") || ""; }
      return row.getAttribute("data-name");
    }

    function order() {
      var by = sort.value;
      var sorted = rows.slice().sort(function (a, b) {
        var ka = keyOf(a, by), kb = keyOf(b, by);
        if (by === "last") { return ka < kb ? 1 : ka > kb ? -1 : 0; }
        return ka < kb ? -1 : ka > kb ? 1 : 0;
      });
      var fragment = document.createDocumentFragment();
      sorted.forEach(function (row) { fragment.appendChild(row); });
      list.appendChild(fragment);
    }

    var timer = null;
    q.addEventListener("input", function () {
      window.clearTimeout(timer);
      if (total > 2000) { timer = window.setTimeout(apply, 120); } else { apply(); }
    });
    tag.addEventListener("change", apply);
    company.addEventListener("change", apply);
    sort.addEventListener("change", order);
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
    if (reset) {
      reset.addEventListener("click", function () {
        q.value = ""; tag.value = ""; company.value = "";
        apply();
        q.focus();
      });
    }
    apply();
  }

  function start() {
    setupCopy();
    setupList();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
