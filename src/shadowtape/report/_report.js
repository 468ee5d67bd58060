"use strict";
(function () {
  var filter = document.getElementById("filter");
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[data-verdict]"));
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-ep]"));
  var shown = document.getElementById("shown");
  var total = items.filter(function (el) { return el.tagName === "TR"; }).length;

  function apply() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var on = {};
    boxes.forEach(function (b) { on[b.getAttribute("data-verdict")] = b.checked; });
    var count = 0;
    items.forEach(function (el) {
      var text = el.getAttribute("data-text");
      var ok = on[el.getAttribute("data-verdict")] !== false &&
        words.every(function (w) { return text.indexOf(w) !== -1; });
      el.hidden = !ok;
      if (ok && el.tagName === "TR") { count += 1; }
    });
    shown.textContent = count === total ? "all " + total + " endpoints" : count + " of " + total + " endpoints";
  }

  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (!el) { return; }
    for (var d = el; d; d = d.parentElement) {
      if (d.tagName === "DETAILS") { d.open = true; }
      if (d.hidden) { d.hidden = false; }
    }
    el.scrollIntoView();
  }

  if (filter) {
    filter.addEventListener("input", apply);
    boxes.forEach(function (b) { b.addEventListener("change", apply); });
    apply();
  }
  document.addEventListener("click", function (ev) {
    var unfold = ev.target.closest("button.unfold");
    if (unfold) {
      var toggle = unfold.closest("tbody");
      toggle.nextElementSibling.hidden = false;
      toggle.remove();
      return;
    }
    var all = ev.target.closest("button[data-open]");
    if (all) {
      var open = all.getAttribute("data-open") === "1";
      document.querySelectorAll("details.endpoint").forEach(function (d) {
        if (!d.hidden) { d.open = open; }
      });
    }
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "/" && filter && document.activeElement !== filter) {
      ev.preventDefault();
      filter.focus();
    }
  });
  window.addEventListener("hashchange", openTarget);
  openTarget();
})();
