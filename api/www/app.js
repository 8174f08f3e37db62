// Skadi dashboard: live over /ws/events (kpis, racks and actions frames), controls over the
// REST routes (docs/API.md).  Plain JavaScript, no build step, nothing fetched from elsewhere.
"use strict";
const $ = (id) => document.getElementById(id);
const fmt = (v, d) => (v === null || v === undefined || Number.isNaN(v)) ? "–" : Number(v).toFixed(d);
let lastRacks = null, sla = null;

function token() { return sessionStorage.getItem("skadi-token") || ""; }
$("token").value = token();
$("token").addEventListener("change", (e) => sessionStorage.setItem("skadi-token", e.target.value));

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (method !== "GET") {
    opts.body = JSON.stringify(body || {});
    opts.headers["Content-Type"] = "application/json";
    if (token()) opts.headers["Authorization"] = "Bearer " + token();
  }
  const r = await fetch(path, opts);
  const js = await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = js.error || {};
    $("msg").textContent = `${method} ${path}: ${r.status} ${e.code || ""} ${e.message || ""}`;
    throw new Error(e.message || r.status);
  }
  return js;
}

function color(t) { // 0..1 -> blue .. green .. red
  const h = (1 - Math.min(1, Math.max(0, t))) * 240;
  return `hsl(${h}, 70%, 60%)`;
}

function drawHeatmap() {
  if (!lastRacks) return;
  const metric = $("metric").value;
  const dev = {};
  for (const m of lastRacks.monitor || []) dev[m.rack_id] = m.deviation;
  const val = (r) => metric === "inlet" ? r.inlet_c : metric === "outlet" ? r.outlet_c
    : metric === "power" ? r.pdu_kw : dev[r.rack_id];
  const rows = {};
  let lo = Infinity, hi = -Infinity, maxPos = 0;
  for (const r of lastRacks.racks) {
    const [, row, pos] = r.rack_id.split("-");
    (rows[row] = rows[row] || [])[Number(pos) - 1] = r;
    maxPos = Math.max(maxPos, Number(pos));
    const v = val(r);
    if (v !== null && v !== undefined) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  }
  const hm = $("heatmap");
  hm.style.gridTemplateColumns = `24px repeat(${maxPos}, 1fr)`;
  hm.replaceChildren();
  for (const row of Object.keys(rows).sort()) {
    const lab = document.createElement("div");
    lab.className = "lab"; lab.textContent = row; hm.appendChild(lab);
    for (let p = 0; p < maxPos; p++) {
      const r = rows[row][p], c = document.createElement("div");
      c.className = "cell";
      const v = r ? val(r) : null;
      if (v === null || v === undefined) { c.style.background = "#2a3440"; c.textContent = "–"; }
      else {
        c.style.background = color(hi > lo ? (v - lo) / (hi - lo) : 0.5);
        c.textContent = fmt(v, metric === "deviation" ? 2 : 1);
      }
      c.title = r ? r.rack_id : "";
      hm.appendChild(c);
    }
  }
  $("range").textContent = lo <= hi ? `${fmt(lo, 2)} … ${fmt(hi, 2)}` : "";
}
$("metric").addEventListener("change", drawHeatmap);

function onKpis(f) {
  const k = f.kpis;
  $("simtime").textContent = f.ts.replace("T", " ").replace("Z", "");
  $("k-whp").textContent = fmt(k.j_per_prompt_wh, 4);
  $("k-p95").textContent = fmt(k.latency_p95_ms, 0) + " ms";
  $("k-p95").className = sla && k.latency_p95_ms > sla ? "bad" : "";
  $("k-inlet").textContent = fmt(k.inlet_compliance_pct, 2) + " %";
  $("k-maxin").textContent = fmt(k.max_inlet_c, 2);
  $("k-pue").textContent = fmt(k.pue, 3);
  $("k-fac").textContent = fmt(k.facility_kw, 0);
  $("k-dev").textContent = fmt(f.ims.deviation, 2);
  $("k-mms").textContent = f.ims.mms_state ? `${f.ims.mms_state} · ${f.ims.rack_id || ""}` : "IMS warming up";
  $("k-mms").className = f.ims.mms_state === "persistent" ? "bad" : "";
}

function onAction(a) {
  if (a.decision !== "applied" && a.decision !== "advised" && a.decision !== "rolled_back") return;
  const li = document.createElement("li");
  const saving = a.pred_saving_pct === null ? "" : ` pred ${fmt(a.pred_saving_pct, 2)} %`;
  li.textContent = `${(a.ts / 3600).toFixed(2)} h ${a.decision} ${a.action} ${a.target} ` +
    `${a.delta > 0 ? "+" : ""}${a.delta}${a.unit}${saving} — ${a.reason}`;
  const list = $("actions");
  list.insertBefore(li, list.firstChild);
  while (list.children.length > 50) list.removeChild(list.lastChild);
}

function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/events?topics=kpis,racks,actions`);
  ws.onopen = () => { $("conn").textContent = "live"; $("conn").className = "ok"; };
  ws.onclose = () => { $("conn").textContent = "offline"; $("conn").className = "bad"; setTimeout(connect, 1000); };
  ws.onmessage = (ev) => {
    const f = JSON.parse(ev.data);
    if (f.topic === "kpis") onKpis(f);
    else if (f.topic === "racks") { lastRacks = f; drawHeatmap(); }
    else if (f.topic === "actions") onAction(f.action);
  };
}

async function poll() {
  try {
    const o = await api("GET", "/state/overview");
    sla = o.sla_latency_ms;
    $("k-sla").textContent = fmt(o.sla_latency_ms, 0);
    $("k-cf").textContent = fmt(o.cf_j_per_prompt_wh, 4);
    $("k-saved").textContent = o.energy_saved_pct === null ? "–" : fmt(o.energy_saved_pct, 2) + " %";
    $("speed").textContent = (o.paused ? "paused · " : "") + (o.speed === "max" ? "max speed" : `${o.speed}x`) + (o.done ? " · ended" : "");
    $("mode").textContent = o.mode;
    $("kill").textContent = o.kill_switch ? "on" : "off";
  } catch (e) { /* shown in #msg */ }
}

async function loadDemos() {
  try {
    const st = await api("GET", "/status");
    $("scenario").textContent = `${st.scenario} (${st.kind})`;
    const d = await api("GET", "/demo/scenarios");
    const box = $("demos");
    box.replaceChildren(document.createTextNode("demo scenarios: "));
    for (const s of d.scenarios) {
      const b = document.createElement("button");
      b.textContent = `start ${s.name}`;
      b.dataset.demo = s.name;
      b.addEventListener("click", () => act("POST", "/demo/scenario", { scenario: s.name, action: "start", duration_s: 300 }));
      box.appendChild(b);
    }
    if (!d.scenarios.length) box.appendChild(document.createTextNode("none in this run's timeline"));
  } catch (e) { /* shown */ }
}

async function act(method, path, body) {
  try {
    const r = await api(method, path, body);
    $("msg").textContent = `${path}: ${r.accepted ? "accepted, applies at the next control boundary" : "ok"}`;
    setTimeout(poll, 300);
  } catch (e) { /* shown */ }
}

for (const b of document.querySelectorAll("[data-mode]"))
  b.addEventListener("click", () => act("POST", "/mode", { mode: b.dataset.mode }));
for (const b of document.querySelectorAll("[data-speed]"))
  b.addEventListener("click", () => act("POST", "/pace", { speed: b.dataset.speed }));
$("kill-on").addEventListener("click", () => act("POST", "/kill_switch", { enabled: true }));
$("kill-off").addEventListener("click", () => act("POST", "/kill_switch", { enabled: false }));
$("pause").addEventListener("click", () => act("POST", "/pace", { paused: true }));
$("play").addEventListener("click", () => act("POST", "/pace", { paused: false }));

connect();
loadDemos();
poll();
setInterval(poll, 2000);
