// The layer stack: a palette of layer types and the stack as cards (input at the top,
// the head at the bottom). Python owns the stack; this only draws `data` and sends one
// event per user action through the trigger "action":
//   {inserted: {type, at}}  {moved: {from, to}}  {removed: i}  {selected: i}
//   {resized: {index, width}}
// Every label is set with textContent (never innerHTML), so nothing in the data can
// inject markup. The function runs again on every data change: it renders
// idempotently into the one root element of the HTML.

const MIN_FRAC = 0.45; // a card of width 1 fills this share of the track
const STATES = new WeakMap(); // root element -> {data, send, drag, resize, ...}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function fraction(width, maxWidth) {
  const w = Math.min(Math.max(width || 1, 1), maxWidth);
  return MIN_FRAC + (1 - MIN_FRAC) * (Math.log2(w) / Math.log2(maxWidth));
}

function widthAt(frac, snaps, maxWidth) {
  const f = Math.min(Math.max(frac, MIN_FRAC), 1);
  const raw = Math.pow(2, ((f - MIN_FRAC) / (1 - MIN_FRAC)) * Math.log2(maxWidth));
  let best = snaps[0];
  for (const s of snaps) {
    if (Math.abs(Math.log(s) - Math.log(raw)) < Math.abs(Math.log(best) - Math.log(raw))) best = s;
  }
  return best;
}

function stepWidth(width, steps, snaps) {
  if (steps > 0) return snaps.find((s) => s > width) ?? width;
  const narrower = snaps.filter((s) => s < width);
  return narrower.length ? narrower[narrower.length - 1] : width;
}

// The component's words come from Python, in the reader's language (`data.text`);
// the English ones here only stand in until the first data arrives.
const ENGLISH = {
  palette: "Layer palette",
  add_heading: "Add a layer",
  add_note: "drag it into the stack, or click to add it below the selected layer",
  types: "Layer types",
  main: "Layer stack, input at the top",
  keys: "Keys on a card:",
  key_select: "select",
  key_move: "move",
  key_width: "width",
  key_remove: "remove",
  trash: "drop here to remove",
  empty: "The stack is empty: drag a layer here.",
  chip_title: "{title}: {hint}. Drag into the stack, or press to add it below the selected layer.",
  chip_label: "Add {title} below the selected layer",
  residual: "Residual: this layer's input is added to its output",
  units: "units",
  features: "features",
  keeps_width: "keeps width {width}",
  up: "Move layer {i} up (Alt+↑)",
  down: "Move layer {i} down (Alt+↓)",
  remove: "Remove layer {i} (Delete)",
  handle: "Drag to change the width",
  end_label: "{title}: {detail}, shape {shape}",
  card_label: "Layer {i}: {title}{flags}, output {shape}",
  card_label_width: "Layer {i}: {title}, {width} {unit}{flags}, output {shape}",
  list_sep: ", ",
  selected: "selected",
  problem: ". Problem: {error}",
};

// A sentence with its {name} parts filled in.
function say(data, name, parts = {}) {
  const template = (data.text && data.text[name]) || ENGLISH[name];
  return template.replace(/\{(\w+)\}/g, (whole, key) => (key in parts ? String(parts[key]) : whole));
}

function unitWord(data, layer) {
  return say(data, layer.type === "linear" ? "features" : "units");
}

// The fixed words of the HTML (layer_stack.html), in the reader's language.
function renderWords(root, data) {
  root.querySelector(".ls-palette").setAttribute("aria-label", say(data, "palette"));
  root.querySelector(".ls-heading-text").textContent = say(data, "add_heading");
  root.querySelector(".ls-note").textContent = say(data, "add_note");
  root.querySelector(".ls-chips").setAttribute("aria-label", say(data, "types"));
  root.querySelector(".ls-main").setAttribute("aria-label", say(data, "main"));
  root.querySelector(".ls-keys-text").textContent = say(data, "keys");
  for (const name of ["select", "move", "width", "remove"]) {
    root.querySelector(`.ls-key-${name}`).textContent = say(data, `key_${name}`);
  }
  root.querySelector(".ls-trash-text").textContent = say(data, "trash");
}

// --- drawing ---------------------------------------------------------------------
function renderEnd(data, node, end, arrow) {
  node.replaceChildren();
  node.append(el("span", "ls-end-title", end.title), el("span", "ls-end-detail", end.detail));
  node.append(el("span", "ls-shape", end.shape));
  node.setAttribute("aria-label", say(data, "end_label", end));
  if (arrow) node.append(el("span", "ls-end-arrow", arrow));
}

function renderPalette(root, st) {
  const chips = root.querySelector(".ls-chips");
  const language = JSON.stringify(st.data.text || {});
  if (chips.dataset.built === language) return;
  chips.dataset.built = language;
  chips.replaceChildren();
  for (const item of st.data.palette || []) {
    const chip = el("button", `ls-chip-new type-${item.type}`);
    chip.type = "button";
    chip.draggable = true;
    chip.dataset.type = item.type;
    chip.setAttribute("data-testid", `palette-${item.type}`);
    chip.title = say(st.data, "chip_title", item);
    chip.setAttribute("aria-label", say(st.data, "chip_label", item));
    chip.append(el("span", "ls-swatch"), el("span", "ls-chip-title", item.title));
    chips.append(chip);
  }
}

function renderCards(root, st) {
  const data = st.data;
  const list = root.querySelector(".ls-cards");
  const layers = data.layers || [];
  const maxWidth = data.max_width || 1024;
  list.replaceChildren();
  if (!layers.length) {
    const empty = el("li", "ls-empty", say(data, "empty"));
    list.append(empty);
  }
  layers.forEach((layer, i) => {
    const row = el("li", "ls-row");
    row.dataset.index = String(i);
    if (layer.residual) row.classList.add("has-residual");

    const gutter = el("div", "ls-gutter");
    if (layer.residual) {
      const bracket = el("div", "ls-bracket");
      bracket.title = say(data, "residual");
      bracket.append(el("span", "ls-plus", "+"));
      gutter.append(bracket);
    }
    row.append(gutter);

    const track = el("div", "ls-track");
    const card = el("div", `ls-card type-${layer.type}`);
    card.dataset.index = String(i);
    card.setAttribute("data-testid", "ls-card");
    card.setAttribute("data-type", layer.type);
    card.tabIndex = 0;
    card.draggable = true;
    card.setAttribute("role", "button");
    const shown = layer.width ?? layer.in_width;
    card.style.width = `${(fraction(shown, maxWidth) * 100).toFixed(2)}%`;
    const selected = data.selected === i;
    if (selected) card.classList.add("selected");
    card.setAttribute("aria-pressed", selected ? "true" : "false");
    if (layer.frozen) card.classList.add("frozen");
    if (layer.error) card.classList.add("invalid");

    const top = el("div", "ls-card-top");
    top.append(el("span", "ls-index", String(i)), el("span", "ls-type", layer.title));
    const widthBox = el("span", "ls-width");
    if (layer.width !== null && layer.width !== undefined) {
      widthBox.append(el("span", "ls-width-num", layer.width));
      const bi = layer.flags.includes("bi") ? " ×2" : "";
      widthBox.append(el("span", "ls-width-unit", `${unitWord(data, layer)}${bi}`));
    } else {
      widthBox.classList.add("passthrough");
      widthBox.append(el("span", "ls-width-unit", say(data, "keeps_width", { width: layer.in_width })));
    }
    top.append(widthBox, el("span", "ls-spacer"));
    const buttons = [
      ["up", "↑", say(data, "up", { i }), i === 0],
      ["down", "↓", say(data, "down", { i }), i === layers.length - 1],
      ["remove", "×", say(data, "remove", { i }), false],
    ];
    for (const [action, label, title, disabled] of buttons) {
      const b = el("button", `ls-btn ls-${action}`, label);
      b.type = "button";
      b.dataset.action = action;
      b.title = title;
      b.setAttribute("aria-label", title);
      b.setAttribute("data-testid", `ls-${action}`);
      b.tabIndex = -1;
      b.disabled = disabled;
      top.append(b);
    }
    card.append(top);

    const bottom = el("div", "ls-card-bottom");
    layer.flags.forEach((flag, k) => {
      const kind = flag.split(" ")[0];
      const shownFlag = (layer.flag_labels || [])[k] ?? flag;
      bottom.append(el("span", `ls-flag flag-${kind}`, shownFlag));
    });
    bottom.append(el("span", "ls-spacer"));
    bottom.append(el("span", "ls-shape", layer.shape));
    card.append(bottom);

    if (layer.error) {
      const err = el("div", "ls-error", `⚠ ${layer.error}`);
      err.setAttribute("role", "alert");
      card.append(err);
    }
    if (layer.width !== null && layer.width !== undefined) {
      const handle = el("div", "ls-handle");
      handle.title = say(data, "handle");
      handle.setAttribute("data-testid", "ls-handle");
      handle.append(el("span", "ls-grip"));
      card.append(handle);
      card.append(el("div", "ls-bubble"));
    }
    const hasWidth = layer.width !== null && layer.width !== undefined;
    const sep = say(data, "list_sep");
    const flags = (layer.flag_labels || layer.flags).map((f) => sep + f).join("");
    const parts = { i, title: layer.title, width: layer.width, unit: unitWord(data, layer), shape: layer.shape, flags };
    const described = say(data, hasWidth ? "card_label_width" : "card_label", parts);
    card.setAttribute(
      "aria-label",
      described + (selected ? sep + say(data, "selected") : "") + (layer.error ? say(data, "problem", { error: layer.error }) : ""),
    );
    track.append(card);
    row.append(track);
    list.append(row);
  });
}

function render(root, st) {
  const data = st.data;
  renderWords(root, data);
  renderPalette(root, st);
  renderEnd(data, root.querySelector(".ls-input"), data.input || { title: "Input", detail: "", shape: "" }, "");
  renderEnd(data, root.querySelector(".ls-head"), data.head || { title: "Head", detail: "", shape: "" }, "");
  const active = root.getRootNode().activeElement;
  const hadFocus = active && root.contains(active) && active.classList.contains("ls-card");
  renderCards(root, st);
  const full = (data.layers || []).length >= (data.max_layers || 16);
  root.classList.toggle("full", full);
  if ((st.restoreFocus || hadFocus) && data.selected !== null && data.selected !== undefined) {
    const card = root.querySelector(`.ls-card[data-index="${data.selected}"]`);
    if (card) card.focus({ preventScroll: true });
  }
  st.restoreFocus = false;
}

// --- events ----------------------------------------------------------------------
function gapAt(root, clientY) {
  const cards = [...root.querySelectorAll(".ls-card")];
  for (let i = 0; i < cards.length; i++) {
    const r = cards[i].getBoundingClientRect();
    if (clientY < r.top + r.height / 2) return i;
  }
  return cards.length;
}

function showIndicator(root, gap) {
  const indicator = root.querySelector(".ls-indicator");
  const main = root.querySelector(".ls-main");
  const cards = [...root.querySelectorAll(".ls-card")];
  const base = main.getBoundingClientRect();
  let y;
  if (!cards.length) {
    const empty = root.querySelector(".ls-empty") || root.querySelector(".ls-cards");
    const r = empty.getBoundingClientRect();
    y = r.top + r.height / 2;
  } else if (gap < cards.length) {
    y = cards[gap].getBoundingClientRect().top - 6;
  } else {
    y = cards[cards.length - 1].getBoundingClientRect().bottom + 6;
  }
  indicator.style.top = `${y - base.top - 2}px`;
  indicator.classList.add("visible");
}

function hideIndicator(root) {
  root.querySelector(".ls-indicator").classList.remove("visible");
}

function wire(root, st) {
  const send = (event, keyboard = false) => {
    st.seq = (st.seq || 0) + 1;
    if (keyboard) st.restoreFocus = true;
    st.send({ ...event, seq: st.seq });
  };
  const count = () => (st.data.layers || []).length;
  const selected = () => st.data.selected;
  const insertAt = () => (selected() === null || selected() === undefined ? count() : selected() + 1);

  // Palette: click (or Enter/Space, which click a button) adds below the selected layer.
  const chips = root.querySelector(".ls-chips");
  chips.addEventListener("click", (e) => {
    const chip = e.target.closest(".ls-chip-new");
    if (!chip || root.classList.contains("full")) return;
    send({ inserted: { type: chip.dataset.type, at: insertAt() } }, e.detail === 0);
  });
  chips.addEventListener("dragstart", (e) => {
    const chip = e.target.closest(".ls-chip-new");
    if (!chip) return;
    st.drag = { kind: "new", type: chip.dataset.type };
    e.dataTransfer.effectAllowed = "copy";
    e.dataTransfer.setData("text/plain", `layer:${chip.dataset.type}`);
    root.classList.add("dragging");
  });

  // Cards: click selects, buttons move/remove, keys do everything a drag does.
  const list = root.querySelector(".ls-cards");
  list.addEventListener("click", (e) => {
    const card = e.target.closest(".ls-card");
    if (!card || st.justResized) return;
    const i = Number(card.dataset.index);
    const button = e.target.closest(".ls-btn");
    const keyboard = e.detail === 0;
    if (button) {
      e.stopPropagation();
      const action = button.dataset.action;
      if (action === "up" && i > 0) send({ moved: { from: i, to: i - 1 } }, keyboard);
      if (action === "down" && i < count() - 1) send({ moved: { from: i, to: i + 1 } }, keyboard);
      if (action === "remove") send({ removed: i }, keyboard);
      return;
    }
    if (e.target.closest(".ls-handle")) return;
    if (selected() !== i) send({ selected: i }, keyboard);
  });
  list.addEventListener("keydown", (e) => {
    const card = e.target.closest(".ls-card");
    if (!card || e.target !== card) return;
    const i = Number(card.dataset.index);
    const layer = (st.data.layers || [])[i];
    const n = count();
    let handled = true;
    if ((e.key === "ArrowUp" || e.key === "ArrowDown") && e.altKey) {
      const to = e.key === "ArrowUp" ? i - 1 : i + 1;
      if (to >= 0 && to < n) send({ moved: { from: i, to } }, true);
    } else if (e.key === "ArrowUp" || e.key === "PageUp") {
      if (i > 0) send({ selected: i - 1 }, true);
    } else if (e.key === "ArrowDown" || e.key === "PageDown") {
      if (i < n - 1) send({ selected: i + 1 }, true);
    } else if (e.key === "Enter" || e.key === " ") {
      if (selected() !== i) send({ selected: i }, true);
    } else if (e.key === "Delete" || e.key === "Backspace") {
      send({ removed: i }, true);
    } else if ((e.key === "+" || e.key === "=" || e.key === "-" || e.key === "_") && layer?.width) {
      const next = stepWidth(layer.width, e.key === "+" || e.key === "=" ? 1 : -1, st.data.snaps || []);
      if (next !== layer.width) send({ resized: { index: i, width: next } }, true);
    } else {
      handled = false;
    }
    if (handled) e.preventDefault();
  });
  list.addEventListener("dragstart", (e) => {
    const card = e.target.closest(".ls-card");
    if (!card) return;
    if (st.resize) {
      e.preventDefault();
      return;
    }
    st.drag = { kind: "move", index: Number(card.dataset.index) };
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", `card:${card.dataset.index}`);
    card.classList.add("lifted");
    root.classList.add("dragging", "dragging-card");
  });

  // Dropping: into the stack (insert or move), onto the bin or outside (remove).
  const main = root.querySelector(".ls-main");
  main.addEventListener("dragover", (e) => {
    if (!st.drag) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = st.drag.kind === "new" ? "copy" : "move";
    showIndicator(root, gapAt(root, e.clientY));
  });
  main.addEventListener("dragleave", (e) => {
    if (!main.contains(e.relatedTarget)) hideIndicator(root);
  });
  main.addEventListener("drop", (e) => {
    if (!st.drag) return;
    e.preventDefault();
    const gap = gapAt(root, e.clientY);
    const drag = st.drag;
    st.dropped = true;
    hideIndicator(root);
    if (drag.kind === "new") {
      if (!root.classList.contains("full")) send({ inserted: { type: drag.type, at: gap } });
    } else {
      const to = gap > drag.index ? gap - 1 : gap;
      if (to !== drag.index) send({ moved: { from: drag.index, to } });
    }
  });
  const trash = root.querySelector(".ls-trash");
  trash.addEventListener("dragover", (e) => {
    if (st.drag?.kind !== "move") return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    trash.classList.add("over");
  });
  trash.addEventListener("dragleave", () => trash.classList.remove("over"));
  trash.addEventListener("drop", (e) => {
    if (st.drag?.kind !== "move") return;
    e.preventDefault();
    st.dropped = true;
    send({ removed: st.drag.index });
  });
  // Where the pointer was last seen during a drag, anywhere on the page (dragend's own
  // coordinates are not reliable everywhere).
  document.addEventListener("dragover", (e) => {
    if (st.drag) st.lastPoint = { x: e.clientX, y: e.clientY };
  });
  root.addEventListener("dragend", (e) => {
    const drag = st.drag;
    // A card dropped outside the component is removed. (Not dropEffect === "none":
    // the page around the component accepts drops of its own.)
    const point = st.lastPoint;
    if (drag?.kind === "move" && !st.dropped && point) {
      const r = root.getBoundingClientRect();
      const outside = point.x < r.left || point.x > r.right || point.y < r.top || point.y > r.bottom;
      if (outside) send({ removed: drag.index });
    }
    st.lastPoint = null;
    st.drag = null;
    st.dropped = false;
    hideIndicator(root);
    trash.classList.remove("over");
    root.classList.remove("dragging", "dragging-card");
    root.querySelectorAll(".lifted").forEach((c) => c.classList.remove("lifted"));
  });

  // Resizing: drag a card's right edge; the width snaps and shows while dragging.
  list.addEventListener("pointerdown", (e) => {
    const handle = e.target.closest(".ls-handle");
    if (!handle || e.button !== 0) return;
    const card = handle.closest(".ls-card");
    const i = Number(card.dataset.index);
    const layer = st.data.layers[i];
    e.preventDefault();
    e.stopPropagation();
    card.draggable = false;
    handle.setPointerCapture(e.pointerId);
    const track = card.parentElement.getBoundingClientRect();
    st.resize = { index: i, card, track, start: layer.width, width: layer.width, layer };
    card.classList.add("resizing");
    showBubble(st.data, card, layer, layer.width);
  });
  list.addEventListener("pointermove", (e) => {
    const r = st.resize;
    if (!r) return;
    const frac = (e.clientX - r.track.left) / r.track.width;
    const width = widthAt(frac, st.data.snaps || [1, 1024], st.data.max_width || 1024);
    r.width = width;
    r.card.style.width = `${(fraction(width, st.data.max_width || 1024) * 100).toFixed(2)}%`;
    const num = r.card.querySelector(".ls-width-num");
    if (num) num.textContent = String(width);
    showBubble(st.data, r.card, r.layer, width);
  });
  const endResize = () => {
    const r = st.resize;
    if (!r) return;
    st.resize = null;
    r.card.draggable = true;
    r.card.classList.remove("resizing");
    st.justResized = true;
    setTimeout(() => (st.justResized = false), 0);
    if (r.width !== r.start) send({ resized: { index: r.index, width: r.width } });
    else render(root, st); // nothing changed: draw the latest data again
  };
  list.addEventListener("pointerup", endResize);
  list.addEventListener("pointercancel", endResize);
}

function showBubble(data, card, layer, width) {
  const bubble = card.querySelector(".ls-bubble");
  if (bubble) bubble.textContent = `${width} ${unitWord(data, layer)}`;
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(".ls-root"); // from layer_stack.html
  if (!root) {
    console.error("layer_stack: the component's HTML is not mounted");
    return;
  }
  let st = STATES.get(root);
  if (!st) {
    st = { drag: null, resize: null, seq: 0 };
    STATES.set(root, st);
    st.data = data || {};
    wire(root, st);
  }
  st.data = data || {};
  st.send = (value) => setTriggerValue("action", value);
  if (!st.resize) render(root, st);
}
