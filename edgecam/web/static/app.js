// The overview: a live view per camera, rule states and counts, recent events.
"use strict";
const cards = new Map();

function cameraCard(cam, fps) {
  const img = edgecam.el("img", { alt: `live view of ${cam.name}`, "data-camera": cam.name });
  const meta = edgecam.el("div", { class: "meta" });
  const link = edgecam.el("a", { href: `/editor?camera=${encodeURIComponent(cam.name)}`, text: "edit zones, lines, masks" });
  const card = edgecam.el("article", { class: "card", id: `camera-${cam.name}` },
    edgecam.el("h2", { text: cam.name }), img, meta, link);
  document.getElementById("cameras").append(card);
  edgecam.live(img, cam.latest, fps);
  return { card, meta };
}

function showCamera(cam) {
  const entry = cards.get(cam.name) || cameraCard(cam, edgecam.session.stream_fps);
  cards.set(cam.name, entry);
  const ok = cam.status === "running";
  entry.meta.replaceChildren(
    edgecam.el("span", { class: `pill ${ok ? "ok" : "bad"}`, text: cam.status }),
    edgecam.el("span", { text: `${cam.fps} fps` }),
    edgecam.el("span", { text: `detector ${cam.detector} (${cam.runtime})` }),
    edgecam.el("span", { text: `${Object.keys(cam.zones).length} zones, ${Object.keys(cam.lines).length} lines, ${cam.masks.length} masks` }),
  );
}

function showRules(rules) {
  const rows = rules.map((r) => edgecam.el("tr", {},
    edgecam.el("td", { text: r.camera }), edgecam.el("td", { text: r.name }), edgecam.el("td", { text: r.kind }),
    edgecam.el("td", {}, r.state ? edgecam.el("span", { class: `pill ${r.state}`, text: r.state }) : ""),
    edgecam.el("td", { text: r.count ?? "" })));
  document.getElementById("rules").replaceChildren(...rows);
}

function showEvents(events) {
  if (!events.length) return;
  const items = events.map((e) => {
    const what = [e.type, e.label, e.sub_label ? `(${e.sub_label})` : "", e.track_id != null ? `#${e.track_id}` : "", e.direction || "", e.count != null ? `count ${e.count}` : ""];
    const node = edgecam.el("div", { class: "event" },
      edgecam.el("div", { text: `${e.ts.replace("T", " ").replace("Z", "")} ${e.camera}/${e.rule}` }),
      edgecam.el("div", { class: "muted", text: what.filter(Boolean).join(" ") }));
    if (e.snapshot) node.append(edgecam.el("img", { src: e.snapshot, alt: `snapshot of ${e.rule}`, loading: "lazy" }));
    if (e.clip && e.clip.status === "ready") {
      const note = e.clip.truncated && e.clip.truncated.length ? ` (${e.clip.truncated.join("; ")})` : "";
      node.append(edgecam.el("a", { href: e.clip.url, text: `clip, ${e.clip.duration_s} s${note}` }));
    } else if (e.clip) {
      node.append(edgecam.el("div", { class: "muted", text: `clip ${e.clip.status}` }));
    }
    return node;
  });
  document.getElementById("events").replaceChildren(...items);
}

async function refresh() {
  try {
    const [cams, rules, events, health] = await Promise.all([
      edgecam.get("/api/cameras"), edgecam.get("/api/rules"), edgecam.get("/api/events?limit=12"),
      fetch("/healthz", { cache: "no-store" }).then((r) => r.json()),
    ]);
    cams.cameras.forEach(showCamera);
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

edgecam.init().then((s) => { document.getElementById("device").textContent = s.device; refresh(); });
