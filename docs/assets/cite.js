/* coguide: citation previews. A page holds each cited reference once: in its reference list, or in a hidden list
   of previews at its end; every citation of it is described by that element (aria-describedby). This file fills
   each citation's hover/focus preview from it (coguide.css shows the preview on hover and keyboard focus), closes
   previews with Esc and opens them on tap. Without it a citation link goes straight to its bibliography entry. */
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

  // The preview: a copy of the reference that describes the citation, with its links made plain text (the
  // preview sits beside a link and holds none). Screen readers get the reference as the link's description, so
  // the visible copy is hidden from them.
  function preview(link) {
    var source = document.getElementById(link.getAttribute("aria-describedby") || "");
    if (!source) return null;
    var tip = document.createElement("span");
    tip.className = "cite-preview";
    tip.setAttribute("aria-hidden", "true");
    tip.setAttribute("data-search-exclude", "true");
    Array.prototype.forEach.call(source.childNodes, function (node) { tip.appendChild(node.cloneNode(true)); });
    Array.prototype.forEach.call(tip.querySelectorAll("a"), function (a) {
      a.replaceWith(document.createTextNode(a.textContent));
    });
    Array.prototype.forEach.call(tip.querySelectorAll("[id]"), function (el) { el.removeAttribute("id"); });
    return tip;
  }

  function enhance() {
    Array.prototype.forEach.call(document.querySelectorAll(".cite-item"), function (item) {
      if (item.dataset.citeEnhanced) return;
      item.dataset.citeEnhanced = "1";
      var link = item.querySelector("a.cite");
      var tip = link && !item.querySelector(".cite-preview") ? preview(link) : null;
      if (tip) item.appendChild(tip);
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
