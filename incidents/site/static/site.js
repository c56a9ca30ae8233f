// The site's behaviour, with nothing from the network: sorting tables, searching the incident index, drawing the
// map's points, and hiding the list pager's 'Older' link on the last page.
(function () {
  "use strict";

  function cellValue(row, index, numeric) {
    var text = row.cells[index] ? row.cells[index].textContent.trim() : "";
    if (!numeric) { return text.toLowerCase(); }
    var found = text.match(/-?\d+(\.\d+)?/);  // '63 (54-63)' sorts as 63, 'unknown' first
    return found ? parseFloat(found[0]) : -Infinity;
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headers = table.querySelectorAll("thead th");
    headers.forEach(function (header, index) {
      header.addEventListener("click", function () {
        var numeric = header.dataset.type === "number";
        var up = !header.classList.contains("sorted-up");
        headers.forEach(function (other) { other.classList.remove("sorted-up", "sorted-down"); });
        header.classList.add(up ? "sorted-up" : "sorted-down");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
          return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });

  var search = document.getElementById("search");
  if (search && window.INCIDENTS_SEARCH) {
    var results = document.getElementById("results");
    var index = window.INCIDENTS_SEARCH.map(function (entry) {
      var words = [entry.key, entry.title, entry.date, entry.place, entry.admin1, entry.admin2]
        .concat(entry.groups || []).join(" ").toLowerCase();
      return { entry: entry, words: words };
    });
    search.addEventListener("input", function () {
      var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      results.textContent = "";
      if (!terms.length) { return; }
      var found = index.filter(function (item) {
        return terms.every(function (term) { return item.words.indexOf(term) >= 0; });
      }).slice(0, 50);
      found.forEach(function (item) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = item.entry.href;
        a.textContent = item.entry.date + " " + item.entry.title;
        li.appendChild(a);
        li.appendChild(document.createTextNode(" killed " + item.entry.killed));
        results.appendChild(li);
      });
      if (!found.length) {
        var none = document.createElement("li");
        none.textContent = "Nothing matches.";
        results.appendChild(none);
      }
    });
  }

  var map = document.getElementById("map");
  if (map && window.INCIDENTS_MAP) {
    var svg = map.querySelector("svg");
    var west = parseFloat(map.dataset.west), north = parseFloat(map.dataset.north);
    var east = parseFloat(map.dataset.east);
    var width = svg.viewBox.baseVal.width, scale = width / (east - west);
    var ns = "http://www.w3.org/2000/svg";
    window.INCIDENTS_MAP.forEach(function (point) {
      var link = document.createElementNS(ns, "a");
      link.setAttribute("href", point.href);
      var circle = document.createElementNS(ns, "circle");
      var dot = ["exact", "place", "gazetteer_place"].indexOf(point.precision) >= 0;
      circle.setAttribute("class", dot ? "dot" : "area");
      circle.setAttribute("data-key", point.key);
      circle.setAttribute("cx", ((point.longitude - west) * scale).toFixed(1));
      circle.setAttribute("cy", ((north - point.latitude) * scale).toFixed(1));
      circle.setAttribute("r", dot ? 3.5 : 9);
      var title = document.createElementNS(ns, "title");
      title.textContent = point.date + " " + (point.place || "") + ": killed " + point.killed;
      circle.appendChild(title);
      link.appendChild(circle);
      svg.appendChild(link);
    });
  }

  var next = document.getElementById("next");
  if (next && window.INCIDENT_LIST_PAGES !== undefined &&
      parseInt(next.dataset.page, 10) >= window.INCIDENT_LIST_PAGES) {
    next.hidden = true;
  }
}());
