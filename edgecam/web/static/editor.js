// The editor: draw zones, directed lines and masks on a camera's frame; see YAML; apply it.
"use strict";
const SVG = "http://www.w3.org/2000/svg";
const state = { camera: null, size: [1, 1], zones: {}, lines: {}, masks: [], mode: "zone",
                drawing: [], frozen: false, drag: null, saved: "", invalid: new Map() };
const TOUCH_PX = 14;  // the radius of a corner handle on screen: a 28 px target (WCAG: 24), even on a phone
const $ = (id) => document.getElementById(id);
const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}
const px = (p) => [p[0] * state.size[0], p[1] * state.size[1]];
const pointsAttr = (pts) => pts.map((p) => px(p).join(",")).join(" ");

// Frame units per CSS pixel, so handles keep their size on screen whatever the frame's size.
function unitsPerPx() {
  const width = $("overlay").getBoundingClientRect().width;
  return width > 0 ? state.size[0] / width : 1;
}

function vertices(layer, pts, kind, key) {
  const r = TOUCH_PX * unitsPerPx();
  pts.forEach((p, i) => {
    const [x, y] = px(p);
    layer.append(svg("circle", { cx: x, cy: y, r, class: "vertex", "data-kind": kind, "data-key": key, "data-index": i }));
  });
}

function arrow(layer, a, b) {
  // Towards the right of a->b (y down): the side a crossing "in" ends on.
  const [ax, ay] = px(a), [bx, by] = px(b);
  const len = Math.hypot(bx - ax, by - ay) || 1, k = Math.max(state.size[0], state.size[1]) / 20;
  const mx = (ax + bx) / 2, my = (ay + by) / 2, tx = mx - ((by - ay) / len) * k, ty = my + ((bx - ax) / len) * k;
  layer.append(svg("line", { x1: mx, y1: my, x2: tx, y2: ty, class: "line", "stroke-width": 3 }));
  layer.append(svg("circle", { cx: tx, cy: ty, r: k / 6, class: "arrow-tip" }));
  layer.append(svg("text", { x: tx + 4, y: ty }, "in"));
}

function render() {
  const layer = $("overlay");
  layer.setAttribute("viewBox", `0 0 ${state.size[0]} ${state.size[1]}`);
  layer.replaceChildren();
  const sw = Math.max(state.size[0], state.size[1]) / 300;
  const bad = (key) => (state.invalid.has(key) ? " invalid" : "");
  state.masks.forEach((pts, i) => {
    layer.append(svg("polygon", { points: pointsAttr(pts), class: `mask${bad(`masks.${i}`)}`, "stroke-width": sw }));
    problem(layer, `masks.${i}`, pts);
    vertices(layer, pts, "masks", i);
  });
  for (const [name, pts] of Object.entries(state.zones)) {
    layer.append(svg("polygon", { points: pointsAttr(pts), class: `zone${bad(`zones.${name}`)}`, "stroke-width": sw, "data-zone": name }));
    const [x, y] = px(pts[0]);
    layer.append(svg("text", { x: x + 6, y: y - 6 }, name));
    problem(layer, `zones.${name}`, pts);
    vertices(layer, pts, "zones", name);
  }
  for (const [name, pts] of Object.entries(state.lines)) {
    const [a, b] = [px(pts[0]), px(pts[1])];
    layer.append(svg("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1], class: `line${bad(`lines.${name}`)}`, "stroke-width": sw * 1.5 }));
    arrow(layer, pts[0], pts[1]);
    layer.append(svg("text", { x: a[0] + 6, y: a[1] + 18 }, name));
    problem(layer, `lines.${name}`, pts);
    vertices(layer, pts, "lines", name);
  }
  if (state.drawing.length) {
    const tag = state.mode === "line" ? "polyline" : "polygon";
    layer.append(svg(tag, { points: pointsAttr(state.drawing), class: "drawing", "stroke-width": sw }));
    vertices(layer, state.drawing, "drawing", "");
  }
  const n = state.drawing.length;
  $("finish").disabled = !(state.mode !== "line" && n >= 3);
  $("finish-reason").textContent = state.mode !== "line" && n > 0 && n < 3
    ? `A ${state.mode} needs at least 3 corners to finish: ${n} so far.` : "";
  $("cancel").disabled = !n;
  $("undo").disabled = !n;
  const blocked = applyBlocker();
  $("apply").disabled = blocked !== "";
  $("apply-reason").textContent = blocked;
  renderShapes();
  $("yaml").textContent = yaml();
}

// A refusal's problem, written on the drawing next to the shape it is about.
function problem(layer, key, pts) {
  if (!state.invalid.has(key)) return;
  const [x, y] = px(pts[0]);
  layer.append(svg("text", { x: x + 6, y: y + 22 * unitsPerPx(), class: "problem" }, `⚠ ${state.invalid.get(key)}`));
}

function areas() {
  return { zones: state.zones, lines: state.lines, masks: state.masks };
}

// Why Apply cannot be pressed now, in words shown next to it ("" when it can).
function applyBlocker() {
  if (!edgecam.session || !edgecam.session.config_write) {
    return "Apply is off: this service does not write its config (start it with --config FILE and http.allow_config_write: true). Copy the YAML instead.";
  }
  const n = state.drawing.length;
  if (n && state.mode === "line") return "The line being drawn has 1 point; tap its second point, or Cancel.";
  if (n && n < 3) return `The ${state.mode} being drawn has ${n} point${n === 1 ? "" : "s"}; a ${state.mode} needs at least 3. Add ${3 - n} more, or Undo or Cancel.`;
  if (n) return `Finish the ${state.mode} being drawn first (Finish shape, or tap its first corner).`;
  if (JSON.stringify(areas()) === state.saved) return "Nothing changed: draw, move or delete a shape to apply.";
  return "";
}

function fmt(pts) { return `[${pts.map((p) => `[${p[0]}, ${p[1]}]`).join(", ")}]`; }

function yaml() {
  const out = ["cameras:", `  ${state.camera}:`];
  const zones = Object.entries(state.zones), lines = Object.entries(state.lines);
  if (zones.length) out.push("    zones:", ...zones.map(([n, p]) => `      ${n}: {polygon: ${fmt(p)}}`));
  if (lines.length) out.push("    lines:", ...lines.map(([n, p]) => `      ${n}: {points: ${fmt(p)}}`));
  if (state.masks.length) out.push("    masks:", ...state.masks.map((p) => `      - {polygon: ${fmt(p)}}`));
  return out.join("\n") + "\n";
}

function renderShapes() {
  const items = [];
  const item = (label, onDelete, extra) => {
    const del = edgecam.el("button", { text: "delete", "aria-label": `delete ${label}` });
    del.onclick = () => { onDelete(); state.invalid.clear(); render(); };
    const li = edgecam.el("li", {}, edgecam.el("span", { text: label }), del);
    if (extra) li.append(extra);
    items.push(li);
  };
  for (const name of Object.keys(state.zones)) item(`zone ${name}`, () => delete state.zones[name]);
  for (const name of Object.keys(state.lines)) {
    const flip = edgecam.el("button", { text: "reverse", "aria-label": `reverse line ${name}` });
    flip.onclick = () => { state.lines[name].reverse(); render(); };
    item(`line ${name}`, () => delete state.lines[name], flip);
  }
  state.masks.forEach((_, i) => item(`mask ${i + 1}`, () => state.masks.splice(i, 1)));
  $("shapes").replaceChildren(...items);
}

function newName(kind, taken) {
  const wanted = $("shape-name").value.trim();
  if (wanted) return wanted;
  let i = 1;
  while (`${kind}${i}` in taken) i += 1;
  return `${kind}${i}`;
}

function finish() {
  const pts = state.drawing;
  if (state.mode === "zone" && pts.length >= 3) state.zones[newName("zone", state.zones)] = pts;
  else if (state.mode === "mask" && pts.length >= 3) state.masks.push(pts);
  else if (state.mode === "line" && pts.length === 2) state.lines[newName("line", state.lines)] = pts;
  else return;
  state.drawing = [];
  $("shape-name").value = "";
  render();
}

function undo() {
  state.drawing.pop();
  render();
}

function toNorm(evt) {
  const rect = $("overlay").getBoundingClientRect();
  return [round((evt.clientX - rect.left) / rect.width), round((evt.clientY - rect.top) / rect.height)];
}

function target(kind, key) {
  if (kind === "drawing") return state.drawing;
  if (kind === "masks") return state.masks[Number(key)];
  return state[kind][key];
}

function onDown(evt) {
  const v = evt.target.closest("circle.vertex");
  if (v && v.dataset.kind === "drawing" && v.dataset.index === "0" && state.drawing.length >= 3) {
    finish();
    return;
  }
  if (v) {
    state.drag = { pts: target(v.dataset.kind, v.dataset.key), index: Number(v.dataset.index) };
    $("overlay").setPointerCapture(evt.pointerId);
    return;
  }
  state.drawing.push(toNorm(evt));
  if (state.mode === "line" && state.drawing.length === 2) finish();
  else render();
}

function onMove(evt) {
  if (!state.drag) return;
  state.drag.pts[state.drag.index] = toNorm(evt);
  state.invalid.clear();  // the marks were about the shapes as they were sent
  render();
}

function setMode(mode) {
  state.mode = mode;
  state.drawing = [];
  for (const b of document.querySelectorAll("[data-mode]")) b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
  render();
}

// "edgecam.yaml:12: cameras.porch.zones.door.polygon: why" -> ["zones.door", "polygon: why"].
function locate(message) {
  const text = message.replace(/^[^\s:]*:\d+: /, "");
  const prefix = `cameras.${state.camera}.`;
  if (!text.startsWith(prefix)) return [null, text];
  const m = /^(zones|lines)\.([^.:]+)|^(masks)\.(\d+)/.exec(text.slice(prefix.length));
  if (!m) return [null, text.slice(prefix.length)];
  const key = m[1] ? `${m[1]}.${m[2]}` : `masks.${m[4]}`;
  return [key, text.slice(prefix.length + m[0].length).replace(/^[.:]\s*/, "")];
}

const KIND = { zones: "zone", lines: "line", masks: "mask" };

function showResult(result, okText) {
  const errors = (result.data && result.data.errors) || (result.data.error ? [result.data.error] : []);
  state.invalid = new Map();
  const items = errors.map((e) => {
    const [key, why] = locate(e);
    if (!key) return edgecam.el("li", { text: why });
    const [kind, name] = key.split(".");
    const label = kind === "masks" ? `mask ${Number(name) + 1}` : `${KIND[kind]} ${name}`;
    state.invalid.set(key, why);
    return edgecam.el("li", { text: `${label}: ${why}` });
  });
  $("errors").replaceChildren(...items);
  $("status").textContent = result.status === 200 ? okText : `refused (${result.status}): see the marked shapes`;
  render();
}

function edit() {
  return { camera: state.camera, ...areas() };
}

async function load(camera) {
  const cam = await edgecam.get(`/api/cameras/${encodeURIComponent(camera)}`);
  Object.assign(state, { camera, zones: cam.zones, lines: cam.lines, masks: cam.masks, drawing: [] });
  state.saved = JSON.stringify(areas());
  if (cam.size) state.size = cam.size;
  render();
}

async function main() {
  await edgecam.init();
  const { cameras } = await edgecam.get("/api/cameras");
  const wanted = new URLSearchParams(location.search).get("camera");
  const select = $("camera");
  for (const cam of cameras) select.append(edgecam.el("option", { value: cam.name, text: cam.name }));
  select.value = cameras.some((c) => c.name === wanted) ? wanted : cameras[0].name;
  select.onchange = () => { history.replaceState(null, "", `?camera=${select.value}`); load(select.value); };
  await load(select.value);
  const img = $("frame");
  img.onload = () => {
    if (img.naturalWidth && (state.size[0] !== img.naturalWidth || state.size[1] !== img.naturalHeight)) {
      state.size = [img.naturalWidth, img.naturalHeight];
      render();
    }
  };
  edgecam.live(img, `/cameras/${encodeURIComponent(state.camera)}/latest.jpg?overlay=0`, edgecam.session.stream_fps, () => state.frozen);
  const overlay = $("overlay");
  overlay.addEventListener("pointerdown", onDown);
  overlay.addEventListener("pointermove", onMove);
  overlay.addEventListener("pointerup", () => { state.drag = null; });
  for (const b of document.querySelectorAll("[data-mode]")) b.onclick = () => setMode(b.dataset.mode);
  $("finish").onclick = finish;
  $("cancel").onclick = () => { state.drawing = []; render(); };
  $("undo").onclick = undo;
  window.addEventListener("resize", render);
  $("freeze").onclick = () => {
    state.frozen = !state.frozen;
    $("freeze").setAttribute("aria-pressed", String(state.frozen));
    $("freeze").textContent = state.frozen ? "Live" : "Freeze frame";
  };
  $("copy").onclick = () => navigator.clipboard && navigator.clipboard.writeText(yaml());
  $("validate").onclick = async () => showResult(await edgecam.post("/api/config/validate", edit()), "valid");
  $("apply").onclick = async () => {
    if (applyBlocker()) return;  // the reason is on the page, next to the button
    $("status").textContent = "applying…";
    const result = await edgecam.post("/api/config/apply", edit());
    const done = !result.data.written ? "nothing changed: nothing written"
      : result.data.applied ? "applied: the service reloaded" : "written, but the service kept its running config (see its log)";
    showResult(result, done);
    if (result.status === 200) setTimeout(() => load(state.camera), 500);
  };
  render();
}

main();
