/* coguide: the "compare two labels" page. Without this file the page shows its default pair. */
(function () {
  "use strict";

  function enhanceCompare() {
    var form = document.querySelector(".compare-form");
    if (!form || form.dataset.enhanced) return;
    form.dataset.enhanced = "1";
    var cells = document.querySelectorAll(".compare-cell");
    var cards = {};
    Array.prototype.forEach.call(cells, function (cell) {
      if (!cards[cell.dataset.label]) cards[cell.dataset.label] = cell;
    });
    var selectA = form.querySelector("#compare-a");
    var selectB = form.querySelector("#compare-b");
    var status = document.querySelector(".compare-status");
    var link = status && status.querySelector(".compare-link");

    function title(id) {
      var heading = cards[id].querySelector(".compare-title");
      return heading ? heading.textContent : id;
    }

    function show(a, b, push) {
      Array.prototype.forEach.call(cells, function (cell) {
        var id = cell.dataset.label;
        cell.hidden = id !== a && id !== b;
        cell.style.order = id === a ? "1" : id === b ? "2" : "";
      });
      selectA.value = a;
      selectB.value = b;
      var query = "?a=" + encodeURIComponent(a) + "&b=" + encodeURIComponent(b);
      if (link) {
        link.href = query;
        link.textContent = a === b ? title(a) : title(a) + " and " + title(b);
      }
      if (push) history.replaceState(null, "", query + location.hash);
    }

    var params = new URLSearchParams(location.search);
    var a = params.get("a");
    var b = params.get("b");
    var defaults = [selectA.value, selectB.value];
    if (!cards[a]) a = defaults[0];
    // A link from a label's page names only that label: it is compared with a default one.
    if (!cards[b] || b === a) b = defaults[0] === a ? defaults[1] : defaults[0];
    form.hidden = false;
    show(a, b, false);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      show(selectA.value, selectB.value, true);
    });
    [selectA, selectB].forEach(function (select) {
      select.addEventListener("change", function () { show(selectA.value, selectB.value, true); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhanceCompare);
  } else {
    enhanceCompare();
  }
})();
