// The drafting page's post picker: the server filters the posts (text, region, kind, map
// view), so a country with thousands of posts never sends them all to the page. Ticking a
// found post (or clicking it on the map) adds a named checkbox to the "Other posts chosen" list,
// which is what the form submits. Every name is put into the page as text, never as HTML.
(function () {
  "use strict";
  var root = document.getElementById("picker");
  var chosenList = document.getElementById("chosen-list");
  if (!root || !chosenList) { return; }
  var q = document.getElementById("pick-q"), region = document.getElementById("pick-region");
  var kind = document.getElementById("pick-kind"), inView = document.getElementById("pick-in-view");
  var count = document.getElementById("pick-count"), results = document.getElementById("pick-results");
  var mapEl = document.getElementById("pick-map");
  var map = null, markers = {}, markerLayer = null, timer = null;

  function status() {
    var radio = document.querySelector("input[name=cap_status]:checked");
    return radio ? radio.value : root.getAttribute("data-status");
  }
  function boxOf(id) {
    var boxes = document.querySelectorAll("input[name=post]");
    for (var i = 0; i < boxes.length; i++) { if (boxes[i].value === id) { return boxes[i]; } }
    return null;
  }
  function isChosen(id) { var b = boxOf(id); return !!(b && b.checked); }
  function text(tag, value) { var el = document.createElement(tag); el.textContent = value; return el; }

  function setChosen(p, on) {
    var box = boxOf(p.id);
    if (!box && on) {
      var li = document.createElement("li"), label = document.createElement("label");
      box = document.createElement("input");
      box.type = "checkbox"; box.name = "post"; box.value = p.id;
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + p.name + " "));
      label.appendChild(text("small", p.kind_word || p.kind));
      li.appendChild(label);
      chosenList.appendChild(li);
    }
    if (box) { box.checked = on; }
    paint();
  }

  function params(extra) {
    var out = new URLSearchParams({ q: q.value, region: region.value, kind: kind.value,
                                    status: status() });
    Object.keys(extra).forEach(function (k) { out.set(k, extra[k]); });
    return out.toString();
  }
  function bbox() {
    var b = map.getBounds();
    return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()].map(function (v) {
      return v.toFixed(5); }).join(",");
  }

  function render(data) {
    results.textContent = "";
    data.posts.forEach(function (p) {
      var li = document.createElement("li"), label = document.createElement("label");
      var box = document.createElement("input");
      label.setAttribute("data-id", p.id);
      box.type = "checkbox"; box.checked = isChosen(p.id);
      box.addEventListener("change", function () { setChosen(p, box.checked); });
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + p.name + " "));
      label.appendChild(text("small", p.id + ", " + (p.kind_word || p.kind) + (p.region ? ", " + p.region : "")));
      li.appendChild(label);
      results.appendChild(li);
    });
    var message = data.total === 0 ? "data-none"
      : data.posts.length < data.total ? "data-count" : "data-all";
    count.textContent = root.getAttribute(message).replace("{shown}", String(data.posts.length))
      .replace("{total}", String(data.total));
  }
  function list() {
    var extra = { limit: "50" };
    if (inView.checked && map) { extra.bbox = bbox(); }
    fetch(root.getAttribute("data-src") + "?" + params(extra), { credentials: "same-origin" })
      .then(function (r) { return r.json(); }).then(render)
      .catch(function (e) { count.textContent = String(e); });
  }

  function paint() {
    Object.keys(markers).forEach(function (id) {
      var on = isChosen(id);
      markers[id].setStyle({ fillColor: on ? "#f59e0b" : "#ffffff", radius: on ? 7 : 5 });
    });
    Array.prototype.forEach.call(results.querySelectorAll("input"), function (box) {
      box.checked = isChosen(box.parentNode.getAttribute("data-id") || ""); });
  }
  function drawPosts(data) {
    markerLayer.clearLayers();
    markers = {};
    data.posts.forEach(function (p) {
      var m = L.circleMarker([p.lat, p.lon], { radius: 5, color: "#222", weight: 1,
                                                fillColor: "#ffffff", fillOpacity: 1 });
      m.bindTooltip(text("span", p.name + " (" + (p.kind_word || p.kind) + ")"));
      m.on("click", function () { setChosen(p, !isChosen(p.id)); list(); });
      m.addTo(markerLayer);
      markers[p.id] = m;
    });
    mapEl.setAttribute("data-posts", String(data.posts.length));
    paint();
  }
  function mapPosts() {
    if (!map) { return; }
    fetch(root.getAttribute("data-src") + "?" + params({ bbox: bbox(), limit: "500" }),
          { credentials: "same-origin" })
      .then(function (r) { return r.json(); }).then(drawPosts)
      .catch(function (e) { mapEl.setAttribute("data-error", String(e)); });
  }

  function changed() {
    clearTimeout(timer);
    timer = setTimeout(function () { list(); mapPosts(); }, 250);
  }
  [q, region, kind, inView].forEach(function (el) {
    el.addEventListener("input", changed);
    el.addEventListener("change", changed);
    // Enter in a filter must not submit the draft.
    el.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); } });
  });
  chosenList.addEventListener("change", paint);
  document.addEventListener("change", function (e) {
    if (e.target && e.target.name === "cap_status") { changed(); } });

  // Region names in the page's language (data-labels, translated there).
  var labels = JSON.parse((mapEl && mapEl.getAttribute("data-labels")) || "{}");
  if (window.L && mapEl) {
    map = L.map(mapEl, { preferCanvas: true, attributionControl: false });
    map.setView([parseFloat(mapEl.getAttribute("data-lat")),
                 parseFloat(mapEl.getAttribute("data-lon"))], 8);
    markerLayer = L.layerGroup().addTo(map);
    L.circleMarker([parseFloat(mapEl.getAttribute("data-lat")),
                    parseFloat(mapEl.getAttribute("data-lon"))],
                   { radius: 8, color: "#000", weight: 3, fill: false, interactive: false })
      .addTo(map);
    map.on("moveend", function () { mapPosts(); if (inView.checked) { list(); } });
    if (window.BoloRegions) { window.BoloRegions.markView(map, mapEl); }
    // Under the posts, for orientation (no tiles): the search picture's 90% and 50% regions
    // as on the case map (regions.js), the network and the country outline; the map then
    // shows the whole picture around the last-known place.
    fetch(mapEl.getAttribute("data-layers"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); }).then(function (d) {
        var regions = window.BoloRegions ? window.BoloRegions.layers(d.regions, labels) : [];
        // Sent to the back in turn: the regions, the network, then the outline beneath them.
        var under = L.layerGroup(regions.map(function (r) { return r.layer; }).concat([
          L.geoJSON(d.network, { interactive: false, style: { color: "#8c6d31", weight: 1.5 } }),
          L.geoJSON(d.outline, { interactive: false, style: { color: "#555", weight: 1.5,
                                 fillColor: "#f4f1e8", fillOpacity: 1 } })
        ])).addTo(map);
        under.eachLayer(function (l) { l.bringToBack(); });
        mapEl.setAttribute("data-regions", regions.map(function (r) { return r.level; }).join(" "));
        // Centred on the last-known place (as it opened), zoomed out to the whole picture.
        if (window.BoloRegions) {
          window.BoloRegions.fit(map, d, null, [parseFloat(mapEl.getAttribute("data-lat")),
                                                parseFloat(mapEl.getAttribute("data-lon"))]);
        }
      }).catch(function (e) { mapEl.setAttribute("data-error", String(e)); });
    mapPosts();
  }
  list();
})();
