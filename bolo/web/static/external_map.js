// Other agencies' alert areas, drawn offline (no tiles): polygons and circles, each with a
// tooltip naming its sender. Names come from other agencies' messages: text nodes only.
(function () {
  "use strict";
  var el = document.getElementById("external-map");
  if (!el || !window.L) { return; }
  var map = L.map(el, { zoomControl: true, preferCanvas: true });
  map.attributionControl.setPrefix("Leaflet (BSD-2)");
  function tip(p) {
    var span = document.createElement("span");
    span.textContent = p.sender + ": " + (p.headline || "") + (p.area ? " (" + p.area + ")" : "");
    return span;
  }
  function style(f) {
    var c = f.properties.child_abduction ? "#b91c1c" : "#1d4ed8";
    return { color: c, weight: 2, fillColor: c, fillOpacity: 0.15 };
  }
  fetch(el.getAttribute("data-src"), { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (d) {
      var layer = L.geoJSON(d, {
        style: style,
        pointToLayer: function (f, latlng) {
          return L.circle(latlng, Object.assign({ radius: Math.max(f.properties.radius_m, 50) }, style(f)));
        },
        onEachFeature: function (f, l) { l.bindTooltip(tip(f.properties)); }
      }).addTo(map);
      var b = layer.getBounds();
      if (b.isValid()) { map.fitBounds(b.pad(0.2), { maxZoom: 10 }); } else { map.setView([0, 0], 2); }
      el.setAttribute("data-drawn", String(d.features.length));
    })
    .catch(function (e) { el.setAttribute("data-error", String(e)); });
})();
