// The search picture on a map, shared by the case map (map.js) and the drafting form's map
// (picker.js): the 90% and 50% highest-probability regions as Leaflet layers (one style, one
// tooltip, one name per level) and the view that shows the picture at once.
(function () {
  "use strict";
  if (!window.L) { return; }

  // Leaflet puts a string tooltip into innerHTML; names come from imports and forms, so every
  // tooltip is a text node.
  function tip(text) {
    var span = document.createElement("span");
    span.textContent = String(text);
    return span;
  }

  // Outlines over the heat, light fills: the posts and the heat stay readable beneath them.
  var STYLE = {
    "0.9": { color: "#ae017e", weight: 2.5, dashArray: "6 4", fillColor: "#ae017e", fillOpacity: 0.12 },
    "0.5": { color: "#49006a", weight: 3, fillColor: "#7a0177", fillOpacity: 0.3 }
  };
  function style(f) { return STYLE[String(f.properties.level)] || STYLE["0.9"]; }

  // A region's name in the page's language (labels.region90 / region50, translated there).
  function name(level, labels) {
    return String(level) === "0.5" ? (labels.region50 || "Suspects 50% likely within")
                                   : (labels.region90 || "Suspects 90% likely within");
  }

  // One layer per region that has cells, widest first: [{level, name, layer}]. A region
  // without cells is drawn as nothing.
  function layers(regions, labels) {
    var features = (regions && regions.features) || [];
    return features.filter(function (f) { return f.properties.cells > 0; }).map(function (f) {
      var level = String(f.properties.level), title = name(level, labels || {});
      var layer = L.geoJSON(f, { style: style, onEachFeature: function (g, l) {
        var p = g.properties;
        l.bindTooltip(tip(title + ": " + (100 * p.probability).toFixed(0) + " %, " +
                          Math.round(p.area_km2) + " km²"));
      } });
      return { level: level, name: title, layer: layer };
    });
  }

  // The view of the picture: its regions and the last-known place; the reachable area when
  // there is no region; then the country outline, then the network.
  function bounds(d) {
    var b = L.geoJSON(d.regions || null).getBounds();
    if (!b.isValid()) { b = L.geoJSON(d.isochrones || null).getBounds(); }
    if (b.isValid() && d.last_known) { b.extend([d.last_known.lat, d.last_known.lon]); }
    if (b.isValid()) { return b.pad(0.1); }
    b = L.geoJSON(d.outline || null).getBounds();
    return b.isValid() ? b : L.geoJSON(d.network || null).getBounds();
  }

  // Fit ``map`` to the picture, leaving out the width of a layer control open at the top
  // right (when it takes less than half the map) so that nothing of the picture is under it.
  // With ``centre`` ([lat, lon]) the view stays centred there, zoomed out to the whole picture.
  function fit(map, d, control, centre) {
    var b = bounds(d), right = 0;
    var box = control && control.getContainer ? control.getContainer() : null;
    if (box && box.offsetWidth < map.getSize().x / 2) { right = box.offsetWidth + 10; }
    if (!b.isValid()) { map.setView(centre || [0, 0], centre ? 8 : 2, { animate: false }); return; }
    if (centre) {
      var c = L.latLng(centre), sw = b.getSouthWest(), ne = b.getNorthEast();
      b = L.latLngBounds([sw, ne, [2 * c.lat - sw.lat, 2 * c.lng - sw.lng],
                          [2 * c.lat - ne.lat, 2 * c.lng - ne.lng]]);
      map.setView(c, Math.min(11, map.getBoundsZoom(b, false, L.point(20, 20))), { animate: false });
      return;
    }
    map.fitBounds(b, { maxZoom: 11, animate: false, paddingTopLeft: [10, 10],
                       paddingBottomRight: [right, 10] });
  }

  // The map's view on its element (data-view="south,west,north,east", degrees) after every
  // move, for people's tools and tests: the canvas says nothing of it.
  function markView(map, el) {
    map.on("moveend", function () {
      var b = map.getBounds();
      el.setAttribute("data-view", [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]
        .map(function (v) { return v.toFixed(5); }).join(","));
    });
  }

  window.BoloRegions = { tip: tip, name: name, layers: layers, bounds: bounds, fit: fit,
                         markView: markView };
})();
