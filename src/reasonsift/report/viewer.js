/* reasonsift token viewer. Builds every node that carries data with createElement + textContent:
   text from traces is never parsed as HTML. Data: the JSON in #rs-data (see payload.py). */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("rs-data").textContent);
  var META = DATA.meta, S = DATA.S, EX = DATA.examples, COLS = DATA.columns;
  var SVGNS = "http://www.w3.org/2000/svg";
  var SEG = ["trace", "answer", "other"];
  var LABEL = {
    n_tokens: "tokens", H_mean: "H mean", H_p50: "H p50", H_p90: "H p90", H_p99: "H p99",
    frac_H_below_0_01: "H<0.01", top20_entropy_mass: "top20 mass", ifd: "IFD", r_ifd: "r-IFD",
    info_gain: "info gain", ig_total: "IG total", posthoc: "post-hoc"
  };
  var state = { sortKey: null, sortDir: 1, filter: "", current: -1, mask: null, scale: "log", dots: false, order: [] };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function fmt(v) {
    if (v === null || v === undefined) return "–";
    if (typeof v === "boolean") return v ? "yes" : "no";
    if (typeof v !== "number") return String(v);
    if (Number.isInteger(v)) return String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var a = Math.abs(v);
    if (a !== 0 && (a < 0.001 || a >= 1e5)) return v.toExponential(2);
    return v.toPrecision(3).replace(/\.?0+$/, "");
  }
  function pct(v) { return v === null || v === undefined ? "–" : (100 * v).toFixed(1) + "%"; }

  /* ---- colour scale (same as colormap.py) ---- */
  var STOPS = META.stops.map(function (h) {
    return [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];
  });
  function position(h) {
    if (h === null || h === undefined) return null;
    var top = META.h_max, lo = META.log_floor, p;
    if (state.scale === "log") {
      top = Math.max(top, lo * 10);
      p = (Math.log10(Math.max(h, lo)) - Math.log10(lo)) / (Math.log10(top) - Math.log10(lo));
    } else p = h / top;
    return Math.min(1, Math.max(0, p));
  }
  function colourAt(p) {
    var x = p * (STOPS.length - 1), i = Math.min(Math.floor(x), STOPS.length - 2), f = x - i;
    var a = STOPS[i], b = STOPS[i + 1], c = [0, 1, 2].map(function (k) { return Math.round(a[k] + (b[k] - a[k]) * f); });
    var lum = (0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]) / 255;
    return { bg: "rgb(" + c.join(",") + ")", fg: lum < 0.5 ? "#fff" : "#111" };
  }

  /* ---- header, cards, legend ---- */
  function card(k, v) { var c = el("div", "card"); c.appendChild(el("div", "v", v)); c.appendChild(el("div", "k", k)); return c; }
  function renderHeader() {
    var parts = ["run " + META.run];
    if (META.model) parts.push("model " + META.model);
    parts.push(META.shards.length + " shard" + (META.shards.length === 1 ? "" : "s"));
    document.getElementById("run-line").textContent = parts.join(" · ");
    var sm = META.summary, cards = document.getElementById("cards");
    cards.appendChild(card("examples", fmt(META.n_examples)));
    cards.appendChild(card("scored tokens", fmt(sm.n_tokens)));
    cards.appendChild(card("mean H (nats)", fmt(sm.H_mean)));
    cards.appendChild(card("tokens with H < 0.01", pct(sm.share_below_0_01)));
    cards.appendChild(card("forking τ (dataset pool)", fmt(META.tau)));
    if (sm.forking_share !== null && sm.forking_share !== undefined) cards.appendChild(card("forking tokens (" + META.pool + " pool)", pct(sm.forking_share)));
    cards.appendChild(card("rejected", fmt(META.n_rejects)));
    if (META.incomplete && META.incomplete.length) {
      var inc = document.getElementById("incomplete");
      inc.hidden = false;
      inc.textContent = "Incomplete run: this page shows only part of it.\n- " + META.incomplete.join("\n- ");
    }
    if (META.warnings.length) {
      var w = document.getElementById("warnings");
      w.hidden = false;
      w.textContent = "Warnings:\n" + META.warnings.join("\n");
    }
    if (META.n_omitted > 0) {
      var o = document.getElementById("omitted");
      o.hidden = false;
      o.textContent = "Showing the first " + fmt(META.n_shown) + " of " + fmt(META.n_examples) + " examples; " +
        fmt(META.n_omitted) + " omitted (--max-examples). Dataset plots cover all.";
    }
  }
  function renderLegend() {
    var lg = document.getElementById("legend");
    lg.textContent = "";
    lg.appendChild(el("span", null, "H"));
    var col = el("div");
    var bar = el("div", "bar");
    var grad = [];
    for (var i = 0; i <= 20; i++) grad.push(colourAt(i / 20).bg + " " + (i * 5) + "%");
    bar.style.background = "linear-gradient(to right, " + grad.join(", ") + ")";
    var ticks = el("div", "ticks");
    var vals = state.scale === "log" ? [] : [0, META.h_max / 2, META.h_max];
    if (state.scale === "log") for (var v = META.log_floor; v <= META.h_max * 1.0001; v *= 10) vals.push(v);
    if (state.scale === "log") vals.push(META.h_max);
    vals.forEach(function (v, k) {
      var p = position(v);
      if (k > 0 && k === vals.length - 1 && state.scale === "log" && p - position(vals[k - 1]) < 0.12) return;
      var s = el("span", null, (k === 0 && state.scale === "log" ? "≤" : "") + fmt(v));
      s.style.left = (100 * p) + "%";
      ticks.appendChild(s);
    });
    col.appendChild(bar);
    col.appendChild(ticks);
    lg.appendChild(col);
    lg.appendChild(el("span", "fk-key", "forking"));
  }

  /* ---- example list ---- */
  var TEXT_COLS = ["id", "domain"];
  function cellValue(ex, key) { return key === "#" ? ex._i : (TEXT_COLS.indexOf(key) >= 0 ? ex[key] : ex.s[key]); }
  function renderTableHead() {
    var tr = document.querySelector("#ex-table thead tr");
    ["#"].concat(TEXT_COLS, COLS).forEach(function (key) {
      var th = el("th", TEXT_COLS.indexOf(key) >= 0 ? "txt" : null, LABEL[key] || key);
      th.title = "Sort by " + key;
      th.dataset.key = key;
      th.addEventListener("click", function () { sortBy(key); });
      tr.appendChild(th);
    });
  }
  function sortBy(key) {
    if (state.sortKey === key) state.sortDir = -state.sortDir;
    else { state.sortKey = key; state.sortDir = TEXT_COLS.indexOf(key) >= 0 || key === "#" ? 1 : -1; }
    document.querySelectorAll("#ex-table th").forEach(function (th) {
      if (th.dataset.key === key) th.setAttribute("aria-sort", state.sortDir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
    renderRows();
  }
  function compare(a, b) {
    var x = cellValue(a, state.sortKey), y = cellValue(b, state.sortKey);
    var xn = x === null || x === undefined, yn = y === null || y === undefined;
    if (xn || yn) return xn === yn ? a._i - b._i : (xn ? 1 : -1); // missing values last either way
    if (typeof x === "string") return state.sortDir * x.localeCompare(y) || a._i - b._i;
    return state.sortDir * ((x > y) - (x < y)) || a._i - b._i;
  }
  function matches(ex, q) {
    return !q || ex.id.toLowerCase().indexOf(q) >= 0 || ex.domain.toLowerCase().indexOf(q) >= 0 ||
      ex.q.toLowerCase().indexOf(q) >= 0;
  }
  var rowCache = [];
  function rowFor(ex) { // built once per example; sorting and filtering only move rows
    var tr = rowCache[ex._i];
    if (tr) { tr.classList.toggle("sel", ex._i === state.current); return tr; }
    tr = rowCache[ex._i] = el("tr", ex._i === state.current ? "sel" : null);
    tr.dataset.i = ex._i;
    tr.appendChild(el("td", null, ex._i + 1));
    TEXT_COLS.forEach(function (k) { var td = el("td", "txt", ex[k]); td.title = ex[k]; tr.appendChild(td); });
    COLS.forEach(function (k) { tr.appendChild(el("td", null, fmt(ex.s[k]))); });
    return tr;
  }
  function renderRows() {
    var q = state.filter.trim().toLowerCase();
    var rows = EX.filter(function (ex) { return matches(ex, q); });
    if (state.sortKey) rows.sort(compare);
    state.order = rows.map(function (ex) { return ex._i; });
    var body = document.querySelector("#ex-table tbody");
    var frag = document.createDocumentFragment();
    rows.forEach(function (ex) { frag.appendChild(rowFor(ex)); });
    body.textContent = "";
    body.appendChild(frag);
    document.getElementById("list-count").textContent = rows.length + " / " + EX.length;
  }

  /* ---- one example ---- */
  function shownText(s) {
    if (s === "") return "∅";
    if (state.dots || /^ +$/.test(s)) s = s.replace(/ /g, "·");
    return s.replace(/\t/g, "→\t").replace(/\r/g, "␍").replace(/\n/g, "↵\n");
  }
  function tokenSpan(ex, i, forks) {
    var sp = el("span", "tk");
    sp.dataset.i = i;
    var raw = S[ex.t[i]], shown = shownText(raw);
    if (shown !== raw && /^[\s·↵→␍∅]+$/.test(shown)) {
      var inner = el("span", "ws", shown);
      sp.appendChild(inner);
    } else sp.textContent = shown;
    var p = ex.H ? position(ex.H[i]) : null;
    if (p !== null) { var c = colourAt(p); sp.style.background = c.bg; sp.style.color = c.fg; }
    if (forks && forks.has(i)) sp.classList.add("fork");
    if (ex.seg && ex.seg[i] === 2) sp.classList.add("seg2");
    return sp;
  }
  function chipsFor(ex) {
    var box = el("div", "ex-head");
    box.appendChild(el("h2", null, ex.id));
    if (ex.domain) box.appendChild(el("span", "chip", ex.domain));
    if (ex.format) box.appendChild(el("span", "chip", ex.format));
    COLS.forEach(function (k) {
      var v = ex.s[k];
      if (v === null || v === undefined) return;
      var ch = el("span", "chip" + (k === "posthoc" && v ? " warn" : "") + ((k === "ifd" || k === "r_ifd") && v > 1 ? " warn" : ""));
      ch.appendChild(el("b", null, (LABEL[k] || k) + " "));
      ch.appendChild(document.createTextNode(fmt(v)));
      box.appendChild(ch);
    });
    return box;
  }
  function showExample(idx) {
    if (idx < 0 || idx >= EX.length) return;
    state.current = idx;
    var ex = EX[idx], view = document.getElementById("ex-view");
    view.textContent = "";
    view.appendChild(chipsFor(ex));
    view.appendChild(el("div", "box-label", "Question"));
    view.appendChild(el("div", "qa", ex.q));
    var nf = state.mask && ex.fk[state.mask] ? ex.fk[state.mask].length : 0;
    view.appendChild(el("div", "box-label", "Scored tokens (" + fmt(ex.t.length) + ")" +
      (state.mask ? " · " + nf + " forking (" + state.mask + " pool)" : "") + " — hover for details"));
    var box = el("div", "tokens");
    box.id = "tokens";
    var forks = state.mask && ex.fk[state.mask] ? new Set(ex.fk[state.mask]) : null;
    var frag = document.createDocumentFragment(), prevSeg = null;
    for (var i = 0; i < ex.t.length; i++) {
      var seg = ex.seg ? ex.seg[i] : null;
      if (seg === 1 && prevSeg !== 1) frag.appendChild(el("span", "sep ans", "answer ▸"));
      prevSeg = seg;
      frag.appendChild(tokenSpan(ex, i, forks));
    }
    box.appendChild(frag);
    view.appendChild(box);
    view.appendChild(el("div", "box-label", "Answer"));
    view.appendChild(el("div", "qa", ex.a));
    if (ex.ig) view.appendChild(igCharts(ex));
    rowCache.forEach(function (tr, i) { if (tr) tr.classList.toggle("sel", i === idx); });
    try { // a permalink to the example; some browsers refuse history changes on file:// pages
      if (location.hash !== "#ex=" + encodeURIComponent(ex.id)) history.replaceState(null, "", "#ex=" + encodeURIComponent(ex.id));
    } catch (err) { /* keep working without the permalink */ }
  }

  /* ---- information-gain charts (inline SVG) ---- */
  function lineChart(title, ys, opts) {
    var W = 380, H = 190, ml = 46, mr = 10, mt = 24, mb = 32, pw = W - ml - mr, ph = H - mt - mb;
    var s = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, "class": "chart", role: "img" });
    var t = svg("text", { x: ml, y: 14, "class": "ct" }); t.textContent = title; s.appendChild(t);
    var vals = ys.filter(function (v) { return v !== null; });
    var lo = Math.min.apply(null, vals.concat(opts.bars ? [0] : [])), hi = Math.max.apply(null, vals.concat(opts.bars ? [0] : []));
    if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
    var n = ys.length, x0 = opts.x0 || 0;
    function px(i) { return opts.bars ? ml + (i + 0.5) * pw / n : ml + (n === 1 ? pw / 2 : i * pw / (n - 1)); }
    function py(v) { return mt + ph - (v - lo) / (hi - lo) * ph; }
    s.appendChild(svg("line", { x1: ml, y1: mt + ph, x2: ml + pw, y2: mt + ph, "class": "ax" }));
    s.appendChild(svg("line", { x1: ml, y1: mt, x2: ml, y2: mt + ph, "class": "ax" }));
    [lo, (lo + hi) / 2, hi].forEach(function (v) {
      s.appendChild(svg("line", { x1: ml - 3, y1: py(v), x2: ml + pw, y2: py(v), "class": "grid" }));
      var tl = svg("text", { x: ml - 5, y: py(v) + 3, "class": "tl", "text-anchor": "end" }); tl.textContent = fmt(v); s.appendChild(tl);
    });
    var step = Math.max(1, Math.ceil(n / 10));
    for (var i = 0; i < n; i += step) {
      var xl = svg("text", { x: px(i), y: mt + ph + 13, "class": "tl", "text-anchor": "middle" }); xl.textContent = String(i + x0); s.appendChild(xl);
    }
    var xt = svg("text", { x: ml + pw / 2, y: H - 3, "class": "al", "text-anchor": "middle" }); xt.textContent = opts.xlabel; s.appendChild(xt);
    if (opts.bars) {
      s.appendChild(svg("line", { x1: ml, y1: py(0), x2: ml + pw, y2: py(0), "class": "ax" }));
      ys.forEach(function (v, i) {
        if (v === null) return;
        var w = Math.min(36, Math.max(1, pw / n - 2)), r = svg("rect", {
          x: px(i) - w / 2, y: Math.min(py(0), py(v)), width: w, height: Math.max(1, Math.abs(py(v) - py(0))),
          "class": v >= 0 ? "gp" : "gn"
        });
        r.dataset.step = String(i);
        var tt = svg("title", {}); tt.textContent = "step " + (i + x0) + ": gain " + fmt(v) + " (click to highlight its tokens)";
        r.appendChild(tt);
        r.addEventListener("click", function () { highlightStep(i, r); });
        s.appendChild(r);
      });
    } else {
      var pts = [];
      ys.forEach(function (v, i) { if (v !== null) pts.push(px(i) + "," + py(v)); });
      s.appendChild(svg("polyline", { points: pts.join(" "), "class": "igl" }));
      ys.forEach(function (v, i) {
        if (v === null) return;
        var c = svg("circle", { cx: px(i), cy: py(v), r: 3, "class": "igp" });
        var tt = svg("title", {}); tt.textContent = "after " + (i + x0) + " steps: NLL " + fmt(v); c.appendChild(tt);
        s.appendChild(c);
      });
    }
    return s;
  }
  function igCharts(ex) {
    var wrap = el("div");
    wrap.appendChild(el("div", "box-label", "Information gain per reasoning step"));
    var row = el("div", "ig-wrap");
    if (ex.ig.nll && ex.ig.nll.length) row.appendChild(lineChart("Answer NLL given the first i steps", ex.ig.nll, { xlabel: "steps given (i)" }));
    if (ex.ig.gains && ex.ig.gains.length) row.appendChild(lineChart("Gain of step i (NLL drop)", ex.ig.gains, { xlabel: "step i", bars: true, x0: 1 }));
    wrap.appendChild(row);
    return wrap;
  }
  function highlightStep(stepIdx, rect) {
    var ex = EX[state.current];
    var was = rect.classList.contains("gsel");
    document.querySelectorAll(".gsel").forEach(function (e) { e.classList.remove("gsel"); });
    document.querySelectorAll("#tokens .tk.hl").forEach(function (e) { e.classList.remove("hl"); });
    if (was || !ex.step) return;
    rect.classList.add("gsel");
    var first = null;
    document.querySelectorAll("#tokens .tk").forEach(function (sp) {
      if (ex.step[Number(sp.dataset.i)] === stepIdx) { sp.classList.add("hl"); if (!first) first = sp; }
    });
    if (first) first.scrollIntoView({ block: "nearest" });
  }

  /* ---- tooltip ---- */
  var tip = document.getElementById("tip");
  function kv(parent, text) { parent.appendChild(el("div", "row", text)); }
  function showTip(i, evt) {
    var ex = EX[state.current];
    tip.textContent = "";
    var head = el("div");
    head.appendChild(el("span", "tt", JSON.stringify(S[ex.t[i]]).slice(1, -1)));
    var isFork = state.mask && ex.fk[state.mask] && ex.fk[state.mask].indexOf(i) >= 0;
    if (isFork) head.appendChild(el("span", "fkb", "forking"));
    tip.appendChild(head);
    var parts = [];
    if (ex.H) parts.push("H " + fmt(ex.H[i]) + " nats");
    if (ex.lp) parts.push("log p " + fmt(ex.lp[i]) + " (p " + pct(ex.lp[i] === null ? null : Math.exp(ex.lp[i])) + ")");
    if (ex.r) parts.push("rank " + fmt(ex.r[i]));
    kv(tip, parts.join(" · "));
    var pos = ["#" + i];
    if (ex.seg) pos.push(SEG[ex.seg[i]] || "segment " + ex.seg[i]);
    if (ex.step && ex.step[i] >= 0) pos.push("step " + ex.step[i]);
    kv(tip, pos.join(" · "));
    if (ex.tt && ex.tt[i] && ex.tt[i].length) {
      var tb = el("table");
      ex.tt[i].forEach(function (sid, k) {
        var lp = ex.tl[i][k], p = lp === null ? 0 : Math.exp(lp);
        var tr = el("tr", sid === ex.t[i] ? "me" : null);
        tr.appendChild(el("td", "alt", JSON.stringify(S[sid]).slice(1, -1)));
        var bc = el("td", "barc"), pb = el("div", "pb");
        pb.style.width = Math.max(1, Math.round(100 * p)) + "%";
        bc.appendChild(pb);
        tr.appendChild(bc);
        tr.appendChild(el("td", null, pct(p)));
        tb.appendChild(tr);
      });
      tip.appendChild(el("div", "row", "top alternatives"));
      tip.appendChild(tb);
    }
    tip.hidden = false;
    moveTip(evt);
  }
  function moveTip(evt) {
    var r = tip.getBoundingClientRect(), x = evt.clientX + 14, y = evt.clientY + 16;
    if (x + r.width > window.innerWidth - 6) x = Math.max(6, evt.clientX - r.width - 14);
    if (y + r.height > window.innerHeight - 6) y = Math.max(6, evt.clientY - r.height - 16);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }

  /* ---- wiring ---- */
  function init() {
    EX.forEach(function (ex, i) { ex._i = i; });
    var masks = ["dataset", "sequence", "batch"].filter(function (m) {
      return EX.some(function (ex) { return ex.fk && ex.fk[m]; });
    });
    state.mask = masks.indexOf(META.pool) >= 0 ? META.pool : masks.length ? masks[0] : null;
    var ms = document.getElementById("mask-select");
    masks.concat(["none"]).forEach(function (m) { var o = el("option", null, m); o.value = m; ms.appendChild(o); });
    ms.addEventListener("change", function () { state.mask = ms.value === "none" ? null : ms.value; showExample(state.current); });
    var sc = document.getElementById("scale-select");
    sc.addEventListener("change", function () { state.scale = sc.value; renderLegend(); showExample(state.current); });
    var dots = document.getElementById("dots");
    dots.addEventListener("change", function () { state.dots = dots.checked; showExample(state.current); });
    var filter = document.getElementById("filter");
    filter.addEventListener("input", function () { state.filter = filter.value; renderRows(); });
    document.querySelector("#ex-table tbody").addEventListener("click", function (e) {
      var tr = e.target.closest("tr");
      if (tr) showExample(Number(tr.dataset.i));
    });
    var view = document.getElementById("ex-view");
    view.addEventListener("mouseover", function (e) {
      var sp = e.target.closest && e.target.closest(".tk");
      if (sp) showTip(Number(sp.dataset.i), e); else tip.hidden = true;
    });
    view.addEventListener("mousemove", function (e) { if (!tip.hidden) moveTip(e); });
    view.addEventListener("mouseleave", function () { tip.hidden = true; });
    document.addEventListener("keydown", function (e) {
      if (e.target === filter || (e.key !== "j" && e.key !== "k")) return;
      var pos = state.order.indexOf(state.current) + (e.key === "j" ? 1 : -1);
      if (pos >= 0 && pos < state.order.length) showExample(state.order[pos]);
    });
    renderHeader();
    renderLegend();
    renderTableHead();
    renderRows();
    var want = location.hash.indexOf("#ex=") === 0 ? decodeURIComponent(location.hash.slice(4)) : null;
    var start = want ? EX.findIndex(function (ex) { return ex.id === want; }) : -1;
    if (EX.length) showExample(start >= 0 ? start : 0);
  }
  init();
})();
