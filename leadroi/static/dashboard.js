// The leadroi dashboard: polls /api/roi and draws a table and revenue/spend bars.
// Every label comes from tracked URLs, so text is only ever set as textContent.
"use strict";

(() => {
  const REFRESH_MS = 5000;
  const CHART_ROWS = 12;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const DIMENSION_TITLES = {
    channel: "channel",
    source: "source / medium",
    campaign: "source / medium / campaign",
  };
  const COLUMNS = [
    "leads", "won", "lost", "revenue", "refunds", "net_revenue", "spend", "cpl",
    "cac", "roi_pct", "roas", "win_rate_pct", "avg_deal",
  ];
  const MONEY = new Set([
    "revenue", "refunds", "net_revenue", "spend", "cpl", "cac", "avg_deal",
  ]);

  const $ = (id) => document.getElementById(id);
  const controls = {
    model: $("model"), by: $("by"), window: $("window"), asOf: $("as-of"),
  };
  let timer = null;
  let pending = null;

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function svgElement(tag, attributes, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes)) {
      node.setAttribute(name, String(value));
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Thousands separators on the decimal string itself: no float rounding.
  // A null figure (unknown spend, an undefined ratio) reads n/a.
  function grouped(text) {
    if (text === null || text === undefined) return "n/a";
    const [whole, fraction] = String(text).split(".");
    const sign = whole.startsWith("-") ? "-" : "";
    const digits = whole.replace("-", "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return sign + digits + (fraction === undefined ? "" : "." + fraction);
  }

  function setStatus(text, isError) {
    const status = $("status");
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  async function getJSON(url, signal) {
    const response = await fetch(url, { signal, cache: "no-store" });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const reasons = body && body.errors
        ? body.errors.map((e) => `${e.field}: ${e.reason}`).join("; ")
        : (body && body.reason) || `HTTP ${response.status}`;
      throw new Error(reasons);
    }
    return body;
  }

  function params(format) {
    const query = new URLSearchParams();
    if (controls.model.value) query.set("model", controls.model.value);
    query.set("by", controls.by.value);
    query.set("window", controls.window.value);
    if (controls.asOf.value) query.set("as_of", controls.asOf.value);
    if (format) query.set("format", format);
    return query;
  }

  function restoreFromAddress() {
    const query = new URLSearchParams(window.location.search);
    for (const [name, control] of [["by", controls.by], ["window", controls.window]]) {
      const value = query.get(name);
      if (value && [...control.options].some((o) => o.value === value)) {
        control.value = value;
      }
    }
    if (query.get("as_of")) controls.asOf.value = query.get("as_of");
    return query.get("model");
  }

  async function loadModels(wanted) {
    const body = await getJSON("/api/models");
    const current = wanted || controls.model.value;
    controls.model.replaceChildren(
      ...body.models.map((model) => {
        const option = element("option", model);
        option.value = model;
        return option;
      }),
    );
    if (body.models.includes(current)) controls.model.value = current;
    return body.models;
  }

  function cell(row, column) {
    const value = row[column];
    if (value === null) return element("td", "n/a", "num na");
    const td = element("td", MONEY.has(column) ? grouped(value) : value, "num");
    if (column === "roi_pct") td.classList.add(value.startsWith("-") ? "loss" : "gain");
    return td;
  }

  function renderTable(report) {
    $("value-heading").textContent = DIMENSION_TITLES[report.dimension];
    const body = $("roi").tBodies[0];
    if (report.rows.length === 0) {
      const empty = element("td", "No figures for this model and window yet.", "empty");
      empty.colSpan = 2 + COLUMNS.length;
      const tr = element("tr");
      tr.append(empty);
      body.replaceChildren(tr);
      return;
    }
    body.replaceChildren(
      ...report.rows.map((row) => {
        const tr = element("tr");
        tr.append(element("td", row.value), element("td", row.currency || ""));
        tr.append(...COLUMNS.map((column) => cell(row, column)));
        return tr;
      }),
    );
  }

  function chartFor(currency, rows) {
    const labelWidth = 170;
    const barsWidth = 320;
    const rowHeight = 36;
    const top = 28;
    const height = top + rows.length * rowHeight + 22;
    const most = Math.max(...rows.flatMap((r) => [Number(r.revenue), Number(r.spend)]), 0);
    const scale = most > 0 ? barsWidth / most : 0;

    const width = labelWidth + barsWidth + 80;
    const svg = svgElement("svg", {
      viewBox: `0 0 ${width} ${height}`,
      width,
      role: "img",
      "aria-label": `Revenue and spend per row in ${currency}`,
    });
    svg.append(
      svgElement("rect", { x: labelWidth, y: 6, width: 12, height: 12, class: "key-revenue" }),
      svgElement("text", { x: labelWidth + 17, y: 17 }, "revenue"),
      svgElement("rect", { x: labelWidth + 90, y: 6, width: 12, height: 12, class: "key-spend" }),
      svgElement("text", { x: labelWidth + 107, y: 17 }, "spend"),
    );
    for (const fraction of [0, 0.5, 1]) {
      const x = labelWidth + fraction * barsWidth;
      const bottom = height - 16;
      svg.append(
        svgElement("line", { x1: x, x2: x, y1: top - 2, y2: bottom, class: "grid" }),
        svgElement("text", { x, y: height - 4, "text-anchor": "middle", class: "tick" },
          grouped((most * fraction).toFixed(0))),
      );
    }
    rows.forEach((row, i) => {
      const y = top + i * rowHeight;
      const label = row.value.length > 24 ? row.value.slice(0, 23) + "…" : row.value;
      const name = svgElement("text", { x: labelWidth - 8, y: y + 19, "text-anchor": "end" }, label);
      name.append(svgElement("title", {}, row.value));
      svg.append(name);
      for (const [metric, offset] of [["revenue", 2], ["spend", 17]]) {
        const bar = svgElement("rect", {
          x: labelWidth, y: y + offset, height: 14,
          width: Math.max(Number(row[metric]) * scale, 0),
          class: `bar-${metric}`,
        });
        bar.append(svgElement("title", {}, `${row.value}: ${metric} ${grouped(row[metric])} ${currency}`));
        const end = labelWidth + Number(bar.getAttribute("width")) + 4;
        svg.append(
          bar,
          svgElement("text", { x: end, y: y + offset + 11, class: "tick" }, grouped(row[metric])),
        );
      }
    });

    const box = element("div", undefined, "chart");
    box.append(element("h2", `Revenue vs spend, ${currency}`), svg);
    return box;
  }

  function renderCharts(report) {
    const byCurrency = new Map();
    for (const row of report.rows) {
      if (!row.currency) continue;
      if (Number(row.revenue) === 0 && Number(row.spend) === 0) continue;
      if (!byCurrency.has(row.currency)) byCurrency.set(row.currency, []);
      const rows = byCurrency.get(row.currency);
      if (rows.length < CHART_ROWS) rows.push(row);
    }
    $("charts").replaceChildren(
      ...[...byCurrency].map(([currency, rows]) => chartFor(currency, rows)),
    );
  }

  function describe(report) {
    const model = report.models[0] || "no model";
    if (report.window === "all") return `${model}, all time`;
    return `${model}, ${report.first_day} to ${report.last_day} (both days counted)`;
  }

  async function refresh() {
    clearTimeout(timer);
    if (pending) pending.abort();
    const controller = new AbortController();
    pending = controller;
    try {
      if (!controls.model.value) {
        const models = await loadModels();
        if (models.length === 0) {
          setStatus("No models have figures yet.");
          return;
        }
      }
      const query = params();
      window.history.replaceState(null, "", `?${query}`);
      $("csv").href = `/api/roi?${params("csv")}`;
      const report = await getJSON(`/api/roi?${query}`, controller.signal);
      renderTable(report);
      renderCharts(report);
      $("period").textContent = describe(report);
      setStatus(`Updated ${new Date().toLocaleTimeString()}`);
    } catch (error) {
      if (error.name === "AbortError") return;
      setStatus(`Not updated: ${error.message}`, true);
    } finally {
      if (pending === controller) {
        pending = null;
        timer = setTimeout(refresh, REFRESH_MS);
      }
    }
  }

  async function start() {
    const wanted = restoreFromAddress();
    try {
      await loadModels(wanted);
    } catch (error) {
      setStatus(`Not updated: ${error.message}`, true);
    }
    for (const control of Object.values(controls)) {
      control.addEventListener("change", refresh);
    }
    $("controls").addEventListener("submit", (event) => event.preventDefault());
    refresh();
  }

  start();
})();
