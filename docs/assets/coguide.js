/* coguide: progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  function enhanceCaseTable() {
    var box = document.querySelector(".case-filter");
    if (!box) return;
    var table = box.parentElement.querySelector("table");
    var input = box.querySelector("input");
    if (!table || !input || table.dataset.enhanced) return;
    table.dataset.enhanced = "1";
    box.hidden = false;
    var body = table.tBodies[0];
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      Array.prototype.forEach.call(body.rows, function (row) {
        row.hidden = q !== "" && row.textContent.toLowerCase().indexOf(q) === -1;
      });
    });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[index].textContent.trim(), y = b.cells[index].textContent.trim();
          var c = x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
          return ascending ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  // "Cite this page": a Copy button at the end of the line naming each form (the APA reference shown, the
  // BibTeX and RIS boxes). The buttons only work with this file, so it makes them.
  function addCopyButtons() {
    var forms = document.querySelectorAll(".cite-this-page .cite-apa[id], .cite-this-page textarea[id]");
    Array.prototype.forEach.call(forms, function (form) {
      var line = form.previousElementSibling;
      if (!line || line.tagName !== "P" || line.querySelector("[data-copy-target]")) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "md-button";
      button.setAttribute("data-copy-target", form.id);
      button.textContent = "Copy";
      line.appendChild(document.createTextNode(" "));
      line.appendChild(button);
    });
  }

  function enhanceCopyButtons() {
    addCopyButtons();
    Array.prototype.forEach.call(document.querySelectorAll("[data-copy-target]"), function (button) {
      if (button.dataset.enhanced) return;
      button.dataset.enhanced = "1";
      button.hidden = false;
      button.addEventListener("click", function () {
        var target = document.getElementById(button.getAttribute("data-copy-target"));
        if (!target) return;
        var text = target.value !== undefined ? target.value : target.textContent;
        var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 2000); };
        // Without the Clipboard API (a page opened from disk), copy the selection: a text box's text, or the
        // text of the element shown (the APA reference is a paragraph).
        var fallback = function () {
          if (target.select) { target.select(); } else {
            var range = document.createRange();
            range.selectNodeContents(target);
            var selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
          }
          document.execCommand("copy");
          done();
        };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(done, fallback);
        } else { fallback(); }
      });
    });
  }

  function enhance() { enhanceCaseTable(); enhanceCopyButtons(); }
  if (window.document$ && window.document$.subscribe) { window.document$.subscribe(enhance); }
  else if (document.readyState !== "loading") { enhance(); }
  else { document.addEventListener("DOMContentLoaded", enhance); }
})();
