/* coguide: citation previews. A citation is a link to its bibliography entry, the cited key its fragment. A page
   holds each cited reference once, with the id cite-KEY: in its reference list, or in a hidden list of previews
   at its end (an essay's excerpt, shown on other pages too, names its own with aria-describedby). This file
   wraps each citation in a .cite-item, makes that reference the link's description (aria-describedby), fills
   its hover/focus preview from it (coguide.css shows the preview on hover and keyboard focus), closes previews
   with Esc and opens them on tap; it also links each reference of a reference list to its bibliography entry.
   Without it a citation link goes straight to its bibliography entry. */
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

  // The element that describes a citation: the one it names, else the page's reference with the id cite-KEY,
  // KEY being the link's fragment (the attribute as written, so a key needs no decoding). The link is given it
  // as its description.
  function describer(link) {
    var id = link.getAttribute("aria-describedby");
    if (!id) {
      var href = link.getAttribute("href") || "";
      var hash = href.indexOf("#");
      if (hash < 0) return null;
      id = "cite-" + href.slice(hash + 1);
      if (!document.getElementById(id)) return null;
      link.setAttribute("aria-describedby", id);
    }
    return document.getElementById(id);
  }

  // The preview: a copy of the reference that describes the citation, with its links made plain text (the
  // preview sits beside a link and holds none). Screen readers get the reference as the link's description, so
  // the visible copy is hidden from them.
  function preview(source) {
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

  // Each citation sits in a .cite-item with its preview, which is positioned against it.
  function wrap(link) {
    var parent = link.parentNode;
    if (parent && parent.classList && parent.classList.contains("cite-item")) return parent;
    var wrapper = document.createElement("span");
    wrapper.className = "cite-item";
    parent.insertBefore(wrapper, link);
    wrapper.appendChild(link);
    return wrapper;
  }

  function enhance() {
    Array.prototype.forEach.call(document.querySelectorAll("a.cite"), function (link) {
      if (link.dataset.citeEnhanced) return;
      link.dataset.citeEnhanced = "1";
      var wrapper = wrap(link);
      var source = describer(link);
      if (source && !wrapper.querySelector(".cite-preview")) wrapper.appendChild(preview(source));
      wrapper.addEventListener("mouseleave", reset);
      wrapper.addEventListener("focusout", function (event) {
        if (!wrapper.contains(event.relatedTarget)) {
          wrapper.classList.remove("cite-dismissed");
          wrapper.classList.remove("cite-open");
        }
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll("ol.reference-list"), backlinks);
  }

  // Each reference (id cite-KEY) gets its link to its bibliography entry, made from the link to the bibliography
  // in the line under the list (the address as built, so an offline copy's rewritten one works too).
  function backlinks(list) {
    if (list.dataset.citeLinked) return;
    list.dataset.citeLinked = "1";
    var line = list.nextElementSibling;
    var bibliography = line && line.querySelector("a.bibliography-link");
    if (!bibliography) return;
    var base = (bibliography.getAttribute("href") || "").split("#")[0];
    Array.prototype.forEach.call(list.children, function (li) {
      var reference = li.firstElementChild;
      if (!reference || reference.id.indexOf("cite-") !== 0 || li.querySelector(".ref-backlink")) return;
      var link = document.createElement("a");
      link.className = "ref-backlink";
      link.setAttribute("href", base + "#" + reference.id.slice("cite-".length));
      link.setAttribute("aria-label", "In the bibliography");
      link.title = "In the bibliography";
      link.textContent = "\u2197";
      li.appendChild(document.createTextNode(" "));
      li.appendChild(link);
    });
  }
  if (window.document$ && window.document$.subscribe) { window.document$.subscribe(enhance); }
  else if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", enhance); }
  else { enhance(); }
})();
