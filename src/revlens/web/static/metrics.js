// The metrics dashboard: reads the JSON API and draws tiles, SVG charts, cohorts and customers.
// Our own code, no dependencies, nothing fetched from outside this server.
(function () {
  "use strict";
  const root = document.getElementById("metrics");
  if (!root) return;
  const api = root.dataset.api;
  const form = document.getElementById("metrics-controls");
  const NS = "http://www.w3.org/2000/svg";
  const COLORS = {
    mrr: "#4f46e5", new: "#2563eb", expansion: "#10b981", reactivation: "#06b6d4",
    contraction: "#f59e0b", churn: "#ef4444",
    customer_churn_rate: "#ef4444", gross_mrr_churn_rate: "#f59e0b", net_mrr_churn_rate: "#6b7280",
    nrr: "#4f46e5", grr: "#10b981",
  };
  const LABELS = {
    new: "New", expansion: "Expansion", reactivation: "Reactivation", contraction: "Contraction",
    churn: "Churn", mrr: "MRR", customer_churn_rate: "Customer churn",
    gross_mrr_churn_rate: "Gross MRR churn", net_mrr_churn_rate: "Net MRR churn",
    nrr: "NRR", grr: "GRR",
  };
  let currency = "usd";

  // ---- formatting -------------------------------------------------------------------------
  function formatter(code, compact) {
    try {
      const options = { style: "currency", currency: code.toUpperCase() };
      if (compact) { options.notation = "compact"; options.maximumFractionDigits = 1; }
      return new Intl.NumberFormat("en-US", options);
    } catch (e) { return null; }
  }
  function digits(code) {
    const f = formatter(code, false);
    return f ? f.resolvedOptions().maximumFractionDigits : 2;
  }
  function money(minor, code, compact) {
    if (minor === null || minor === undefined) return "n/a";
    const major = minor / Math.pow(10, digits(code || currency));
    const f = formatter(code || currency, compact);
    return f ? f.format(major) : major.toFixed(2) + " " + (code || currency).toUpperCase();
  }
  function pct(value) { return value === null || value === undefined ? "n/a" : (value * 100).toFixed(1) + "%"; }
  function iso(d) { return d.toISOString().slice(0, 10); }
  function text(id, value) { const node = document.getElementById(id); if (node) node.textContent = value; }

  // ---- parameters -------------------------------------------------------------------------
  function defaults() {
    const now = new Date();
    const url = new URLSearchParams(location.search);
    const start = new Date(Date.UTC(now.getUTCFullYear() - 1, now.getUTCMonth(), now.getUTCDate()));
    form.start.value = url.get("start") || iso(start);
    form.end.value = url.get("end") || iso(now);
    form.interval.value = url.get("interval") || "month";
    form.preset.value = url.get("preset") || "standard";
    if (url.get("currency")) addCurrency(url.get("currency"));
    form.currency.value = url.get("currency") || "";
  }
  function params(extra) {
    const p = new URLSearchParams({
      start: form.start.value, end: form.end.value, interval: form.interval.value,
      preset: form.preset.value,
    });
    if (form.currency.value) p.set("currency", form.currency.value);
    Object.keys(extra || {}).forEach(function (k) { p.set(k, extra[k]); });
    return p;
  }
  function addCurrency(code) {
    const select = form.currency;
    if (![].some.call(select.options, function (o) { return o.value === code; })) {
      const option = document.createElement("option");
      option.value = code; option.textContent = code.toUpperCase();
      select.appendChild(option);
    }
  }
  function message(textValue) {
    const box = document.getElementById("metrics-message");
    box.hidden = !textValue;
    box.textContent = textValue || "";
  }
  function getJson(path) {
    return fetch(path, { credentials: "same-origin" }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    });
  }

  // ---- SVG --------------------------------------------------------------------------------
  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }
  function label(parent, x, y, value, anchor) {
    const t = el("text", { x: x, y: y, "text-anchor": anchor || "end" }, parent);
    t.textContent = value;
    return t;
  }
  function niceTicks(low, high, count) {
    if (low === high) { high = low + 1; }
    const span = high - low;
    const raw = span / count;
    const step = Math.pow(10, Math.floor(Math.log10(raw)));
    const unit = [1, 2, 5, 10].map(function (m) { return m * step; }).find(function (s) { return span / s <= count; }) || raw;
    const ticks = [];
    for (let v = Math.floor(low / unit) * unit; v <= high + unit * 0.001; v += unit) ticks.push(v);
    if (ticks[ticks.length - 1] < high) ticks.push(ticks[ticks.length - 1] + unit);
    return ticks;
  }
  function svg(container, width, height) {
    container.replaceChildren();
    return el("svg", { viewBox: "0 0 " + width + " " + height, role: "img" }, container);
  }
  function xLabels(g, rows, x, y, most) {
    const every = Math.max(1, Math.ceil(rows.length / (most || 8)));
    rows.forEach(function (row, i) {
      const last = i === rows.length - 1;
      if ((i % every === 0 && rows.length - 1 - i >= every / 2) || last) {
        label(g, x(i) + (last ? 6 : 0), y, row.date, last ? "end" : i === 0 ? "start" : "middle");
      }
    });
  }
  function axisY(g, ticks, y, left, right, format) {
    ticks.forEach(function (v) {
      el("line", { x1: left, x2: right, y1: y(v), y2: y(v), class: "grid" }, g);
      label(g, left - 6, y(v) + 4, format(v));
    });
  }
  function legend(id, keys) {
    const box = document.getElementById(id);
    box.replaceChildren();
    keys.forEach(function (k) {
      const item = document.createElement("span");
      const swatch = document.createElement("i");
      swatch.style.background = COLORS[k];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(LABELS[k]));
      box.appendChild(item);
    });
  }
  function path(points) {
    let d = ""; let pen = false;
    points.forEach(function (p) {
      if (p === null) { pen = false; return; }
      d += (pen ? "L" : "M") + p[0].toFixed(1) + "," + p[1].toFixed(1);
      pen = true;
    });
    return d;
  }

  function mrrChart(rows) {
    const W = 1000, H = 380, L = 80, R = 16, top = 12, mid = 230, low = 250, bottom = 350;
    const s = svg(document.getElementById("chart-mrr"), W, H);
    const n = rows.length;
    const band = (W - L - R) / Math.max(1, n);
    const x = function (i) { return L + band * (i + 0.5); };
    const mrrTicks = niceTicks(0, Math.max.apply(null, rows.map(function (r) { return r.mrr; }).concat([1])), 4);
    const yTop = function (v) { return mid - (v / mrrTicks[mrrTicks.length - 1]) * (mid - top); };
    axisY(s, mrrTicks, yTop, L, W - R, function (v) { return money(v, currency, true); });
    const area = rows.map(function (r, i) { return [x(i), yTop(r.mrr)]; });
    if (n) {
      el("path", { d: path(area) + "L" + x(n - 1) + "," + mid + "L" + x(0) + "," + mid + "Z", fill: COLORS.mrr, opacity: 0.12 }, s);
      el("path", { d: path(area), fill: "none", stroke: COLORS.mrr, "stroke-width": 2.5 }, s);
    }
    const ups = ["new", "expansion", "reactivation"], downs = ["contraction", "churn"];
    const high = Math.max.apply(null, rows.map(function (r) { return ups.reduce(function (a, k) { return a + r[k]; }, 0); }).concat([1]));
    const deep = Math.min.apply(null, rows.map(function (r) { return downs.reduce(function (a, k) { return a + r[k]; }, 0); }).concat([0]));
    const zero = low + (bottom - low) * high / (high - deep);
    const scale = (bottom - low) / (high - deep);
    label(s, L - 6, low + 8, money(high, currency, true));
    if (deep < 0) label(s, L - 6, bottom, money(deep, currency, true));
    el("line", { x1: L, x2: W - R, y1: zero, y2: zero, class: "axis" }, s);
    const w = Math.max(1, band * 0.7);
    rows.forEach(function (r, i) {
      let up = zero, down = zero;
      ups.forEach(function (k) {
        if (r[k] > 0) { const h = r[k] * scale; up -= h; el("rect", { x: x(i) - w / 2, y: up, width: w, height: h, fill: COLORS[k] }, s).appendChild(title(LABELS[k] + " " + r.date + ": " + money(r[k]))); }
      });
      downs.forEach(function (k) {
        if (r[k] < 0) { const h = -r[k] * scale; el("rect", { x: x(i) - w / 2, y: down, width: w, height: h, fill: COLORS[k] }, s).appendChild(title(LABELS[k] + " " + r.date + ": " + money(r[k]))); down += h; }
      });
    });
    xLabels(s, rows, x, H - 8);
    legend("legend-mrr", ["mrr"].concat(ups, downs));
  }
  function title(value) { const t = el("title"); t.textContent = value; return t; }

  function rateChart(id, legendId, rows, keys) {
    const W = 500, H = 240, L = 52, R = 10, top = 10, bottom = 210;
    const s = svg(document.getElementById(id), W, H);
    const values = [];
    rows.forEach(function (r) { keys.forEach(function (k) { if (r[k] !== null) values.push(r[k]); }); });
    const ticks = niceTicks(Math.min.apply(null, values.concat([0])), Math.max.apply(null, values.concat([0.01])), 4);
    const lo = ticks[0], hi = ticks[ticks.length - 1];
    const band = (W - L - R) / Math.max(1, rows.length);
    const x = function (i) { return L + band * (i + 0.5); };
    const y = function (v) { return bottom - ((v - lo) / (hi - lo)) * (bottom - top); };
    const places = hi - lo < 0.05 ? 1 : 0;
    axisY(s, ticks, y, L, W - R, function (v) { return (v * 100).toFixed(places) + "%"; });
    keys.forEach(function (k) {
      const pts = rows.map(function (r, i) { return r[k] === null ? null : [x(i), y(r[k])]; });
      el("path", { d: path(pts), fill: "none", stroke: COLORS[k], "stroke-width": 2 }, s);
      pts.forEach(function (p, i) { if (p) el("circle", { cx: p[0], cy: p[1], r: 2.5, fill: COLORS[k] }, s).appendChild(title(LABELS[k] + " " + rows[i].date + ": " + pct(rows[i][k]))); });
    });
    xLabels(s, rows, x, H - 6, 4);
    legend(legendId, keys);
  }

  function stepChart(id, points, end) {
    const W = 1000, H = 200, L = 80, R = 16, top = 10, bottom = 170;
    const s = svg(document.getElementById(id), W, H);
    if (!points.length) return;
    const first = Date.parse(points[0].date), last = Math.max(Date.parse(end), first + 86400000);
    const ticks = niceTicks(0, Math.max.apply(null, points.map(function (p) { return p.mrr; }).concat([1])), 3);
    const x = function (d) { return L + (Date.parse(d) - first) / (last - first) * (W - L - R); };
    const y = function (v) { return bottom - v / ticks[ticks.length - 1] * (bottom - top); };
    axisY(s, ticks, y, L, W - R, function (v) { return money(v, currency, true); });
    let d = "M" + x(points[0].date) + "," + y(points[0].mrr);
    points.forEach(function (p, i) {
      if (i) d += "H" + x(p.date).toFixed(1) + "V" + y(p.mrr).toFixed(1);
    });
    d += "H" + (W - R);
    el("path", { d: d, fill: "none", stroke: COLORS.mrr, "stroke-width": 2.5 }, s);
    label(s, L, H - 6, points[0].date, "start");
    label(s, W - R, H - 6, end, "end");
  }

  // ---- tiles ------------------------------------------------------------------------------
  function change(id, now, before, kind) {
    const node = document.getElementById(id);
    node.className = "change";
    if (now === null || before === null || before === undefined) { node.textContent = ""; return; }
    let value, up;
    if (kind === "rate") {
      value = ((now - before) * 100).toFixed(1) + " pts";
      up = now >= before;
    } else if (before === 0) {
      node.textContent = ""; return;
    } else {
      const ratio = now / before - 1;
      value = (ratio * 100).toFixed(1) + "%";
      up = ratio >= 0;
    }
    node.textContent = (up ? "▲ " : "▼ ") + value + " vs previous";
    node.classList.add(up === (id !== "churn-change") ? "up" : "down");
  }
  function tiles(rows) {
    const last = rows[rows.length - 1] || null;
    const prev = rows.length > 1 ? rows[rows.length - 2] : null;
    const tile = document.getElementById("mrr-tile");
    if (!last) { tile.textContent = "–"; tile.dataset.value = ""; return; }
    tile.textContent = money(last.mrr);
    tile.dataset.value = String(last.mrr);
    tile.dataset.date = last.date;
    text("arr-tile", money(last.arr));
    text("customers-tile", String(last.paying_customers));
    text("arpa-tile", money(last.arpa));
    text("churn-tile", pct(last.customer_churn_rate));
    text("nrr-tile", pct(last.nrr));
    text("cash-tile", money(last.net_revenue));
    change("mrr-change", last.mrr, prev && prev.mrr);
    change("arr-change", last.arr, prev && prev.arr);
    change("customers-change", last.paying_customers, prev && prev.paying_customers);
    change("arpa-change", last.arpa, prev && prev.arpa);
    change("churn-change", last.customer_churn_rate, prev && prev.customer_churn_rate, "rate");
    change("nrr-change", last.nrr, prev && prev.nrr, "rate");
    change("cash-change", last.net_revenue, prev && prev.net_revenue);
  }

  // ---- cohorts and customers --------------------------------------------------------------
  function cohortTable(cohorts) {
    const box = document.getElementById("cohorts");
    box.replaceChildren();
    if (!cohorts.length) { box.textContent = "No cohort began in this range."; return; }
    const table = document.createElement("table");
    const width = Math.max.apply(null, cohorts.map(function (c) { return c.months.length; }));
    const head = table.createTHead().insertRow();
    ["Cohort", "Customers"].concat(Array.from({ length: width }, function (_, i) { return "M" + i; })).forEach(function (h) {
      const th = document.createElement("th"); th.textContent = h; head.appendChild(th);
    });
    const body = table.createTBody();
    cohorts.forEach(function (c) {
      const row = body.insertRow();
      row.insertCell().textContent = c.cohort;
      row.insertCell().textContent = String(c.customers);
      c.months.forEach(function (m) {
        const cell = row.insertCell();
        const v = m.customer_retention;
        cell.textContent = pct(v);
        cell.title = "paying " + m.paying + ", MRR " + money(m.mrr) + ", net MRR retention " + pct(m.net_mrr_retention);
        if (v !== null) {
          cell.style.background = "rgba(79, 70, 229, " + (0.12 + 0.78 * Math.max(0, Math.min(1, v))).toFixed(2) + ")";
          cell.style.color = v > 0.55 ? "#fff" : "#1f2937";
        }
      });
    });
    box.appendChild(table);
  }
  function customerTable(rows) {
    const body = document.querySelector("#customers tbody");
    body.replaceChildren();
    rows.forEach(function (c) {
      const row = body.insertRow();
      row.dataset.customer = c.customer;
      row.insertCell().textContent = c.name || c.customer;
      row.insertCell().textContent = c.email || "";
      const mrr = row.insertCell(); mrr.className = "num"; mrr.textContent = money(c.mrr);
      row.insertCell().textContent = c.first_paid || "";
      row.insertCell().textContent = c.last_movement ? c.last_movement + " on " + c.last_movement_date : "";
      row.addEventListener("click", function () { drill(c.customer); });
    });
    if (!rows.length) {
      const cell = body.insertRow().insertCell();
      cell.colSpan = 5; cell.textContent = "No paying customer yet."; cell.className = "muted";
    }
  }
  function drill(customer) {
    getJson(api + "/customers/" + encodeURIComponent(customer) + "/mrr?" + new URLSearchParams({ preset: form.preset.value }))
      .then(function (answer) {
        if (answer.status !== 200) return;
        const doc = answer.body;
        document.getElementById("customer-detail").hidden = false;
        text("customer-name", (doc.name || doc.customer) + " · " + doc.customer);
        const points = doc.timeline.filter(function (p) { return p.currency === currency; });
        stepChart("chart-customer", points, form.end.value);
        const body = document.querySelector("#customer-movements tbody");
        body.replaceChildren();
        doc.movements.forEach(function (m) {
          const row = body.insertRow();
          row.insertCell().textContent = m.date;
          row.insertCell().textContent = m.type;
          const amount = row.insertCell(); amount.className = "num"; amount.textContent = money(m.amount, m.currency);
          row.insertCell().textContent = m.explanation;
        });
      });
  }

  // ---- loading ----------------------------------------------------------------------------
  function load() {
    root.dataset.loaded = "false";
    history.replaceState(null, "", location.pathname + "?" + params().toString());
    document.getElementById("metrics-csv").href = api + "/metrics?" + params({ format: "csv" });
    getJson(api + "/metrics?" + params()).then(function (answer) {
      if (answer.status === 409) {
        message(answer.body.detail);
        setTimeout(load, 1000);
        return;
      }
      if (answer.status !== 200) { message(answer.body.detail || "The metrics could not be loaded."); return; }
      message("");
      const doc = answer.body;
      currency = doc.currency;
      addCurrency(doc.currency);
      text("metrics-asof", "Data as of " + (doc.as_of ? doc.as_of.slice(0, 16).replace("T", " ") + " UTC" : "n/a") +
        " · " + doc.currency.toUpperCase() + " · preset " + doc.preset);
      tiles(doc.series);
      mrrChart(doc.series);
      rateChart("chart-churn", "legend-churn", doc.series, ["customer_churn_rate", "gross_mrr_churn_rate", "net_mrr_churn_rate"]);
      rateChart("chart-retention", "legend-retention", doc.series, ["nrr", "grr"]);
      root.dataset.loaded = "true";
      const more = new URLSearchParams({ start: form.start.value, end: form.end.value, preset: form.preset.value, currency: currency });
      getJson(api + "/cohorts?" + more).then(function (a) { if (a.status === 200) cohortTable(a.body.cohorts); });
      more.delete("start");
      more.set("limit", "50");
      getJson(api + "/customers?" + more).then(function (a) { if (a.status === 200) customerTable(a.body.customers); });
    }).catch(function () { message("The metrics could not be loaded."); });
    getJson(api + "/sync").then(function (a) {
      if (a.status === 200) text("metrics-sync", "sync: " + (a.body.complete ? "complete" : Math.round(a.body.percent) + "%"));
    }).catch(function () {});
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); load(); });
  defaults();
  load();
})();
