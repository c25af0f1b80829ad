// ridgerenorm explorer: the page's controls hold an experiment as the config writes one; each change is sent
// to the server (POST /api/theory), which evaluates the package's theory and answers with the curves or with
// the config's or the theory's one-line error.  Plotly draws them.  Requests are coalesced: while one is being
// computed, further moves only mark the parameters changed, and the latest parameters are sent next.
"use strict";

const $ = (id) => document.getElementById(id);
const round3 = (v) => Number(Number(v).toPrecision(3));
const EXPLORE = (window.__explore = {timings: [], rendered: 0, seq: 0, last: null, state: null, ready: false});

// The page's values (ui) and the experiment they make (experimentOf).
const ui = {
  model: "linear_ridge", skind: "power_law", D: 1000, alpha: 1.5, sizes: [10, 100, 1000], values: [1, 0.01, 1e-5],
  tkind: "power_law", r: 1.0, tvalues: [1, 10, 100], norm: 1.0, ridgeMode: "constant", lam: 1e-3, l: 1.0,
  sigma_eps: 0.1, sigma_xi: 0.0, N: 250, depth: 1, activation: null, weight_exponent: 0.0,
  samples: {logspace: [-1, 3, 12]}, theory_samples: {logspace: [-1, 3, 200]}, draws: null, feature_draws: null,
  upload: null,  // the last spectrum file the server accepted: {spectrum, D, teacher, name}
};
let models = {};

function experimentOf(u) {
  const spectrum = {power_law: {kind: "power_law", D: u.D, alpha: u.alpha}, isotropic: {kind: "isotropic", D: u.D},
                    blocks: {kind: "blocks", sizes: u.sizes, values: u.values},
                    file: u.upload && Object.assign({}, u.upload.spectrum)}[u.skind];
  const teacher = {power_law: {kind: "power_law", r: u.r}, flat: {kind: "flat"},
                   blocks: {kind: "blocks", values: u.tvalues}, file: {kind: "file"}}[u.tkind];
  teacher.norm = u.norm;
  const exp = {model: u.model, spectrum, teacher, ridge: u.ridgeMode === "power" ? {power: u.l} : u.lam,
               sigma_eps: u.sigma_eps, samples: u.samples, theory_samples: u.theory_samples};
  const keys = (models[u.model] || {keys: []}).keys;
  if (keys.includes("widths")) exp.widths = Array(u.depth).fill(u.N);
  if (keys.includes("sigma_xi")) exp.sigma_xi = u.sigma_xi;
  if (keys.includes("activation")) exp.activation = u.activation || models[u.model].options.activation[0];
  if (keys.includes("weight_exponent")) exp.weight_exponent = u.weight_exponent;
  if (u.draws) exp.draws = u.draws;
  if (u.feature_draws && keys.includes("feature_draws")) exp.feature_draws = u.feature_draws;
  return exp;
}

function loadExperiment(exp) {
  const s = exp.spectrum, t = exp.teacher;
  Object.assign(ui, {model: exp.model, skind: s.kind, tkind: t.kind, norm: t.norm === undefined ? null : t.norm,
                     sigma_eps: exp.sigma_eps || 0, samples: exp.samples, theory_samples: exp.theory_samples,
                     draws: exp.draws || null, feature_draws: exp.feature_draws || null});
  if (s.D !== undefined) ui.D = s.D;
  if (s.alpha !== undefined) ui.alpha = s.alpha;
  if (s.path) ui.upload = {spectrum: {kind: s.kind, path: s.path}, D: null, teacher: t.kind === s.kind,
                           name: s.path.split("/").pop()};
  if (s.sizes) { ui.sizes = s.sizes; ui.values = s.values; ui.D = s.sizes.reduce((a, b) => a + b, 0); }
  if (t.r !== undefined) ui.r = t.r;
  if (t.values) ui.tvalues = t.values;
  if (typeof exp.ridge === "object") { ui.ridgeMode = "power"; ui.l = exp.ridge.power; }
  else { ui.ridgeMode = "constant"; ui.lam = exp.ridge; }
  if (exp.widths) { ui.N = exp.widths[exp.widths.length - 1]; ui.depth = exp.widths.length; }
  ui.sigma_xi = exp.sigma_xi || 0;
  if (exp.activation) ui.activation = exp.activation;
  ui.weight_exponent = exp.weight_exponent || 0;
  syncControls();
}

// ---------------------------------------------------------------- sliders with an exact number box

const SLIDERS = {
  D: {label: "D (input dimension)", min: 1, max: 5, step: 0.01, log: true, integer: true},
  alpha: {label: "α (spectrum exponent)", min: 0.1, max: 4, step: 0.05},
  r: {label: "r (source exponent)", min: 0.05, max: 3, step: 0.05},
  lam: {label: "λ (ridge)", min: -10, max: 2, step: 0.05, log: true},
  l: {label: "l in λ = P^-l", min: 0, max: 3, step: 0.05},
  sigma_eps: {label: "σ_ε (label noise)", min: -3, max: 1, step: 0.02, log: true, zero: true},
  sigma_xi: {label: "σ_ξ (feature noise)", min: -4, max: 1, step: 0.02, log: true, zero: true},
  N: {label: "N (features per layer)", min: 1, max: 5, step: 0.01, log: true, integer: true},
  weight_exponent: {label: "α_F (weight exponent)", min: 0, max: 3, step: 0.05},
};

function sliderValue(c, x) {
  if (c.zero && x <= c.min) return 0;
  let v = c.log ? Math.pow(10, x) : x;
  v = c.integer ? Math.max(1, Math.round(round3(v))) : round3(v);
  return v;
}

function sliderPosition(c, v) {
  if (c.log) return v > 0 ? Math.log10(v) : c.min;
  return v;
}

function buildSliders() {
  for (const [key, c] of Object.entries(SLIDERS)) {
    const box = $("c-" + key);
    box.innerHTML = `<label for="s-${key}">${c.label}</label>` +
      `<input id="s-${key}" type="range" min="${c.min}" max="${c.max}" step="${c.step}">` +
      `<input id="n-${key}" type="text" class="num" size="9">`;
    $("s-" + key).addEventListener("input", (ev) => {
      const t0 = performance.now();
      ui[key] = sliderValue(c, Number(ev.target.value));
      $("n-" + key).value = ui[key];
      afterSliderChange(key);
      changed(t0);
    });
    $("n-" + key).addEventListener("change", (ev) => {
      const t0 = performance.now();
      ui[key] = num(ev.target.value);
      $("s-" + key).value = sliderPosition(c, Number(ev.target.value));
      afterSliderChange(key);
      changed(t0);
    });
  }
}

function afterSliderChange(key) {
  if (key === "D" && (ui.skind === "blocks" || ui.skind === "file")) ui.skind = "power_law";
}

// ---------------------------------------------------------------- the other controls

// a number where the text is one, else the text itself, so the config's check names what was typed
const num = (text) => (text.trim() !== "" && Number.isFinite(Number(text)) ? Number(text) : text);
const list = (text) => text.split(/[,\s]+/).filter((x) => x !== "").map(num);
const fmtList = (a) => a.join(", ");

function bindSelect(id, key, convert = (x) => x) {
  $(id).addEventListener("change", (ev) => { const t0 = performance.now(); ui[key] = convert(ev.target.value);
                                             syncControls(); changed(t0); });
}

function bindText(id, apply) {
  $(id).addEventListener("change", (ev) => { const t0 = performance.now(); apply(ev.target.value); changed(t0); });
}

function buildControls() {
  bindSelect("model", "model");
  bindSelect("spectrum-kind", "skind");
  bindSelect("teacher-kind", "tkind");
  bindSelect("ridge-mode", "ridgeMode");
  bindSelect("depth", "depth", Number);
  bindSelect("activation", "activation");
  bindText("blocks-sizes", (v) => { ui.sizes = list(v); ui.D = ui.sizes.reduce((a, b) => a + b, 0); });
  bindText("blocks-values", (v) => { ui.values = list(v); });
  bindText("teacher-values", (v) => { ui.tvalues = list(v); });
  bindText("teacher-norm", (v) => { ui.norm = v.trim() === "" ? null : num(v); });
  for (const id of ["p-min", "p-max", "p-points"]) bindText(id, () => setGrid());
  $("experiment").addEventListener("change", (ev) => openExperiment(ev.target.value));
  $("save").addEventListener("click", save);
  $("upload").addEventListener("change", upload);
}

// A spectrum file of the user's: the server stores it and checks it with the spectrum-kind registry's file
// kind; the page then draws the theory for it (with the file's teacher weights when it holds them).
async function upload(ev) {
  const file = ev.target.files[0];
  if (!file) return;
  const t0 = performance.now();
  let out;
  try {
    out = await (await fetch("/api/upload?name=" + encodeURIComponent(file.name),
                             {method: "POST", headers: {"Content-Type": "application/octet-stream"}, body: file})).json();
  } catch (err) {
    out = {error: "the explorer's server did not take the file (" + err + ")"};
  }
  ev.target.value = "";  // the same file chosen again (after fixing it) is a new upload
  EXPLORE.uploads = (EXPLORE.uploads || 0) + 1;
  EXPLORE.upload = out;
  if (out.error) { showError(out.error); return; }
  ui.upload = out;
  ui.skind = "file";
  ui.D = out.D;
  setGrid();  // the same P range for the new D (the grids are in q = D/P)
  ui.tkind = out.teacher ? "file" : "flat";
  syncControls();
  changed(t0);
}

function setGrid() {
  // The config's grids are in q = D/P: P from Pmin to Pmax is q from D/Pmax to D/Pmin.
  const pmin = Number($("p-min").value), pmax = Number($("p-max").value), n = Math.round(Number($("p-points").value));
  // rounded inwards to 3 decimals, so P stays within [Pmin, Pmax] (rounded outwards, Pmin = 1 gave P < 1)
  const a = Math.ceil(1000 * Math.log10(ui.D / pmax)) / 1000, b = Math.floor(1000 * Math.log10(ui.D / pmin)) / 1000;
  ui.theory_samples = {logspace: [a, b, n]};
  ui.samples = {logspace: [a, b, 12]};
}

function syncControls() {
  $("model").value = ui.model;
  $("spectrum-kind").value = ui.skind;
  $("teacher-kind").value = ui.tkind;
  $("ridge-mode").value = ui.ridgeMode;
  $("depth").value = String(ui.depth);
  $("blocks-sizes").value = fmtList(ui.sizes);
  $("blocks-values").value = fmtList(ui.values);
  $("teacher-values").value = fmtList(ui.tvalues);
  $("teacher-norm").value = ui.norm === null ? "" : ui.norm;
  const m = models[ui.model] || {keys: [], options: {}};
  const act = $("activation");
  act.innerHTML = (m.options.activation || []).map((a) => `<option value="${a}">${a}</option>`).join("");
  if (m.options.activation) { if (!m.options.activation.includes(ui.activation)) ui.activation = m.options.activation[0];
                              act.value = ui.activation; }
  for (const [key, c] of Object.entries(SLIDERS)) {
    $("s-" + key).value = sliderPosition(c, ui[key]);
    $("n-" + key).value = ui[key];
  }
  for (const el of document.querySelectorAll(".needs")) el.hidden = !m.keys.includes(el.dataset.key);
  $("c-alpha").hidden = ui.skind !== "power_law";
  $("c-D").hidden = ui.skind === "blocks" || ui.skind === "file";
  const own = $("spectrum-kind").querySelector("option[value=file]");
  own.disabled = !ui.upload;
  own.textContent = ui.upload ? `your file ${ui.upload.name}` + (ui.upload.D ? ` (${ui.upload.D} eigenvalues)` : "")
                              : "your file (upload below)";
  $("teacher-kind").querySelector("option[value=file]").disabled = !(ui.upload && ui.upload.teacher);
  for (const el of document.querySelectorAll(".blocks")) el.hidden = ui.skind !== "blocks";
  for (const el of document.querySelectorAll(".teacher-blocks")) el.hidden = ui.tkind !== "blocks";
  $("c-r").hidden = ui.tkind !== "power_law";
  $("c-lam").hidden = ui.ridgeMode !== "constant";
  $("c-l").hidden = ui.ridgeMode !== "power";
}

// ---------------------------------------------------------------- requests, coalesced

const t0OfSeq = {};
let inflight = false;
let awaiting = null;

function changed(t0) {
  EXPLORE.seq += 1;
  t0OfSeq[EXPLORE.seq] = t0;
  send();
}

async function send() {
  if (inflight) return;  // the latest parameters go out when the running request comes back
  inflight = true;
  const seq = EXPLORE.seq;
  const state = experimentOf(ui);
  EXPLORE.state = state;
  try {
    const res = await fetch("/api/theory", {method: "POST", headers: {"Content-Type": "application/json"},
                                            body: JSON.stringify(state)});
    const out = await res.json();
    EXPLORE.answered = performance.now();  // the answer is parsed: what follows is drawing
    await render(out, seq, state);
  } catch (err) {
    showError("the explorer's server did not answer (" + err + ")");
  } finally {
    inflight = false;
    if (EXPLORE.seq !== seq) send();
  }
}

function record(seq, error, server) {
  const t0 = t0OfSeq[seq];
  const now = performance.now();
  if (t0 !== undefined) EXPLORE.timings.push(Object.assign({seq, ms: now - t0, error, draw_ms: now - EXPLORE.answered},
                                                           server || {}));
  for (const k of Object.keys(t0OfSeq)) if (Number(k) <= seq) delete t0OfSeq[k];
  EXPLORE.rendered = seq;
}

function showError(text) {
  $("error-text").textContent = text;
  $("error").hidden = !text;
  for (const id of ["plot-title", "plot", "match", "agreement"]) $(id).classList.toggle("stale", !!text);
}

// ---------------------------------------------------------------- drawing

const LAYOUT = {
  xaxis: {type: "log", title: {text: "P (training samples)"}, exponentformat: "power"},
  yaxis: {type: "log", title: {text: "error (excess population risk)"}, exponentformat: "power"},
  // the title is a line of the page above the plot: inside Plotly it ran under the mode bar's buttons
  margin: {l: 70, r: 10, t: 30, b: 55}, legend: {font: {size: 12}, tracegroupgap: 0}, hovermode: "closest",
  uirevision: "keep",
};

// Values <= 0 have no place on a log axis: each is marked by an open down-triangle at the axis floor (the server's
// out.floor, below everything drawn), in its quantity's colour, with its value in the hover text, as the
// figures mark a negative estimate at the bottom of the panel.
const fmt4 = (v) => Number(Number(v).toPrecision(4));

function nonpositiveTrace(out, item, of, x, color, longName) {
  const idx = item.nonpositive || [];
  if (!idx.length) return null;
  const what = of === "theory" ? "theory" : "simulation mean";
  return {x: idx.map((i) => x[i]), y: idx.map(() => out.floor), mode: "markers", name: "value ≤ 0 (at the bottom)",
          legendgroup: "nonpositive", showlegend: false, cliponaxis: false,
          marker: {color, symbol: "triangle-down-open", size: 10, line: {width: 1.5}},
          hovertext: idx.map((i) => `${longName}: ${what} ${fmt4(item.y[i])} ≤ 0 at P = ${fmt4(x[i])}<br>` +
                                    "not drawable on a log axis: marked at the bottom"), hoverinfo: "text",
          meta: {kind: "nonpositive", of, name: item.name, values: idx.map((i) => item.y[i])}};
}

// Each guide its own dash, so a legend label names one line (the figures' patterns first: plotting/style.py).
// Patterns that repeat within a legend sample's 40 px, one for each guide of plotting/guides.py (15).
const GUIDE_DASHES = ["dash", "dashdot", "6px,1.5px,1px,1.5px,1px,1.5px", "dot", "12px,3px,3px,3px", "2px,5px",
                      "4px,2px", "12px,3px,1px,3px,1px,3px", "8px,2px,2px,2px,2px,2px", "1px,2px", "16px,4px",
                      "6px,6px,1px,6px", "3px,3px,10px,3px", "10px,2px,1px,2px,1px,2px,1px,2px", "5px,1px"];

function traces(out) {
  const data = [];
  const colors = {};
  const longNames = {};
  const clipped = [];
  for (const c of out.curves) {
    colors[c.name] = c.color;
    longNames[c.name] = c.long_name;
    clipped.push(nonpositiveTrace(out, c, "theory", out.P, c.color, c.long_name));
    data.push({x: out.P, y: c.y, mode: "lines", name: c.label, line: {color: c.color, width: 2},
               meta: {kind: "theory", name: c.name}, hovertemplate: `${c.long_name}<br>P=%{x:.4g}<br>%{y:.4g}<extra></extra>`});
  }
  out.guides.forEach((g, i) => {
    data.push({x: g.x, y: g.y, mode: "lines", name: "guide " + g.label,
               line: {color: "#555", dash: GUIDE_DASHES[i % GUIDE_DASHES.length], width: 1.2},
               visible: g.name === "signal" ? true : "legendonly", meta: {kind: "guide", name: g.name}});
  });
  if (out.experiment) {
    for (const m of out.experiment.markers) {
      data.push({x: m.x, y: m.y, mode: "markers", name: "sim " + m.name, showlegend: false,
                 marker: {color: colors[m.name], symbol: "circle-open", size: 8},
                 error_y: m.se ? {type: "data", symmetric: false, array: m.upper, arrayminus: m.lower, visible: true,
                                  color: colors[m.name]} : undefined,
                 meta: {kind: "simulation", name: m.name}});
      clipped.push(nonpositiveTrace(out, m, "simulation", m.x, colors[m.name], longNames[m.name] || m.name));
    }
  }
  const shown = clipped.filter((t) => t);
  if (shown.length) {  // one grey legend entry says what the triangles of every colour are
    shown.push({x: [null], y: [null], mode: "markers", name: "value ≤ 0 (at the bottom)", hoverinfo: "skip",
                marker: {color: "#555", symbol: "triangle-down-open", size: 10, line: {width: 1.5}},
                meta: {kind: "key", name: "nonpositive"}});
  }
  return data.concat(shown);
}

function agreementTable(rows) {
  const t = $("agreement");
  t.hidden = !rows || rows.length === 0;
  if (t.hidden) return;
  const cols = ["quantity", "n_points", "median_rel_dev", "max_rel_dev", "median_abs_dev_over_se", "chi2_per_point"];
  const fmt = (v) => (isNaN(Number(v)) ? v : Number(Number(v).toPrecision(3)));
  t.innerHTML = "<caption>agreement.csv rows of this experiment (simulation vs theory)</caption><tr>" +
    cols.map((c) => `<th>${c}</th>`).join("") + "</tr>" +
    rows.map((r) => "<tr>" + cols.map((c) => `<td>${fmt(r[c])}</td>`).join("") + "</tr>").join("");
}

async function render(out, seq, state) {
  if (out.error) {
    showError(out.error);
    record(seq, true);
    return;
  }
  showError("");
  EXPLORE.last = out;
  const exp = out.experiment;
  const title = exp ? `experiment <b>${exp.name}</b>` + (exp.markers.length ? " (markers: its simulation, mean ± SE)"
                                                                               : " (not simulated at this scale)")
                    : `D = ${out.D}`;
  $("match").innerHTML = exp ? `These parameters are experiment <b>${exp.name}</b> of the config.` : "";
  $("experiment").value = exp ? exp.name : "";
  agreementTable(exp && exp.agreement);
  const P = out.P.filter((p) => p !== null);
  $("p-min").value = round3(Math.min(...P));
  $("p-max").value = round3(Math.max(...P));
  $("plot-title").innerHTML = `${state.model}, ${title}`;
  const layout = Object.assign({}, LAYOUT);
  awaiting = seq;
  await Plotly.react("plot", traces(out), layout, {displaylogo: false, responsive: true});
  if (awaiting === seq) { awaiting = null; record(seq, false, out.timing); }  // no afterplot event (nothing changed)
}

async function save() {
  const res = await fetch("/api/save", {method: "POST", headers: {"Content-Type": "application/json"},
                                        body: JSON.stringify({state: experimentOf(ui), name: $("save-name").value})});
  const out = await res.json();
  $("saved").hidden = false;
  $("saved-check").textContent = out.error ? out.error : out.check;
  $("saved-check").className = out.error ? "bad" : "ok";
  $("saved-yaml").textContent = out.yaml || "";
}

async function openExperiment(name) {
  const url = new URL(window.location);
  if (name) url.searchParams.set("experiment", name); else url.searchParams.delete("experiment");
  window.history.replaceState(null, "", url);
  if (!name) return;
  const t0 = performance.now();
  const out = await (await fetch("/api/experiment/" + encodeURIComponent(name))).json();
  if (out.error) { showError(out.error); return; }
  $("experiment").value = name;
  loadExperiment(out.state);
  changed(t0);
}

async function start() {
  const setup = await (await fetch("/api/setup")).json();
  for (const m of setup.models) models[m.name] = m;
  if (!models[ui.model]) ui.model = setup.models[0].name;
  $("model").innerHTML = setup.models.map((m) => `<option value="${m.name}" title="${m.description}">${m.name}</option>`).join("");
  $("experiment").innerHTML += setup.experiments.map((e) =>
    `<option value="${e.name}">${e.name}${e.simulated ? "" : " (not simulated)"}</option>`).join("");
  $("status").textContent = setup.config_error ? setup.config_error
    : `scale ${setup.scale}: ${setup.experiments.filter((e) => e.simulated).length} simulated experiments in ${setup.results}`;
  buildSliders();
  buildControls();
  syncControls();
  const plot = $("plot");
  await Plotly.newPlot(plot, [], LAYOUT, {displaylogo: false, responsive: true});
  plot.on("plotly_afterplot", () => {
    if (awaiting !== null) { const s = awaiting; awaiting = null; record(s, false, EXPLORE.last.timing); }
  });
  EXPLORE.ready = true;
  const name = new URLSearchParams(window.location.search).get("experiment");
  if (name) await openExperiment(name); else changed(performance.now());
}

start();
