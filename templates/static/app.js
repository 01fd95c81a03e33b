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

  // The contact list shows one page of rows; search, the tag and company filters and the sort
  // look through every contact in the index (contacts/search-NN.js, loaded once the page is).
  var RESULT_LIMIT = 100;  // rows shown at once: the page stays small, and a keystroke fast
  var ENTRY = { name: 0, title: 1, company: 2, companyKey: 3, tags: 4, tagKeys: 5, last: 6, words: 7 };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function rowOf(item) {  // the markup of templates/_row.html.j2, as DOM nodes (text stays text)
    var e = item.entry;
    var li = el("li", "row");
    li.setAttribute("data-slug", item.slug);
    var main = li.appendChild(el("div", "row-main"));
    var name = main.appendChild(el("a", "row-name", e[ENTRY.name]));
    name.href = "../contacts/" + encodeURIComponent(item.slug) + ".html";
    if (e[ENTRY.title] || e[ENTRY.company]) {
      var sub = main.appendChild(el("span", "row-sub", e[ENTRY.title]));
      if (e[ENTRY.title] && e[ENTRY.company]) { sub.appendChild(document.createTextNode(" · ")); }
      if (e[ENTRY.company]) {
        var company = sub.appendChild(el("a", "", e[ENTRY.company]));
        company.href = "../companies/" + encodeURIComponent(e[ENTRY.companyKey]) + ".html";
      }
    }
    var tags = li.appendChild(el("div", "row-tags"));
    e[ENTRY.tags].forEach(function (tag, i) {
      var link = tags.appendChild(el("a", "tag", tag));
      link.href = "../tags/" + encodeURIComponent((e[ENTRY.tagKeys] || e[ENTRY.tags])[i]) + ".html";
    });
    var last = li.appendChild(el("div", "row-last"));
    if (e[ENTRY.last]) {
      last.appendChild(el("span", "row-last-label", "Last contact "));
      var time = last.appendChild(el("time", "", e[ENTRY.last]));
      time.setAttribute("datetime", e[ENTRY.last]);
    } else {
      last.appendChild(el("span", "muted", "No interactions yet"));
    }
    return li;
  }

  function byKey(key, descending) {
    return function (a, b) {
      var ka = key(a), kb = key(b);
      var order = ka < kb ? -1 : ka > kb ? 1 : a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0;
      return descending ? -order : order;
    };
  }

  function buildIndex(data) {
    var items = Object.keys(data).map(function (slug) {
      var e = data[slug];
      e[ENTRY.tagKeys] = e[ENTRY.tagKeys] || e[ENTRY.tags];
      return {
        slug: slug, entry: e, name: e[ENTRY.name].toLowerCase(),
        company: (e[ENTRY.company] || "\uffff").toLowerCase(),
        hay: [e[ENTRY.name], e[ENTRY.title], e[ENTRY.company], e[ENTRY.tags].join(" ")].join(" ").toLowerCase() +
          " " + e[ENTRY.words]
      };
    });
    items.sort(byKey(function (item) { return item.name; }));
    return {
      name: items,
      company: items.slice().sort(byKey(function (item) { return item.company + "\u0000" + item.name; })),
      last: items.slice().sort(byKey(function (item) { return item.entry[ENTRY.last]; }, true))
    };
  }

  function fillSelect(select, items, keyAt, nameAt, many, sortByName) {
    var groups = {};
    var keys = [];
    items.forEach(function (item) {  // in name order: a group is named as its first member writes it
      var e = item.entry;
      var found = many ? e[keyAt] : (e[keyAt] ? [e[keyAt]] : []);
      found.forEach(function (key, i) {
        if (!groups[key]) { groups[key] = { name: many ? e[nameAt][i] : e[nameAt], n: 0 }; keys.push(key); }
        groups[key].n++;
      });
    });
    keys.sort(sortByName ? byKey(function (key) { return groups[key].name.toLowerCase(); }) : undefined);
    var fragment = document.createDocumentFragment();
    keys.forEach(function (key) {
      var option = el("option", "", groups[key].name + " (" + groups[key].n + ")");
      option.value = key;
      fragment.appendChild(option);
    });
    select.appendChild(fragment);
  }

  function loadScripts(sources, done) {
    var left = sources.length;
    if (!left) { done(); return; }
    sources.forEach(function (src) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = script.onerror = function () { if (--left === 0) { done(); } };
      document.body.appendChild(script);
    });
  }

  function setupList() {
    var form = document.getElementById("filters");
    var list = document.getElementById("contact-list");
    if (!form || !list) { return; }
    form.hidden = false;
    var pageRows = Array.prototype.slice.call(list.children);
    var q = document.getElementById("q");
    var tag = document.getElementById("tag");
    var company = document.getElementById("company");
    var sort = document.getElementById("sort");
    var status = document.getElementById("result-count");
    var none = document.getElementById("no-results");
    var more = document.getElementById("more-results");
    var reset = document.getElementById("reset-filters");
    var pager = document.querySelector(".pager");
    var total = parseInt(status.getAttribute("data-total"), 10) || pageRows.length;
    var index = null;
    var last = null;  // {query, tag, company, by, matches}: the last search, to narrow as one types
    var counting = null;  // the timer that counts the rest of a search's matches
    var countingFrame = null;  // the idle callback that counts them, where the browser has one

    function stopCounting() {
      window.clearTimeout(counting);
      if (countingFrame !== null && window.cancelIdleCallback) { window.cancelIdleCallback(countingFrame); }
      countingFrame = null;
    }

    var params = new URLSearchParams(window.location.search);
    if (params.get("q")) { q.value = params.get("q"); }

    function countText(shown) {
      return shown + " of " + total + " contacts";
    }

    function show(rows, filtered, shown) {
      var fragment = document.createDocumentFragment();
      rows.forEach(function (row) { fragment.appendChild(row); });
      list.textContent = "";
      list.appendChild(fragment);
      status.textContent = filtered ? countText(shown) : total + (total === 1 ? " contact" : " contacts");
      if (none) { none.hidden = shown !== 0; }
    }

    function words() {  // as the index keeps them: without the punctuation around (site.py's SEARCH_EDGES)
      return q.value.toLowerCase().split(/\s+/).map(function (word) {
        return word.replace(/^["'`*_~\[\](){}<>,.;:!?#|]+|["'`*_~\[\](){}<>,.;:!?#|]+$/g, "");
      }).filter(Boolean);
    }

    function matches(text, wanted) {
      for (var i = 0; i < wanted.length; i++) {
        if (text.indexOf(wanted[i]) < 0) { return false; }
      }
      return true;
    }

    function applyToPage() {  // before the index is there: this page's rows only
      var wanted = words(), wantTag = tag.value, wantCompany = company.value, shown = 0;
      pageRows.forEach(function (row) {
        var text = row.getAttribute("data-name") + " " + row.getAttribute("data-company-name") + " " +
          row.getAttribute("data-tags").split("|").join(" ");
        var ok = (!wantTag || row.getAttribute("data-tags").split("|").indexOf(wantTag) >= 0) &&
          (!wantCompany || row.getAttribute("data-company") === wantCompany) && matches(text, wanted);
        row.hidden = !ok;
        if (ok) { shown++; }
      });
      show(pageRows, wanted.length || wantTag || wantCompany, shown);
    }

    function apply() {
      if (!index) { applyToPage(); return; }
      var wanted = words(), query = wanted.join(" ");
      var search = { query: query, tag: tag.value, company: company.value, by: sort.value };
      var filtered = query || search.tag || search.company;
      if (!filtered && search.by === "name") {  // this page as it came
        stopCounting();
        pageRows.forEach(function (row) { row.hidden = false; });
        show(pageRows, false, total);
        if (pager) { pager.hidden = false; }
        more.hidden = true;
        last = null;
        document.dispatchEvent(new CustomEvent("tipscale:filtered"));
        return;
      }
      // Typing on narrows the last matches: every contact matching "anna" matches "ann".
      var narrowing = last && last.tag === search.tag && last.company === search.company &&
        last.by === search.by && query.indexOf(last.query) === 0;
      var pool = narrowing ? last.matches : index[search.by] || index.name;
      var found = [];

      function scan(from, limit) {  // adds matches of pool[from...] to `found`; where it stopped
        var i = from;
        for (; i < pool.length && found.length < limit; i++) {
          var item = pool[i], e = item.entry;
          if (search.tag && e[ENTRY.tagKeys].indexOf(search.tag) < 0) { continue; }
          if (search.company && e[ENTRY.companyKey] !== search.company) { continue; }
          if (matches(item.hay, wanted)) { found.push(item); }
        }
        return i;
      }

      function counted() {
        search.matches = found;
        last = search;
        status.textContent = countText(found.length);
        more.textContent = "Showing the first " + RESULT_LIMIT + " of " + found.length + "; type more to narrow them.";
      }

      // The rows shown first; the rest of the matches are counted just after (a wide query
      // matches most of thirty thousand contacts, and only the first rows show).
      stopCounting();
      var stop = scan(0, RESULT_LIMIT + 1);
      show(found.slice(0, RESULT_LIMIT).map(rowOf), filtered, found.length);
      if (pager) { pager.hidden = true; }
      more.hidden = found.length <= RESULT_LIMIT;
      if (stop < pool.length) {
        status.textContent = "More than " + countText(RESULT_LIMIT);
        more.textContent = "Showing the first " + RESULT_LIMIT + "; type more to narrow them.";
        // Once the browser is idle: the rows are painted first, then the rest counted.
        var countRest = function () { countingFrame = null; scan(stop, Infinity); counted(); };
        if (window.requestIdleCallback) {
          countingFrame = window.requestIdleCallback(countRest, { timeout: 300 });
        } else {
          counting = window.setTimeout(countRest, 50);
        }
      } else {
        counted();
      }
      document.dispatchEvent(new CustomEvent("tipscale:filtered"));
    }

    function ready() {
      var data = window.TIPSCALE_SEARCH;
      if (!data) { return; }  // the index could not be loaded: the page's rows are searched
      index = buildIndex(data);
      fillSelect(tag, index.name, ENTRY.tagKeys, ENTRY.tags, true, false);
      fillSelect(company, index.name, ENTRY.companyKey, ENTRY.company, false, true);
      if (params.get("tag")) { tag.value = params.get("tag"); }
      if (params.get("company")) { company.value = params.get("company"); }
      form.setAttribute("data-ready", "");
      apply();
    }

    q.addEventListener("input", apply);
    tag.addEventListener("change", apply);
    company.addEventListener("change", apply);
    sort.addEventListener("change", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
    if (reset) {
      reset.addEventListener("click", function () {
        q.value = ""; tag.value = ""; company.value = "";
        apply();
        q.focus();
      });
    }
    apply();
    var sources = (form.getAttribute("data-index") || "").split(" ").filter(Boolean);
    function load() { loadScripts(sources, ready); }
    if (document.readyState === "complete") { load(); } else { window.addEventListener("load", load); }
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
