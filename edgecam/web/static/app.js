// The overview: a live view per camera (layers chosen by the toggles), rule states and counts,
// the newest events.
"use strict";
const cards = new Map();
const LAYERS_KEY = "edgecam.layers";

function layers() {
  return [...document.querySelectorAll("#layers input:checked")].map((i) => i.value).join(",");
}

function liveUrl(cam) { return `${cam.latest}?layers=${layers()}`; }

function cameraCard(cam, fps) {
  const img = edgecam.el("img", { alt: `live view of ${cam.name}; select for full screen`, "data-camera": cam.name, tabindex: "0", role: "button" });
  const meta = edgecam.el("div", { class: "meta" });
  const link = edgecam.el("a", { href: `/editor?camera=${encodeURIComponent(cam.name)}`, text: "edit zones, lines, masks" });
  const card = edgecam.el("article", { class: "card", id: `camera-${cam.name}` },
    edgecam.el("h2", { text: cam.name }), img, meta, link);
  const toggle = () => {
    const full = card.classList.toggle("full");
    img.setAttribute("aria-pressed", String(full));
  };
  img.addEventListener("click", toggle);
  img.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " " || (e.key === "Escape" && card.classList.contains("full"))) { e.preventDefault(); toggle(); } });
  document.getElementById("cameras").append(card);
  const entry = { card, meta, url: liveUrl(cam) };
  edgecam.live(img, () => entry.url, fps);
  return entry;
}

function showCamera(cam, unreviewed, rules) {
  const entry = cards.get(cam.name) || cameraCard(cam, edgecam.session.stream_fps);
  cards.set(cam.name, entry);
  entry.url = liveUrl(cam);
  const ok = cam.status === "running";
  const open = unreviewed[cam.name] || 0;
  const parts = [
    edgecam.el("span", { class: `pill ${ok ? "ok" : "bad"}`, text: cam.status }),
    edgecam.el("span", { text: `${cam.fps} fps` }),
    edgecam.el("span", { text: `detector ${cam.detector} (${cam.runtime})` }),
    edgecam.el("span", { text: [edgecam.plural(Object.keys(cam.zones).length, "zone"), edgecam.plural(Object.keys(cam.lines).length, "line"), edgecam.plural(cam.masks.length, "mask")].join(", ") }),
  ];
  for (const r of rules.filter((x) => x.camera === cam.name && (x.in != null || x.out != null))) {
    parts.push(edgecam.el("span", { class: "line-count", text: `${r.name}: ${countText(r)}` }));
  }
  if (edgecam.session.events_kept) {
    parts.push(edgecam.el("a", { href: `/events?camera=${encodeURIComponent(cam.name)}&reviewed=false`, class: "unreviewed", text: `${open} unreviewed` }));
  }
  entry.meta.replaceChildren(...parts);
  document.getElementById("cameras").classList.toggle("one", cards.size === 1);
}

function countText(r) {
  if (r.in == null && r.out == null) return r.count ?? "";
  const bits = [];
  if (r.in != null) bits.push(`in ${r.in}`);
  if (r.out != null) bits.push(`out ${r.out}`);
  return `${bits.join(" · ")} · total ${r.count}`;
}

function showRules(rules) {
  const rows = rules.map((r) => edgecam.el("tr", {},
    edgecam.el("td", { text: r.camera }), edgecam.el("td", { text: r.name }), edgecam.el("td", { text: r.kind }),
    edgecam.el("td", {}, r.state ? edgecam.el("span", { class: `pill ${r.state}`, text: r.state }) : ""),
    edgecam.el("td", { text: countText(r) })));
  document.getElementById("rules").replaceChildren(...rows);
}

function showEvents(events) {
  if (!events.length) return;
  const items = events.map((e) => {
    const link = edgecam.el("a", { href: `/events?event=${encodeURIComponent(e.id)}`, text: `${edgecam.when(e.ts)} ${e.camera}/${e.rule}` });
    const node = edgecam.el("div", { class: "event" }, link, edgecam.el("div", { class: "muted", text: edgecam.what(e) }));
    if (e.snapshot) node.append(edgecam.el("img", { src: e.snapshot, alt: `snapshot of ${e.rule}`, loading: "lazy" }));
    return node;
  });
  document.getElementById("events").replaceChildren(...items);
}

async function refresh() {
  try {
    const [cams, rules, events, health, summary] = await Promise.all([
      edgecam.get("/api/cameras"), edgecam.get("/api/rules"), edgecam.get("/api/events?limit=6"),
      fetch("/healthz", { cache: "no-store" }).then((r) => r.json()),
      edgecam.session.events_kept ? edgecam.get("/api/events/summary") : Promise.resolve({ unreviewed: {} }),
    ]);
    cams.cameras.forEach((c) => showCamera(c, summary.unreviewed, rules.rules));
    showRules(rules.rules);
    showEvents(events.events);
    const pill = document.getElementById("health");
    pill.textContent = health.status;
    pill.className = `pill ${health.status === "ok" ? "ok" : "bad"}`;
    document.getElementById("reason").textContent = health.status === "ok" ? "" : health.reason;
  } catch (err) {
    document.getElementById("reason").textContent = `cannot reach the service (${err.message})`;
  }
  setTimeout(refresh, 2000);
}

function setupLayers() {
  const saved = localStorage.getItem(LAYERS_KEY);
  const boxes = document.querySelectorAll("#layers input");
  if (saved !== null) for (const b of boxes) b.checked = saved.split(",").includes(b.value);
  for (const b of boxes) {
    b.addEventListener("change", () => {
      localStorage.setItem(LAYERS_KEY, layers());
      for (const [, entry] of cards) entry.url = entry.url.replace(/layers=[^&]*/, `layers=${layers()}`);
    });
  }
}

setupLayers();
edgecam.init().then((s) => { document.getElementById("device").textContent = s.device; refresh(); });
