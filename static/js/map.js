// Pan, zoom and neighbourhood highlight for the network map. The map works without this
// script: the server draws the SVG, every node is a link to its page, and the table under the
// map lists the same nodes and links.
(function () {
  "use strict";

  // On a phone the filters start folded, so that the map is on the first screen.
  var fold = document.getElementById("map-filters-fold");
  if (fold && window.matchMedia("(max-width: 40rem)").matches && !fold.querySelector(".form-errors")) {
    fold.open = false;
  }

  var ZOOM_STEP = 1.3;
  var MAX_ZOOM = 8;
  var PAN_STEP = 0.12; // of the visible width or height, per arrow key
  var DRAG_THRESHOLD = 4; // pixels before a press becomes a drag rather than a click

  function attach(figure) {
    var svg = figure.querySelector("[data-map-svg]");
    var viewport = figure.querySelector("[data-map-viewport]");
    var toolbar = figure.querySelector("[data-map-toolbar]");
    if (!svg || !viewport) return;
    var box = svg.viewBox.baseVal;
    var full = { x: box.x, y: box.y, w: box.width, h: box.height };
    var view = { x: full.x, y: full.y, w: full.w, h: full.h };

    function apply() {
      svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" "));
    }

    function keepInside() {
      view.x = Math.min(Math.max(view.x, full.x), full.x + full.w - view.w);
      view.y = Math.min(Math.max(view.y, full.y), full.y + full.h - view.h);
    }

    // Zoom by `factor` keeping the canvas point (cx, cy) where it is on screen.
    function zoom(factor, cx, cy) {
      var scale = Math.min(MAX_ZOOM, Math.max(1, (full.w / view.w) * factor));
      var w = full.w / scale;
      var h = full.h / scale;
      if (cx === undefined) {
        cx = view.x + view.w / 2;
        cy = view.y + view.h / 2;
      }
      view.x = cx - ((cx - view.x) * w) / view.w;
      view.y = cy - ((cy - view.y) * h) / view.h;
      view.w = w;
      view.h = h;
      keepInside();
      apply();
    }

    function pan(dx, dy) {
      view.x += dx;
      view.y += dy;
      keepInside();
      apply();
    }

    function reset() {
      view = { x: full.x, y: full.y, w: full.w, h: full.h };
      apply();
    }

    function toCanvas(clientX, clientY) {
      var rect = svg.getBoundingClientRect();
      return {
        x: view.x + ((clientX - rect.left) / rect.width) * view.w,
        y: view.y + ((clientY - rect.top) / rect.height) * view.h,
      };
    }

    // Neighbourhoods, from the links' data-from and data-to.
    var nodes = {};
    var incident = {};
    var neighbours = {};
    svg.querySelectorAll("[data-node]").forEach(function (node) {
      var key = node.getAttribute("data-node");
      nodes[key] = node;
      incident[key] = [];
      neighbours[key] = [];
    });
    svg.querySelectorAll(".map-edge[data-from]").forEach(function (edge) {
      var from = edge.getAttribute("data-from");
      var to = edge.getAttribute("data-to");
      if (!nodes[from] || !nodes[to]) return;
      incident[from].push(edge);
      incident[to].push(edge);
      neighbours[from].push(to);
      neighbours[to].push(from);
    });
    var marked = [];

    function clearHighlight() {
      marked.forEach(function (element) {
        element.classList.remove("is-near");
      });
      marked = [];
      svg.classList.remove("is-highlighting");
    }

    function highlight(key) {
      clearHighlight();
      marked = [nodes[key]]
        .concat(incident[key])
        .concat(
          neighbours[key].map(function (other) {
            return nodes[other];
          })
        );
      marked.forEach(function (element) {
        element.classList.add("is-near");
      });
      svg.classList.add("is-highlighting");
    }

    Object.keys(nodes).forEach(function (key) {
      var node = nodes[key];
      node.addEventListener("pointerenter", function () {
        if (!dragging) highlight(key);
      });
      node.addEventListener("pointerleave", clearHighlight);
      node.addEventListener("focus", function () {
        highlight(key);
        // Bring a node reached with Tab into view when the map is zoomed in.
        var shape = node.getBBox();
        var cx = shape.x + shape.width / 2;
        var cy = shape.y + shape.height / 2;
        if (cx < view.x || cx > view.x + view.w || cy < view.y || cy > view.y + view.h) {
          pan(cx - (view.x + view.w / 2), cy - (view.y + view.h / 2));
        }
      });
      node.addEventListener("blur", clearHighlight);
    });

    // Drag to pan; a drag that starts on a node does not follow its link.
    var press = null;
    var dragging = false;
    var swallowClick = false;
    viewport.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      press = { x: event.clientX, y: event.clientY, view: { x: view.x, y: view.y } };
      dragging = false;
    });
    viewport.addEventListener("pointermove", function (event) {
      if (!press) return;
      var dx = event.clientX - press.x;
      var dy = event.clientY - press.y;
      if (!dragging && Math.abs(dx) + Math.abs(dy) < DRAG_THRESHOLD) return;
      if (!dragging) {
        dragging = true;
        viewport.setPointerCapture(event.pointerId);
        viewport.classList.add("is-dragging");
        clearHighlight();
      }
      var rect = svg.getBoundingClientRect();
      view.x = press.view.x - (dx / rect.width) * view.w;
      view.y = press.view.y - (dy / rect.height) * view.h;
      keepInside();
      apply();
    });
    function release() {
      swallowClick = dragging;
      press = null;
      dragging = false;
      viewport.classList.remove("is-dragging");
    }
    viewport.addEventListener("pointerup", release);
    viewport.addEventListener("pointercancel", release);
    viewport.addEventListener(
      "click",
      function (event) {
        if (swallowClick) {
          event.preventDefault();
          event.stopPropagation();
          swallowClick = false;
        }
      },
      true
    );

    // The wheel zooms once the map is in use (focused) or with Ctrl/⌘; otherwise it scrolls the
    // page, so a reader scrolling past the map is not caught in it.
    viewport.addEventListener(
      "wheel",
      function (event) {
        if (!(event.ctrlKey || event.metaKey || viewport.contains(document.activeElement))) return;
        event.preventDefault();
        var point = toCanvas(event.clientX, event.clientY);
        zoom(event.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP, point.x, point.y);
      },
      { passive: false }
    );
    viewport.addEventListener("pointerdown", function (event) {
      if (!event.target.closest("[data-node]")) viewport.focus({ preventScroll: true });
    });

    viewport.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      var step = { x: view.w * PAN_STEP, y: view.h * PAN_STEP };
      var handled = true;
      switch (event.key) {
        case "ArrowLeft":
          pan(-step.x, 0);
          break;
        case "ArrowRight":
          pan(step.x, 0);
          break;
        case "ArrowUp":
          pan(0, -step.y);
          break;
        case "ArrowDown":
          pan(0, step.y);
          break;
        case "+":
        case "=":
          zoom(ZOOM_STEP);
          break;
        case "-":
        case "_":
          zoom(1 / ZOOM_STEP);
          break;
        case "0":
          reset();
          break;
        default:
          handled = false;
      }
      if (handled) event.preventDefault();
    });

    if (toolbar) {
      toolbar.hidden = false;
      toolbar.addEventListener("click", function (event) {
        var button = event.target.closest("[data-zoom]");
        if (!button) return;
        var action = button.getAttribute("data-zoom");
        if (action === "in") zoom(ZOOM_STEP);
        else if (action === "out") zoom(1 / ZOOM_STEP);
        else reset();
      });
    }
    viewport.tabIndex = 0;
    viewport.setAttribute("role", "group");
    viewport.setAttribute("aria-label", "Map view");
    viewport.setAttribute("aria-describedby", "map-hint");
    viewport.classList.add("is-interactive");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-map]").forEach(attach);
  });
})();
