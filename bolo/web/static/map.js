// The case map, drawn offline: no tiles, no fonts, only GeoJSON layers from the server
// (country outline, network, posts, search picture heat cells, its 90% and 50% regions,
// isochrones, reports).
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var map = L.map(el, { zoomControl: true, attributionControl: true, preferCanvas: true });
  map.attributionControl.setPrefix("Leaflet (BSD-2)");
  var groups = {};
  var control = L.control.layers(null, null, { collapsed: false }).addTo(map);
  var first = true;

  // Leaflet puts a string tooltip or attribution into innerHTML; names come from imports and
  // forms, so every tooltip is a text node and the attribution is escaped.
  function tip(text) {
    var span = document.createElement("span");
    span.textContent = String(text);
    return span;
  }
  function escaped(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function heatStyle(f) {
    var r = f.properties.relative;
    return { stroke: r > 0.5, color: "#7f0000", weight: 0.5, fillColor: "#d7301f",
             fillOpacity: 0.2 + 0.6 * Math.sqrt(r) };
  }
  // Outlines over the heat, light fills: the posts and the heat stay readable beneath them.
  var REGION_STYLE = {
    "0.9": { color: "#ae017e", weight: 2.5, dashArray: "6 4", fillColor: "#ae017e", fillOpacity: 0.12 },
    "0.5": { color: "#49006a", weight: 3, fillColor: "#7a0177", fillOpacity: 0.3 }
  };
  function regionStyle(f) { return REGION_STYLE[String(f.properties.level)] || REGION_STYLE["0.9"]; }
  function regionTip(name, f) {
    var p = f.properties;
    return tip(name + ": " + (100 * p.probability).toFixed(0) + " %, " + Math.round(p.area_km2) + " km²");
  }
  function postMarker(f, latlng) {
    var p = f.properties;
    var fill = p.acknowledged ? "#1e6b2f" : (p.targeted ? "#f59e0b" : "#ffffff");
    return L.circleMarker(latlng, { radius: p.targeted ? 6 : 4, color: "#222", weight: 1,
                                    fillColor: fill, fillOpacity: 1 });
  }
  function postPopup(f, layer) {
    var p = f.properties;
    layer.bindTooltip(tip(p.name + " (" + p.kind + ")" + (p.acknowledged ? " - acknowledged"
      : p.targeted ? " - alerted, not acknowledged" : "")));
  }
  function reportMarker(f, latlng) {
    return L.circleMarker(latlng, { radius: 7, color: "#fff", weight: 2, fillColor: "#6a3d9a", fillOpacity: 1 });
  }
  function reportPopup(f, layer) {
    var p = f.properties;
    layer.bindTooltip(tip(p.kind + " " + p.receipt + " (" + p.state + ") " + p.seen_at));
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

  function drawRegions(regions) {
    var note = document.getElementById("regions-note");
    var features = (regions && regions.features) || [];
    regionLayers = [];
    features.forEach(function (f) {
      var level = String(f.properties.level);
      var name = level === "0.5" ? label("region50", "Suspects 50% likely within")
                                 : label("region90", "Suspects 90% likely within");
      if (!f.properties.cells) {  // an empty region is drawn as nothing (the note says why)
        if (groups[name]) { map.removeLayer(groups[name]); control.removeLayer(groups[name]); delete groups[name]; }
        return;
      }
      var layer = L.geoJSON(f, { style: regionStyle, onEachFeature: function (g, l) { l.bindTooltip(regionTip(name, g)); } });
      put(name, layer, true);
      regionLayers.push({ level: level, layer: layer });
    });
    if (note) { note.hidden = regionLayers.length > 0; }
    markRegions();
  }

  function fit(d) {
    // Where the suspects can be (and the last-known place), with room around it; the whole
    // country when there is no picture yet.
    var b = L.geoJSON(d.isochrones).getBounds();
    if (b.isValid()) { b = b.extend([d.last_known.lat, d.last_known.lon]).pad(0.15); }
    if (!b.isValid()) { b = L.geoJSON(d.outline).getBounds(); }
    if (!b.isValid()) { b = L.geoJSON(d.network).getBounds(); }
    if (b.isValid()) { map.fitBounds(b, { maxZoom: 9 }); } else { map.setView([0, 0], 2); }
  }

  // Layer names in the page's language (data-labels, translated there); English otherwise.
  var labels = JSON.parse(el.getAttribute("data-labels") || "{}");
  function label(key, fallback) { return labels[key] || fallback; }

  function draw(d) {
    if (first) { fit(d); first = false; }  // Leaflet needs a view before it draws paths
    put(label("outline", "Outline"), L.geoJSON(d.outline, { style: { color: "#555", weight: 1.5, fillColor: "#f4f1e8", fillOpacity: 1 }, interactive: false }), true);
    put(label("reachable", "Reachable by now"), L.geoJSON(d.isochrones, { style: function (f) {
      return { color: "#3182bd", weight: 1, dashArray: "4 3", fillColor: "#9ecae1", fillOpacity: 0.12 }; },
      onEachFeature: function (f, l) { l.bindTooltip(tip(f.properties.label)); } }), true);
    put(label("picture", "Search picture"), L.geoJSON(d.heat, { style: heatStyle, onEachFeature: function (f, l) {
      l.bindTooltip(tip((100 * f.properties.probability).toFixed(1) + " %")); } }), true);
    drawRegions(d.regions);
    put(label("network", "Network"), L.geoJSON(d.network, { interactive: false, style: function (f) {
      return f.properties.mode === "rail" ? { color: "#333", weight: 2, dashArray: "6 4" }
                                          : { color: "#8c6d31", weight: 2 }; } }), true);
    put(label("posts", "Posts"), L.geoJSON(d.posts, { pointToLayer: postMarker, onEachFeature: postPopup }), true);
    put(label("reports", "Reports"), L.geoJSON(d.reports, { pointToLayer: reportMarker, onEachFeature: reportPopup }), true);
    put(label("last", "Last known place"), L.circleMarker([d.last_known.lat, d.last_known.lon],
      { radius: 9, color: "#000", weight: 3, fillColor: "#fff", fillOpacity: 1 })
      .bindTooltip(tip(label("lastKnown", "Last known:") + " " + (d.last_known.place || ""))), true);
    map.attributionControl.addAttribution(escaped(d.attribution));
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
