// A line chart on a canvas, for curves that change at every poll (see __init__.py).
// `data` is a designer.figures.curves.Chart:
//   {title, x_title, y_title, log, height,
//    series: [{name, x, y, color, mode, width, dash, symbol, size}],
//    hlines: [{y, color, dash, label}],
//    words: {step, value, described, empty, separator, hover}}
// `words` are the read-out's sentences in the reader's language, from Python (the
// English ones below when absent), with {name}-style places for the numbers.
// A y value may be null (a gap). x values are training steps, in increasing order.
// The function runs again on every data change: it keeps one state per root element
// and redraws. Labels are drawn on the canvas or set with textContent, never as HTML.

const STATES = new WeakMap(); // root element -> {root, canvas, tip, data, hover}
const DASHES = { solid: [], dash: [6, 4], dot: [2, 3] };
const TOP = 56; // title and (one line of) legend above the plot
const LEGEND_LINE = 18; // each further line of legend
const RIGHT = 14;
const BOTTOM = 40; // tick labels and the x title below it
const GRID = "rgba(128, 128, 128, 0.18)";
const WORDS = {
  step: "step {step}",
  value: "{name} {value} at step {step}",
  described: "{title}: {values}",
  empty: "{title}: no data yet",
  separator: ", ",
  hover: "{name}: {value}",
};

function say(data, which, parts) {
  const template = (data.words && data.words[which]) || WORDS[which];
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    name in parts ? String(parts[name]) : whole,
  );
}

export default function ({ data, parentElement }) {
  const root = parentElement.querySelector(".live-chart");
  let state = STATES.get(root);
  if (!state) {
    state = {
      root,
      canvas: root.querySelector("canvas"),
      tip: root.querySelector(".tip"),
      hover: null,
    };
    state.canvas.addEventListener("mousemove", (event) => {
      state.hover = event.offsetX;
      draw(state);
    });
    state.canvas.addEventListener("mouseleave", () => {
      state.hover = null;
      draw(state);
    });
    new ResizeObserver(() => draw(state)).observe(root);
    STATES.set(root, state);
  }
  state.data = data;
  root.setAttribute("aria-label", describe(data));
  draw(state);
}

// --- numbers -----------------------------------------------------------------------

function format(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace("e+", "e");
  return String(Number(v.toPrecision(4)));
}

function formatStep(v) {
  return Math.abs(v) >= 1000 ? `${Number((v / 1000).toPrecision(3))}k` : String(Math.round(v));
}

function niceStep(span, count) {
  const raw = span / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / power;
  return (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * power;
}

function linearTicks(lo, hi, count) {
  const step = niceStep(hi - lo, count);
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return ticks;
}

// Ticks of a log axis, as values (not exponents): decades, with 2 and 5 (and 3)
// between them when the axis spans only a decade or two.
function logTicks(lo, hi) {
  const first = Math.floor(lo);
  const last = Math.ceil(hi);
  const every = Math.max(1, Math.ceil((last - first) / 7));
  const span = hi - lo;
  const mantissas = span < 1 ? [1, 2, 3, 5] : span < 2.5 ? [1, 2, 5] : [1];
  const ticks = [];
  for (let e = first; e <= last; e += every) {
    for (const m of mantissas) {
      const t = Math.log10(m) + e;
      if (t >= lo && t <= hi) ticks.push(m * Math.pow(10, e));
    }
  }
  return ticks;
}

// The plotted ranges: x from step 0 to the last step; y around every value and
// reference line (in log10 units on a log axis), with a margin.
function ranges(data) {
  const ty = data.log ? Math.log10 : (v) => v;
  let x1 = 1;
  let y0 = Infinity;
  let y1 = -Infinity;
  const take = (y) => {
    if (y === null || !Number.isFinite(y) || (data.log && y <= 0)) return;
    y0 = Math.min(y0, ty(y));
    y1 = Math.max(y1, ty(y));
  };
  for (const s of data.series) {
    if (s.x.length) x1 = Math.max(x1, s.x[s.x.length - 1]);
    s.y.forEach(take);
  }
  data.hlines.forEach((h) => take(h.y));
  if (y0 === Infinity) [y0, y1] = data.log ? [-1, 0] : [0, 1];
  if (y1 - y0 < 1e-12) {
    const pad = data.log ? 0.5 : Math.abs(y0) * 0.1 || 1;
    y0 -= pad;
    y1 += pad;
  }
  const margin = (y1 - y0) * 0.06;
  return { x0: 0, x1, y0: y0 - margin, y1: y1 + margin, ty };
}

// The point of `s` whose step is nearest to `x` (steps are sorted: binary search).
function nearest(s, x) {
  let lo = 0;
  let hi = s.x.length - 1;
  if (hi < 0) return -1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (s.x[mid] < x) lo = mid;
    else hi = mid;
  }
  return Math.abs(s.x[lo] - x) <= Math.abs(s.x[hi] - x) ? lo : hi;
}

function describe(data) {
  const parts = data.series
    .filter((s) => s.x.length && s.y[s.y.length - 1] !== null)
    .map((s) =>
      say(data, "value", {
        name: s.name,
        value: format(s.y[s.y.length - 1]),
        step: s.x[s.x.length - 1],
      }),
    );
  if (!parts.length) return say(data, "empty", { title: data.title });
  const separator = (data.words && data.words.separator) || WORDS.separator;
  return say(data, "described", { title: data.title, values: parts.join(separator) });
}

// --- drawing -----------------------------------------------------------------------

function draw(state) {
  const { root, canvas, data } = state;
  if (!data) return;
  const width = root.clientWidth || 600;
  const height = data.height || 260;
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.height = `${height}px`;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const style = getComputedStyle(root);
  const ink = style.color;
  const font = style.fontFamily;

  const r = ranges(data);
  const yTicks = data.log ? logTicks(r.y0, r.y1) : linearTicks(r.y0, r.y1, 5);
  const rows = legendRows(ctx, data, width, font);
  ctx.font = `12px ${font}`;
  const labelWidth = Math.max(0, ...yTicks.map((t) => ctx.measureText(format(t)).width));
  const box = {
    left: 26 + labelWidth + 6,
    right: width - RIGHT,
    top: TOP + (rows.length - 1) * LEGEND_LINE,
    bottom: height - BOTTOM,
  };
  const px = (x) => box.left + ((x - r.x0) / (r.x1 - r.x0)) * (box.right - box.left);
  const py = (y) => box.bottom - ((r.ty(y) - r.y0) / (r.y1 - r.y0)) * (box.bottom - box.top);

  drawHeader(ctx, data, rows, font, ink);
  drawAxes(ctx, data, box, r, yTicks, px, py, font, ink);

  ctx.save();
  ctx.beginPath();
  ctx.rect(box.left, box.top, box.right - box.left, box.bottom - box.top);
  ctx.clip();
  for (const h of data.hlines) drawHline(ctx, h, box, py, font);
  for (const s of data.series) drawSeries(ctx, s, px, py, data.log);
  ctx.restore();

  drawHover(state, ctx, box, r, px, py);
}

// The legend: one entry per series and reference line, wrapped onto as many lines
// as the width needs (a run and its variant name four series).
function legendRows(ctx, data, width, font) {
  ctx.font = `12px ${font}`;
  const entries = [
    ...data.series.map((s) => ({ ...s, line: s.mode !== "markers" })),
    ...data.hlines.map((h) => ({ ...h, name: h.label, width: 1.5, line: true, mode: "lines" })),
  ];
  const rows = [[]];
  let x = 8;
  for (const e of entries) {
    const w = ctx.measureText(e.name).width + 34;
    if (x + w > width - 8 && x > 8) {
      rows.push([]);
      x = 8;
    }
    rows[rows.length - 1].push({ e, x });
    x += w;
  }
  return rows;
}

function drawHeader(ctx, data, rows, font, ink) {
  ctx.fillStyle = ink;
  ctx.font = `600 15px ${font}`;
  ctx.textBaseline = "alphabetic";
  ctx.textAlign = "left";
  ctx.fillText(data.title, 8, 18);
  ctx.font = `12px ${font}`;
  rows.forEach((row, i) => {
    const y = 38 + i * LEGEND_LINE;
    for (const { e, x } of row) {
      ctx.strokeStyle = e.color;
      ctx.fillStyle = e.color;
      if (e.line) {
        ctx.lineWidth = Math.max(e.width, 2);
        ctx.setLineDash(DASHES[e.dash] || []);
        ctx.beginPath();
        ctx.moveTo(x, y);
        ctx.lineTo(x + 20, y);
        ctx.stroke();
        ctx.setLineDash([]);
      }
      if (e.mode !== "lines") marker(ctx, e, x + 10, y);
      ctx.fillStyle = ink;
      ctx.fillText(e.name, x + 26, y + 4);
    }
  });
}

function drawAxes(ctx, data, box, r, yTicks, px, py, font, ink) {
  ctx.lineWidth = 1;
  ctx.font = `12px ${font}`;
  ctx.fillStyle = ink;
  ctx.strokeStyle = GRID;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of yTicks) {
    const y = Math.round(py(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(box.left, y);
    ctx.lineTo(box.right, y);
    ctx.stroke();
    ctx.fillText(format(t), box.left - 6, y);
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const xTicks = linearTicks(r.x0, r.x1, Math.max(2, Math.floor((box.right - box.left) / 90)));
  for (const t of xTicks.filter((t) => Number.isInteger(Math.round(t * 1e6) / 1e6))) {
    const x = Math.round(px(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(x, box.top);
    ctx.lineTo(x, box.bottom);
    ctx.stroke();
    ctx.fillText(formatStep(t), x, box.bottom + 5);
  }
  ctx.fillText(data.x_title, (box.left + box.right) / 2, box.bottom + 22);
  ctx.save();
  ctx.translate(10, (box.top + box.bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(data.y_title, 0, -6);
  ctx.restore();
}

function drawHline(ctx, h, box, py, font) {
  if (h.y === null || !Number.isFinite(py(h.y))) return;
  const y = py(h.y);
  ctx.strokeStyle = h.color;
  ctx.lineWidth = 1.5;
  ctx.setLineDash(DASHES[h.dash] || []);
  ctx.beginPath();
  ctx.moveTo(box.left, y);
  ctx.lineTo(box.right, y);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = h.color;
  ctx.font = `11px ${font}`;
  ctx.textAlign = "left";
  ctx.textBaseline = "bottom";
  ctx.fillText(`${h.label} ${format(h.y)}`, box.left + 4, y - 2);
}

function usable(y, log) {
  return y !== null && Number.isFinite(y) && !(log && y <= 0);
}

function drawSeries(ctx, s, px, py, log) {
  ctx.strokeStyle = s.color;
  ctx.fillStyle = s.color;
  if (s.mode !== "markers") {
    ctx.lineWidth = s.width;
    ctx.lineJoin = "round";
    ctx.setLineDash(DASHES[s.dash] || []);
    ctx.beginPath();
    let pen = false; // a gap (null, or not positive on a log axis) lifts the pen
    for (let i = 0; i < s.x.length; i++) {
      if (!usable(s.y[i], log)) {
        pen = false;
        continue;
      }
      if (pen) ctx.lineTo(px(s.x[i]), py(s.y[i]));
      else ctx.moveTo(px(s.x[i]), py(s.y[i]));
      pen = true;
    }
    ctx.stroke();
    ctx.setLineDash([]);
  }
  if (s.mode !== "lines") {
    for (let i = 0; i < s.x.length; i++) {
      if (usable(s.y[i], log)) marker(ctx, s, px(s.x[i]), py(s.y[i]));
    }
  }
}

function marker(ctx, s, x, y) {
  const h = (s.size || 6) / 2;
  if (s.symbol === "x") {
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(x - h, y - h);
    ctx.lineTo(x + h, y + h);
    ctx.moveTo(x - h, y + h);
    ctx.lineTo(x + h, y - h);
    ctx.stroke();
  } else {
    ctx.beginPath();
    ctx.arc(x, y, h, 0, 2 * Math.PI);
    ctx.fill();
  }
}

// Under the pointer: a vertical line at the nearest recorded step, a dot on each
// series there, and a read-out of their values.
function drawHover(state, ctx, box, r, px, py) {
  const { tip, data, hover } = state;
  if (hover === null || hover < box.left || hover > box.right) {
    tip.hidden = true;
    return;
  }
  const xAt = r.x0 + ((hover - box.left) / (box.right - box.left)) * (r.x1 - r.x0);
  const hits = [];
  let step = null;
  for (const s of data.series) {
    const i = nearest(s, xAt);
    if (i < 0) continue;
    if (step === null || Math.abs(s.x[i] - xAt) < Math.abs(step - xAt)) step = s.x[i];
  }
  if (step === null) {
    tip.hidden = true;
    return;
  }
  for (const s of data.series) {
    const i = nearest(s, step);
    if (i >= 0 && usable(s.y[i], data.log)) hits.push({ s, x: s.x[i], y: s.y[i] });
  }
  const x = px(step);
  ctx.strokeStyle = GRID;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(x, box.top);
  ctx.lineTo(x, box.bottom);
  ctx.stroke();
  for (const h of hits) {
    ctx.fillStyle = h.s.color;
    ctx.beginPath();
    ctx.arc(px(h.x), py(h.y), 3.5, 0, 2 * Math.PI);
    ctx.fill();
  }
  tip.replaceChildren();
  const head = document.createElement("div");
  head.textContent = say(data, "step", { step: Math.round(step).toLocaleString("en-US") });
  tip.append(head);
  for (const h of hits) {
    const row = document.createElement("div");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = h.s.color;
    row.append(swatch, say(data, "hover", { name: h.s.name, value: format(h.y) }));
    tip.append(row);
  }
  tip.hidden = false;
  const left = x + 12 + tip.offsetWidth > box.right ? x - 12 - tip.offsetWidth : x + 12;
  tip.style.left = `${Math.max(0, left)}px`;
  tip.style.top = `${box.top}px`;
}
