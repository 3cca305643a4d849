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

    // The shape of the map on screen, height over width. On a desktop it is the canvas's own;
    // on a phone the map is taller than the canvas's shape (see the stylesheet), so the view
    // takes the screen's shape and shows more of the canvas's height.
    function aspect() {
      var rect = svg.getBoundingClientRect();
      return rect.width > 0 && rect.height > 0 ? rect.height / rect.width : full.h / full.w;
    }

    function keepInside() {
      // A view larger than the canvas in one direction is centred on it in that direction.
      view.x = view.w >= full.w ? full.x + (full.w - view.w) / 2 : Math.min(Math.max(view.x, full.x), full.x + full.w - view.w);
      view.y = view.h >= full.h ? full.y + (full.h - view.h) / 2 : Math.min(Math.max(view.y, full.y), full.y + full.h - view.h);
    }

    // The widest view: the whole canvas, in the screen's shape.
    function widest() {
      var ratio = aspect();
      var w = Math.max(full.w, full.h / ratio);
      return { w: w, h: w * ratio };
    }

    // Show `w` canvas units across (within the zoom's limits), keeping the canvas point
    // (cx, cy) at the same place on screen.
    function showWidth(w, cx, cy) {
      var most = widest();
      w = Math.min(most.w, Math.max(most.w / MAX_ZOOM, w));
      var h = w * aspect();
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

    // Zoom by `factor` keeping the canvas point (cx, cy) where it is on screen.
    function zoom(factor, cx, cy) {
      showWidth(view.w / factor, cx, cy);
    }

    function pan(dx, dy) {
      view.x += dx;
      view.y += dy;
      keepInside();
      apply();
    }

    function reset() {
      var most = widest();
      view = { x: full.x, y: full.y, w: most.w, h: most.h };
      keepInside();
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

    // Drag to pan; a drag that starts on a node does not follow its link. On a touch screen
    // one finger drags sideways (up and down it scrolls the page, which the map must not trap)
    // and two fingers pinch to zoom and move together to pan.
    var press = null;
    var dragging = false;
    var swallowClick = false;
    var fingers = new Map(); // pointerId -> its last client position
    var pinch = null;

    function spread() {
      var points = Array.from(fingers.values());
      var dx = points[0].x - points[1].x;
      var dy = points[0].y - points[1].y;
      return {
        distance: Math.max(1, Math.sqrt(dx * dx + dy * dy)),
        x: (points[0].x + points[1].x) / 2,
        y: (points[0].y + points[1].y) / 2,
      };
    }

    viewport.addEventListener("pointerdown", function (event) {
      if (event.pointerType === "touch") {
        fingers.set(event.pointerId, { x: event.clientX, y: event.clientY });
        if (fingers.size === 2) {
          var start = spread();
          // The canvas point under the fingers' middle stays under it as they move.
          pinch = { distance: start.distance, width: view.w, anchor: toCanvas(start.x, start.y) };
          press = null;
          dragging = true; // a pinch is never a tap on a node
          swallowClick = true;
          fingers.forEach(function (_, id) {
            if (viewport.hasPointerCapture && !viewport.hasPointerCapture(id)) {
              try {
                viewport.setPointerCapture(id);
              } catch (error) {
                // the finger was lifted meanwhile
              }
            }
          });
          clearHighlight();
          return;
        }
      }
      if (event.button !== 0) return;
      press = { x: event.clientX, y: event.clientY, view: { x: view.x, y: view.y } };
      dragging = false;
    });
    viewport.addEventListener("pointermove", function (event) {
      if (fingers.has(event.pointerId)) {
        fingers.set(event.pointerId, { x: event.clientX, y: event.clientY });
        if (pinch && fingers.size === 2) {
          var now = spread();
          var rect = svg.getBoundingClientRect();
          var most = widest();
          var w = Math.min(most.w, Math.max(most.w / MAX_ZOOM, (pinch.width * pinch.distance) / now.distance));
          view.w = w;
          view.h = w * aspect();
          view.x = pinch.anchor.x - ((now.x - rect.left) / rect.width) * view.w;
          view.y = pinch.anchor.y - ((now.y - rect.top) / rect.height) * view.h;
          keepInside();
          apply();
          return;
        }
      }
      if (!press) return;
      var dx = event.clientX - press.x;
      var dy = event.clientY - press.y;
      if (!dragging && Math.abs(dx) + Math.abs(dy) < DRAG_THRESHOLD) return;
      if (!dragging) {
        dragging = true;
        try {
          viewport.setPointerCapture(event.pointerId);
        } catch (error) {
          // a pointer already gone: the drag still follows the moves that arrive
        }
        viewport.classList.add("is-dragging");
        clearHighlight();
      }
      var box = svg.getBoundingClientRect();
      view.x = press.view.x - (dx / box.width) * view.w;
      view.y = press.view.y - (dy / box.height) * view.h;
      keepInside();
      apply();
    });
    function lift(event) {
      fingers.delete(event.pointerId);
      if (fingers.size < 2) pinch = null;
      if (fingers.size === 0 || !pinch) release();
    }
    function release() {
      swallowClick = dragging;
      press = null;
      dragging = false;
      viewport.classList.remove("is-dragging");
    }
    viewport.addEventListener("pointerup", lift);
    viewport.addEventListener("pointercancel", lift);
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

    var coarse = window.matchMedia("(pointer: coarse)").matches;
    var hint = document.getElementById("map-hint");
    if (hint && coarse) {
      hint.textContent = "Pinch to zoom; drag sideways, or with two fingers, to move.";
    }
    // On a narrow screen the whole canvas would make its labels a few pixels high: start
    // where they read at their size (about 80 %), around the node with the most links.
    var rect = svg.getBoundingClientRect();
    reset();
    if (rect.width > 0 && rect.width < 600) {
      var hub = null;
      Object.keys(neighbours).forEach(function (key) {
        if (!hub || neighbours[key].length > neighbours[hub].length) hub = key;
      });
      var width = rect.width / 0.8;
      if (hub) {
        var shape = nodes[hub].getBBox();
        var cx = shape.x + shape.width / 2;
        var cy = shape.y + shape.height / 2;
        view.w = Math.min(widest().w, width);
        view.h = view.w * aspect();
        view.x = cx - view.w / 2;
        view.y = cy - view.h / 2;
        keepInside();
        apply();
      }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-map]").forEach(attach);
  });
})();
