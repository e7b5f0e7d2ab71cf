// The case map, drawn offline: no tiles, no fonts, only GeoJSON layers from the server
// (country outline, network, posts, search picture heat cells, its 90% and 50% regions
// (regions.js), isochrones, reports), opened on the picture.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L || !window.BoloRegions) { return; }
  var map = L.map(el, { zoomControl: true, attributionControl: true, preferCanvas: true });
  map.attributionControl.setPrefix("Leaflet (BSD-2)");
  var groups = {};
  var control = L.control.layers(null, null, { collapsed: false }).addTo(map);
  var first = true;

  // Leaflet puts a string tooltip or attribution into innerHTML; names come from imports and
  // forms, so every tooltip is a text node (regions.js) and the attribution is escaped.
  var regions = window.BoloRegions, tip = regions.tip;
  function escaped(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function heatStyle(f) {
    var r = f.properties.relative;
    return { stroke: r > 0.5, color: "#7f0000", weight: 0.5, fillColor: "#d7301f",
             fillOpacity: 0.2 + 0.6 * Math.sqrt(r) };
  }
  function postMarker(f, latlng) {
    var p = f.properties;
    var fill = p.acknowledged ? "#1e6b2f" : (p.targeted ? "#f59e0b" : "#ffffff");
    return L.circleMarker(latlng, { radius: p.targeted ? 6 : 4, color: "#222", weight: 1,
                                    fillColor: fill, fillOpacity: 1 });
  }
  function postPopup(f, layer) {
    var p = f.properties;
    layer.bindTooltip(tip(p.name + " (" + (p.kind_word || p.kind) + ")" + (p.acknowledged
      ? " - " + label("acked", "acknowledged")
      : p.targeted ? " - " + label("notAcked", "alerted, not acknowledged") : "")));
  }
  function reportMarker(f, latlng) {
    return L.circleMarker(latlng, { radius: 7, color: "#fff", weight: 2, fillColor: "#6a3d9a", fillOpacity: 1 });
  }
  function reportPopup(f, layer) {
    var p = f.properties;
    layer.bindTooltip(tip((p.kind_word || p.kind) + " " + p.receipt + " (" +
                          (p.state_word || p.state) + ") " + p.seen_at));
  }

  function put(name, layer, show) {
    if (groups[name]) { map.removeLayer(groups[name]); control.removeLayer(groups[name]); }
    groups[name] = layer;
    control.addOverlay(layer, name);
    if (show) { layer.addTo(map); }
  }

  // The regions on the map, widest first (data-regions="0.9 0.5"), for people's tools and
  // tests: the canvas holds no element per shape.
  var regionLayers = [];
  function markRegions() {
    el.setAttribute("data-regions", regionLayers.filter(function (r) { return map.hasLayer(r.layer); })
      .map(function (r) { return r.level; }).join(" "));
  }
  map.on("overlayadd overlayremove", markRegions);
  regions.markView(map, el);

  function drawRegions(d) {
    var note = document.getElementById("regions-note");
    var made = regions.layers(d.regions, labels);
    ["0.9", "0.5"].forEach(function (level) {  // an empty region is drawn as nothing
      var name = regions.name(level, labels);
      if (groups[name] && !made.some(function (r) { return r.name === name; })) {
        map.removeLayer(groups[name]); control.removeLayer(groups[name]); delete groups[name];
      }
    });
    made.forEach(function (r) { put(r.name, r.layer, true); });
    regionLayers = made;
    if (note) { note.hidden = regionLayers.length > 0; }  // the note says why none is drawn
    markRegions();
  }

  // Layer names in the page's language (data-labels, translated there); English otherwise.
  var labels = JSON.parse(el.getAttribute("data-labels") || "{}");
  function label(key, fallback) { return labels[key] || fallback; }

  function draw(d) {
    // The picture in view at once: a first view before any path is drawn (Leaflet needs
    // one), then again beside the filled layer control. The coordinator's own view is kept
    // when the page refreshes.
    if (first) { regions.fit(map, d); }
    put(label("outline", "Outline"), L.geoJSON(d.outline, { style: { color: "#555", weight: 1.5, fillColor: "#f4f1e8", fillOpacity: 1 }, interactive: false }), true);
    put(label("reachable", "Reachable by now"), L.geoJSON(d.isochrones, { style: function (f) {
      return { color: "#3182bd", weight: 1, dashArray: "4 3", fillColor: "#9ecae1", fillOpacity: 0.12 }; },
      onEachFeature: function (f, l) { l.bindTooltip(tip(f.properties.label)); } }), true);
    put(label("picture", "Search picture"), L.geoJSON(d.heat, { style: heatStyle, onEachFeature: function (f, l) {
      l.bindTooltip(tip((100 * f.properties.probability).toFixed(1) + " %")); } }), true);
    drawRegions(d);
    put(label("network", "Network"), L.geoJSON(d.network, { interactive: false, style: function (f) {
      return f.properties.mode === "rail" ? { color: "#333", weight: 2, dashArray: "6 4" }
                                          : { color: "#8c6d31", weight: 2 }; } }), true);
    put(label("posts", "Posts"), L.geoJSON(d.posts, { pointToLayer: postMarker, onEachFeature: postPopup }), true);
    put(label("reports", "Reports"), L.geoJSON(d.reports, { pointToLayer: reportMarker, onEachFeature: reportPopup }), true);
    put(label("last", "Last known place"), L.circleMarker([d.last_known.lat, d.last_known.lon],
      { radius: 9, color: "#000", weight: 3, fillColor: "#fff", fillOpacity: 1 })
      .bindTooltip(tip(label("lastKnown", "Last known:") + " " + (d.last_known.place || ""))), true);
    map.attributionControl.addAttribution(escaped(d.attribution));
    if (first) { regions.fit(map, d, control); first = false; }
    el.setAttribute("data-drawn", String(d.heat.features.length));
  }

  function load() {
    fetch(el.getAttribute("data-src"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); }).then(draw)
      .catch(function (e) { el.setAttribute("data-error", String(e)); });
  }
  load();
  document.addEventListener("bolo:refreshed", load);
})();
