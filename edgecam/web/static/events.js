// The events review page: filters, paging, a day-by-day timeline, clips in place, reviewed marks.
// Every filter is in the query string, so a link (from MQTT or Home Assistant) opens a view.
"use strict";
const PAGE = 24;
const FIELDS = ["camera", "rule", "label", "sub_label", "zone", "day", "from", "to", "reviewed"];
const $ = (id) => document.getElementById(id);
let params = new URLSearchParams(location.search);

// ISO 8601 UTC of a local (device zone) day and time: the offset is found from the zone itself.
function zoned(day, time) {
  const guess = new Date(`${day}T${time}:00Z`);
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: edgecam.session.timezone, hourCycle: "h23",
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).formatToParts(guess);
  const get = (t) => Number(parts.find((p) => p.type === t).value);
  const shown = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"));
  return new Date(guess.getTime() - (shown - guess.getTime())).toISOString();
}

function apiQuery(offset) {
  const q = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  for (const key of ["camera", "rule", "label", "sub_label", "zone", "day", "reviewed"]) {
    if (params.get(key)) q.set(key, params.get(key));
  }
  if (params.get("day") && params.get("from")) q.set("since", zoned(params.get("day"), params.get("from")));
  if (params.get("day") && params.get("to")) q.set("until", zoned(params.get("day"), params.get("to")));
  return q;
}

function card(e) {
  const title = edgecam.el("h3", { text: `${edgecam.when(e.ts)} · ${e.camera} / ${e.rule}` });
  const node = edgecam.el("article", { class: `event${e.reviewed ? " reviewed" : ""}`, id: `event-${e.id}`, "data-id": e.id }, title,
    edgecam.el("p", { class: "what", text: edgecam.what(e) }));
  if (e.sub_label) node.append(edgecam.el("p", { class: "sub-label", text: `sub label: ${e.sub_label}${e.sub_score != null ? ` (${Math.round(e.sub_score * 100)} %)` : ""}` }));
  const media = edgecam.el("div", { class: "media" });
  if (e.snapshot) media.append(edgecam.el("img", { src: e.snapshot, alt: `snapshot of ${e.rule} on ${e.camera}`, loading: "lazy" }));
  node.append(media);
  const actions = edgecam.el("div", { class: "actions" });
  if (e.clip && e.clip.status === "ready") {
    const play = edgecam.el("button", { type: "button", class: "play", text: `Play clip (${e.clip.duration_s} s)` });
    play.onclick = () => {
      const video = edgecam.el("video", { controls: "", autoplay: "", playsinline: "", src: e.clip.url, "aria-label": `clip of ${e.rule} on ${e.camera}` });
      if (e.snapshot) video.setAttribute("poster", e.snapshot);
      video.muted = true;  // autoplay is allowed muted; the clips have no sound anyway
      media.replaceChildren(video);
      play.remove();
    };
    actions.append(play);
  } else if (e.clip) {
    actions.append(edgecam.el("span", { class: "muted", text: `clip ${e.clip.status}` }));
  }
  const mark = edgecam.el("button", { type: "button", class: "mark", "aria-pressed": String(e.reviewed), text: e.reviewed ? "Reviewed ✓" : "Mark reviewed" });
  mark.onclick = async () => {
    const want = mark.getAttribute("aria-pressed") !== "true";
    const result = await edgecam.post(`/api/events/${encodeURIComponent(e.id)}/reviewed`, { reviewed: want });
    if (result.status !== 200) { mark.textContent = `refused (${result.status})`; return; }
    mark.setAttribute("aria-pressed", String(want));
    mark.textContent = want ? "Reviewed ✓" : "Mark reviewed";
    node.classList.toggle("reviewed", want);
    summary();
  };
  actions.append(mark, edgecam.el("a", { href: `/events?event=${encodeURIComponent(e.id)}`, text: "link" }));
  node.append(actions);
  return node;
}

async function list() {
  const offset = Number(params.get("offset") || 0);
  let events, total;
  if (params.get("event")) {
    try {
      events = [await edgecam.get(`/api/events/${encodeURIComponent(params.get("event"))}`)];
    } catch (_) {
      events = [];  // gone (the store keeps a bounded number) or never was: say so below
    }
    total = events.length;
  } else {
    const page = await edgecam.get(`/api/events?${apiQuery(offset)}`);
    events = page.events; total = page.total ?? page.events.length;
  }
  $("list").replaceChildren(...(events.length ? events.map(card) : [edgecam.el("p", { class: "muted", text: params.get("event") ? `no event ${params.get("event")} (deleted, or never kept)` : "no events match" })]));
  const last = Math.min(total, offset + events.length);
  $("page").textContent = total ? `${offset + 1}-${last} of ${total}` : "";
  $("newer").disabled = offset === 0;
  $("older").disabled = last >= total;
  $("sub-label-filter").hidden = !(params.get("sub_label") || events.some((e) => e.sub_label));
  const labels = new Set(events.map((e) => e.label).filter(Boolean));
  $("labels").replaceChildren(...[...labels].map((l) => edgecam.el("option", { value: l })));
}

function timeline(days) {
  const max = Math.max(1, ...days.flatMap((d) => d.hours));
  const rows = days.map((d) => {
    const q = new URLSearchParams(params); q.set("day", d.day); q.delete("offset"); q.delete("event");
    const bars = edgecam.el("span", { class: "bars", "aria-hidden": "true" });
    const chart = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    chart.setAttribute("viewBox", "0 0 240 20");
    chart.setAttribute("preserveAspectRatio", "none");
    d.hours.forEach((n, h) => {
      if (!n) return;
      const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
      const height = Math.max(2, Math.round((n / max) * 20));
      for (const [k, v] of Object.entries({ x: h * 10 + 1, y: 20 - height, width: 8, height })) rect.setAttribute(k, v);
      chart.append(rect);
    });
    bars.append(chart);
    const current = params.get("day") === d.day;
    const link = edgecam.el("a", { href: `/events?${q}`, text: `${d.day} · ${edgecam.plural(d.count, "event")}` });
    if (current) link.setAttribute("aria-current", "date");
    return edgecam.el("li", { class: current ? "current" : "" }, link, bars);
  });
  $("timeline").replaceChildren(...(rows.length ? rows : [edgecam.el("li", { class: "muted", text: "no events" })]));
}

async function summary() {
  const q = apiQuery(0); q.delete("limit"); q.delete("offset"); q.delete("since"); q.delete("until"); q.delete("day");
  const s = await edgecam.get(`/api/events/summary?${q}`);
  timeline(s.days);
  const counts = Object.entries(s.unreviewed);
  const items = counts.map(([cam, n]) => edgecam.el("a", { href: `/events?camera=${encodeURIComponent(cam)}&reviewed=false`, "data-camera": cam, text: `${cam}: ${n}` }));
  $("unreviewed").replaceChildren(edgecam.el("span", { text: counts.length ? "unreviewed: " : "all reviewed" }), ...items);
  for (const opt of $("f-camera").options) {
    if (opt.value) opt.textContent = `${opt.value} (${s.unreviewed[opt.value] || 0} unreviewed)`;
  }
}

function go(next) {
  params = next;
  history.pushState(null, "", `/events${params.toString() ? `?${params}` : ""}`);
  refresh();
}

async function refresh() {
  for (const key of FIELDS) { const input = $(`f-${key}`); if (input) input.value = params.get(key) || ""; }
  const active = FIELDS.filter((k) => params.get(k)).map((k) => `${k.replace("_", " ")} ${params.get(k)}`);
  $("active").textContent = active.length ? `(${active.join(", ")})` : "(none on)";
  await Promise.all([list(), summary()]);
}

async function main() {
  await edgecam.init();
  const [cams, rules] = await Promise.all([edgecam.get("/api/cameras"), edgecam.get("/api/rules")]);
  for (const c of cams.cameras) $("f-camera").append(edgecam.el("option", { value: c.name, text: c.name }));
  for (const name of new Set(rules.rules.map((r) => r.name))) $("f-rule").append(edgecam.el("option", { value: name, text: name }));
  $("filters").addEventListener("submit", (evt) => {
    evt.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData($("filters"))) if (v) next.set(k, String(v));
    go(next);
  });
  $("clear").onclick = () => go(new URLSearchParams());
  const page = (step) => { const next = new URLSearchParams(params); next.set("offset", String(Math.max(0, Number(params.get("offset") || 0) + step * PAGE))); next.delete("event"); go(next); };
  $("newer").onclick = () => page(-1);
  $("older").onclick = () => page(1);
  window.addEventListener("popstate", () => { params = new URLSearchParams(location.search); refresh(); });
  // On a phone the filters fold away (their summary says which are on) to leave room for events.
  if (matchMedia("(max-width: 700px)").matches) $("filter-box").open = false;
  await refresh();
  document.body.dataset.ready = "1";
}

main();
