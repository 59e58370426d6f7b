// Shared by the pages: JSON requests with the session's CSRF token.
"use strict";
const edgecam = {
  session: null,
  async init() {
    edgecam.session = await edgecam.get("/api/session");
    const tz = document.getElementById("tz");
    if (tz) tz.textContent = `times in ${edgecam.session.timezone}`;
    return edgecam.session;
  },
  plural(n, word) { return `${n} ${word}${n === 1 ? "" : "s"}`; },
  // An ISO 8601 UTC time in the device's time zone (the zone is named once in the header).
  when(iso, withDate = true) {
    const opts = { timeZone: edgecam.session.timezone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
    if (withDate) Object.assign(opts, { year: "numeric", month: "short", day: "numeric", weekday: "short" });
    return new Intl.DateTimeFormat("en-GB", opts).format(new Date(iso));
  },
  // What an event is, in a few words.
  what(e) {
    const bits = [e.type, e.label, e.sub_label ? `(${e.sub_label})` : "", e.track_id != null ? `#${e.track_id}` : "",
      e.zone ? `in ${e.zone}` : "", e.line ? `line ${e.line}` : "", e.direction || "", e.count != null ? `count ${e.count}` : ""];
    return bits.filter(Boolean).join(" ");
  },
  async get(path) {
    const reply = await fetch(path, { cache: "no-store" });
    if (!reply.ok) throw new Error(`${path}: ${reply.status}`);
    return reply.json();
  },
  async post(path, body) {
    const reply = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": edgecam.session.csrf },
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await reply.json(); } catch (_) { /* not JSON */ }
    return { status: reply.status, data };
  },
  el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "text") node.textContent = value; else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  },
  // Refresh an <img> from a JPEG URL (or a function giving it) at most `fps` times a second,
  // one request at a time.
  live(img, url, fps, paused = () => false) {
    const interval = 1000 / fps;
    const next = async () => {
      const started = Date.now();
      let wait = interval;
      if (!paused()) {
        try {
          const reply = await fetch(typeof url === "function" ? url() : url, { cache: "no-store" });
          if (reply.ok && (reply.headers.get("Content-Type") || "").startsWith("image/")) {
            const old = img.src;
            img.src = URL.createObjectURL(await reply.blob());
            if (old.startsWith("blob:")) URL.revokeObjectURL(old);
            img.dataset.frames = String(Number(img.dataset.frames || 0) + 1);
          } else wait = 1000;
        } catch (_) { wait = 1000; }
      }
      setTimeout(next, Math.max(0, wait - (Date.now() - started)));
    };
    next();
  },
};
