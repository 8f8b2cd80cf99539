/* coguide: citation previews that close with Esc and open on tap. Without this file previews still open on
   hover and keyboard focus (coguide.css), and a citation link goes straight to its bibliography entry. */
(function () {
  "use strict";

  var lastPointer = "mouse";

  function items() { return document.querySelectorAll(".cite-item.cite-open, .cite-item.cite-dismissed"); }

  function closeAll(except) {
    Array.prototype.forEach.call(items(), function (item) {
      if (item !== except) { item.classList.remove("cite-open"); item.classList.remove("cite-dismissed"); }
    });
  }

  // Esc hides the preview of the citation that has focus or is hovered (WCAG 1.4.13: dismissible without
  // moving focus or the pointer); it shows again once focus or the pointer leaves and comes back.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" && event.key !== "Esc") return;
    var shown = document.querySelectorAll(".cite-item:hover, .cite-item:focus-within, .cite-item.cite-open");
    Array.prototype.forEach.call(shown, function (item) {
      item.classList.remove("cite-open");
      item.classList.add("cite-dismissed");
    });
  });

  function reset(event) {
    var item = event.currentTarget;
    if (!item.matches(":hover") && !item.contains(document.activeElement)) item.classList.remove("cite-dismissed");
  }

  // A tap (touch or pen) on a citation opens its preview; a second tap on the same citation follows the link.
  document.addEventListener("pointerdown", function (event) { lastPointer = event.pointerType || "mouse"; }, true);
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.cite") : null;
    var item = link ? link.closest(".cite-item") : null;
    if (!item) {
      if (!(event.target.closest && event.target.closest(".cite-preview"))) closeAll(null);
      return;
    }
    if (lastPointer === "mouse" || item.classList.contains("cite-open")) return;
    event.preventDefault();
    closeAll(item);
    item.classList.remove("cite-dismissed");
    item.classList.add("cite-open");
    link.setAttribute("aria-expanded", "true");
  });

  function enhance() {
    Array.prototype.forEach.call(document.querySelectorAll(".cite-item"), function (item) {
      if (item.dataset.citeEnhanced) return;
      item.dataset.citeEnhanced = "1";
      item.addEventListener("mouseleave", reset);
      item.addEventListener("focusout", function (event) {
        if (!item.contains(event.relatedTarget)) { item.classList.remove("cite-dismissed"); item.classList.remove("cite-open"); }
      });
    });
  }
  if (window.document$ && window.document$.subscribe) { window.document$.subscribe(enhance); }
  else if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", enhance); }
  else { enhance(); }
})();
