// Xiangjiang dashboard: draws the map from /api/v1/map on a canvas (no tiles, no CDN), the live
// picture from the WebSocket, and for operators an override panel and the audit log.
"use strict";

const LIGHT = { 2: "#e74c3c", 3: "#e74c3c", 4: "#f39c12", 5: "#2ecc71", 6: "#2ecc71", 7: "#f5b041", 8: "#f5b041", 9: "#f5b041" };
const CLASS_COLOUR = { 1: "#8ab4f8", 2: "#f28b82", 3: "#a1887f", 4: "#fdd663", 5: "#e6e6e6", 6: "#81c995", 7: "#c58af9", 8: "#ff6d00" };
const state = { token: null, me: null, map: null, picture: null, frames: 0, view: { s: 1, x: 0, y: 0 }, ws: null };
window.xj = state; // for tests and the curious

const $ = (id) => document.getElementById(id);

async function api(path, opts = {}) {
  const headers = Object.assign({ Authorization: "Bearer " + state.token }, opts.headers || {});
  const r = await fetch(path, Object.assign({}, opts, { headers }));
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = (body && body.error) || { reason: "http_" + r.status, detail: r.statusText };
    throw Object.assign(new Error(e.reason + ": " + JSON.stringify(e.detail)), { status: r.status, body });
  }
  return body;
}

// ---------------------------------------------------------------- sign in
async function signIn(token) {
  state.token = token;
  try {
    state.me = await api("/auth/me");
  } catch (e) {
    $("login-error").textContent = "token refused: " + e.message;
    state.token = null;
    return;
  }
  sessionStorage.setItem("xj-token", token);
  $("login").hidden = true;
  $("app").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = state.me.subject + " (" + state.me.role + ")";
  const op = state.me.role === "operator";
  $("override-panel").hidden = !op;
  $("audit-panel").hidden = !(op || state.me.role === "engineer");
  state.map = await api("/api/v1/map");
  fitView();
  fillJunctions();
  connect();
  if (!$("audit-panel").hidden) { refreshAudit(); setInterval(refreshAudit, 2000); }
  requestAnimationFrame(draw);
}

$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = new URLSearchParams(new FormData(ev.target));
  const r = await fetch("/auth/token", { method: "POST", body: form });
  const body = await r.json();
  if (!r.ok) { $("login-error").textContent = body.error.detail; return; }
  signIn(body.access_token);
});
$("token-form").addEventListener("submit", (ev) => { ev.preventDefault(); signIn($("token-input").value.trim()); });
$("logout").addEventListener("click", () => { sessionStorage.removeItem("xj-token"); location.hash = ""; location.reload(); });

// ---------------------------------------------------------------- live picture
function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(proto + "//" + location.host + "/api/v1/ws/picture?token=" + encodeURIComponent(state.token));
  state.ws = ws;
  ws.onopen = () => { $("status").textContent = "live"; };
  ws.onmessage = (m) => { state.picture = JSON.parse(m.data); state.frames += 1; showPanels(); };
  ws.onclose = (e) => {
    $("status").textContent = "disconnected (" + e.code + "), retrying";
    if (e.code !== 4401 && e.code !== 4403) setTimeout(connect, 2000);
  };
}

function showPanels() {
  const p = state.picture;
  const k = p.kpis || {};
  const rows = [
    ["vehicles", k.vehicles], ["connected", k.connected_vehicles], ["mean speed m/s", k.mean_speed_mps],
    ["halted", k.halted_vehicles], ["queue m (all lanes)", k.queue_m_total], ["incidents", k.events],
    ["advisories/s", k.advisories_per_s], ["signals reporting", k.signals_reporting], ["tick", k.tick],
  ];
  $("kpis").innerHTML = rows.map(([a, b]) => "<dt>" + a + "</dt><dd>" + (b === undefined || b === null ? "–" : b) + "</dd>").join("");
  $("status").textContent = "live · t=" + new Date(p.t * 1000).toLocaleTimeString() + " · " + p.vehicles.id.length + " vehicles";
  $("event-count").textContent = p.events.length;
  $("events").innerHTML = p.events.map((e) => "<li>" + esc(e.kind) + " · " + esc(e.description || "") + " (severity " + e.severity + ")</li>").join("");
}

async function refreshAudit() {
  try {
    const a = await api("/api/v1/audit");
    $("audit-list").innerHTML = a.items.slice(0, 100).map((e) =>
      "<li class='audit-entry'>" + new Date(e.time * 1000).toLocaleTimeString() + " <b>" + esc(e.actor) + "</b> " +
      esc(e.action) + " " + esc(e.target || "") + " — " + esc(e.outcome) + (e.reason ? " · “" + esc(e.reason) + "”" : "") + "</li>").join("");
  } catch (e) { /* shown on the next success */ }
}

function esc(s) { return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c])); }

// ---------------------------------------------------------------- overrides
function fillJunctions() {
  $("ovr-junction").innerHTML = state.map.signals.map((j) => "<option>" + esc(j) + "</option>").join("");
}

$("override-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const body = {
    junction_id: $("ovr-junction").value, kind: $("ovr-kind").value, phase_index: Number($("ovr-phase").value),
    program_id: $("ovr-program").value, duration_s: Number($("ovr-duration").value), reason: $("ovr-reason").value,
  };
  const out = $("override-result");
  try {
    const r = await api("/api/v1/overrides", { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
    out.className = "ok";
    out.textContent = "accepted " + r.override_id + ": " + r.outcome;
  } catch (e) {
    out.className = "bad";
    out.textContent = "refused — " + e.message;
  }
  refreshAudit();
});

// ---------------------------------------------------------------- drawing
const canvas = $("map");
const ctx = canvas.getContext("2d");

function fitView() {
  const [x0, y0, x1, y1] = state.map.bbox_local;
  const w = canvas.clientWidth || 800, h = canvas.clientHeight || 600;
  const s = 0.92 * Math.min(w / Math.max(x1 - x0, 1), h / Math.max(y1 - y0, 1));
  state.view = { s, x: (x0 + x1) / 2, y: (y0 + y1) / 2 };
}

function toScreen(x, y) {
  const v = state.view;
  return [canvas.width / 2 + (x - v.x) * v.s, canvas.height / 2 - (y - v.y) * v.s];
}

let drag = null;
canvas.addEventListener("mousedown", (e) => { drag = [e.clientX, e.clientY]; });
window.addEventListener("mouseup", () => { drag = null; });
window.addEventListener("mousemove", (e) => {
  if (!drag) return;
  state.view.x -= (e.clientX - drag[0]) / state.view.s;
  state.view.y += (e.clientY - drag[1]) / state.view.s;
  drag = [e.clientX, e.clientY];
});
canvas.addEventListener("wheel", (e) => { e.preventDefault(); state.view.s *= e.deltaY < 0 ? 1.15 : 1 / 1.15; }, { passive: false });

function lanePath(lane) {
  const L = state.map.lanes;
  const a = L.offsets[lane], b = L.offsets[lane + 1];
  ctx.beginPath();
  for (let i = a; i < b; i++) {
    const [sx, sy] = toScreen(L.xy[2 * i], L.xy[2 * i + 1]);
    if (i === a) ctx.moveTo(sx, sy); else ctx.lineTo(sx, sy);
  }
}

// the last `len` metres of a lane, for queue bars
function laneTail(lane, len) {
  const L = state.map.lanes;
  const a = L.offsets[lane], b = L.offsets[lane + 1];
  const pts = [];
  let left = len;
  for (let i = b - 1; i > a && left > 0; i--) {
    const x1 = L.xy[2 * i], y1 = L.xy[2 * i + 1], x0 = L.xy[2 * i - 2], y0 = L.xy[2 * i - 1];
    const d = Math.hypot(x1 - x0, y1 - y0);
    if (pts.length === 0) pts.push([x1, y1]);
    const f = Math.min(1, left / Math.max(d, 1e-6));
    pts.push([x1 + (x0 - x1) * f, y1 + (y0 - y1) * f]);
    left -= d;
  }
  return pts;
}

function draw() {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== w * dpr || canvas.height !== h * dpr) { canvas.width = w * dpr; canvas.height = h * dpr; }
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const m = state.map, s = state.view.s;
  // junction outlines
  ctx.fillStyle = "#1d2631";
  const J = m.junctions;
  for (let j = 0; j < J.id.length; j++) {
    const a = J.shape_offsets[j], b = J.shape_offsets[j + 1];
    if (b - a < 3) continue;
    ctx.beginPath();
    for (let i = a; i < b; i++) { const [x, y] = toScreen(J.shape_xy[2 * i], J.shape_xy[2 * i + 1]); if (i === a) ctx.moveTo(x, y); else ctx.lineTo(x, y); }
    ctx.closePath(); ctx.fill();
  }
  // lanes
  ctx.lineCap = "round";
  for (let l = 0; l < m.lanes.id.length; l++) {
    ctx.strokeStyle = m.lanes.internal[l] ? "#222c38" : "#34424f";
    ctx.lineWidth = Math.max(1, m.lanes.width[l] * s * 0.9);
    lanePath(l); ctx.stroke();
  }
  const p = state.picture;
  if (p) {
    // queues
    ctx.strokeStyle = "#ff4d6dcc";
    ctx.lineWidth = Math.max(2, 2.2 * s);
    p.lanes.index.forEach((lane, i) => {
      const q = p.lanes.queue_m[i];
      if (q <= 0) return;
      const pts = laneTail(lane, q);
      ctx.beginPath();
      pts.forEach(([x, y], k) => { const [sx, sy] = toScreen(x, y); if (k === 0) ctx.moveTo(sx, sy); else ctx.lineTo(sx, sy); });
      ctx.stroke();
    });
    // signal heads at the stop lines
    const H = m.signal_heads;
    const r = Math.max(2.5, 1.2 * s);
    for (let i = 0; i < H.x.length; i++) {
      const sig = p.signals[H.junction_id[i]];
      const st = sig ? sig.groups[String(H.group_id[i])] : undefined;
      ctx.fillStyle = LIGHT[st] || "#5f6b78";
      const back = 1.5;
      const [x, y] = toScreen(H.x[i] - Math.cos(H.heading[i]) * back, H.y[i] - Math.sin(H.heading[i]) * back);
      ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fill();
    }
    // vehicles
    const V = p.vehicles;
    for (let i = 0; i < V.id.length; i++) {
      const [x, y] = toScreen(V.x[i], V.y[i]);
      const len = Math.max(4, (V.length[i] > 0 ? V.length[i] : 4.5) * s), wid = Math.max(2.5, 1.9 * s);
      ctx.save();
      ctx.translate(x, y); ctx.rotate(-V.heading[i]);
      ctx.fillStyle = CLASS_COLOUR[V.cls[i]] || "#cfd8dc";
      ctx.fillRect(-len / 2, -wid / 2, len, wid);
      if (V.vehicle_id[i]) { ctx.strokeStyle = "#ffffff"; ctx.lineWidth = 1; ctx.strokeRect(-len / 2, -wid / 2, len, wid); }
      ctx.restore();
    }
    // incidents
    ctx.fillStyle = "#ffd400";
    for (const e of p.events) {
      const [x, y] = toScreen(e.x, e.y);
      const k = Math.max(6, 3 * s);
      ctx.beginPath(); ctx.moveTo(x, y - k); ctx.lineTo(x + k, y + k); ctx.lineTo(x - k, y + k); ctx.closePath(); ctx.fill();
    }
  }
  requestAnimationFrame(draw);
}

// ---------------------------------------------------------------- start
(function start() {
  const m = location.hash.match(/token=([^&]+)/);
  const token = m ? decodeURIComponent(m[1]) : sessionStorage.getItem("xj-token");
  if (token) signIn(token);
})();
