// The web page's script: runs searches against the JSON API (GET for words and #ids, POST with
// the picture's bytes for an uploaded one), renders the grid with DOM calls only (file names are
// never parsed as HTML) with each result's likelihood of a match, pages with "Show more" (and
// "Show them" past the likelihood cut-off), keeps the query in the address bar, and handles
// drag-and-drop, the viewer dialog and keyboard navigation.
enum PageScript {
    static let source = #"""
"use strict";
const $ = (id) => document.getElementById(id);
const K = 30;
const state = { picture: null, pictureURL: null, offset: 0, query: "", results: [], viewing: -1, run: 0, all: false, cut: 0 };

// A likelihood as a person reads it; it is never exactly 0 or 1.
function percent(p) { return p < 0.01 ? "<1%" : p > 0.99 ? ">99%" : Math.round(p * 100) + "%"; }

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value; else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value); else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function setStatus(text) { $("status").textContent = text; }

function showWarning(parts, isError) {
  const box = $("warning");
  box.replaceChildren(...parts.map((p) => typeof p === "string" ? document.createTextNode(p) : p));
  box.classList.toggle("error", !!isError);
  box.hidden = parts.length === 0;
}

function quoteList(words) {
  const out = [];
  words.forEach((w, i) => { if (i) out.push(", "); out.push(el("b", { text: "\u201c" + w + "\u201d" })); });
  return out;
}

async function search(append, k = K) {
  const query = $("q").value.trim();
  if (!query && !state.picture) { $("q").focus(); return; }
  const run = ++state.run;
  if (!append) { state.offset = 0; state.query = query; state.all = false; }
  const params = new URLSearchParams();
  if (state.query) params.set("q", state.query);
  params.set("k", k);
  params.set("offset", state.offset);
  params.set("dedup", $("dedup").checked);
  if (state.all) params.set("all", "true");
  setStatus("Searching\u2026");
  let response, body = null;
  try {
    response = state.picture
      ? await fetch("/api/search?" + params, { method: "POST", headers: { "Content-Type": state.picture.type }, body: state.picture })
      : await fetch("/api/search?" + params);
    body = await response.json();
  } catch (error) {
    if (run === state.run) { setStatus(""); showWarning(["The server did not answer: " + error.message], true); }
    return;
  }
  if (run !== state.run) return;
  if (!append) updateAddress();
  if (!response.ok) {
    const err = (body && body.error) || { message: response.statusText };
    setStatus("");
    if (!append) render([], false);
    if (err.code === "unknown_words" && err.words && err.words.length) {
      showWarning(["The model knows none of these words: ", ...quoteList(err.words), ". Try words from its training captions."], true);
    } else {
      showWarning([err.message || "The search failed."], true);
    }
    return;
  }
  if (body.unknown_words.length) {
    showWarning(["Not known to the model: ", ...quoteList(body.unknown_words), " \u2014 searched with the other words."], false);
  } else if (!append) {
    showWarning([], false);
  }
  render(body.results, append);
  state.offset += body.results.length;
  $("more").hidden = !body.has_more;
  // Results below the likelihood cut-off are left out until asked for ("Show them").
  $("cut").hidden = !(body.below_cut > 0);
  state.cut = body.below_cut;
  if (body.below_cut > 0) {
    $("cut-text").textContent = `${body.below_cut} more below ${Math.round(body.min_likelihood * 1000) / 10}% likely to match`;
  }
  const shown = state.results.length;
  setStatus(shown === 0 ? "No pictures match." : `${shown} picture${shown === 1 ? "" : "s"} for ${body.query} (${body.took_ms} ms)`);
}

function card(result, index) {
  const name = result.path.split("/").pop();
  const img = el("img", { src: result.thumbnail + "?size=256", alt: result.path, loading: "lazy", decoding: "async" });
  const thumb = el("button", { class: "thumb", type: "button", "aria-label": `Open ${result.path}, score ${result.score.toFixed(3)}`,
                               "data-index": index, onclick: () => openViewer(index) }, [img]);
  // A picture changed or moved since indexing has no thumbnail (404): say so instead of a broken image.
  img.addEventListener("error", () => thumb.classList.add("missing"));
  const meter = el("i");
  meter.style.setProperty("--s", Math.max(0, Math.min(1, result.score)));
  return el("article", { class: "card", "data-id": result.id }, [
    thumb,
    el("div", { class: "meta" }, [el("span", { class: "rank", text: "#" + result.rank }),
      el("span", { class: "meter", title: "cosine " + result.score.toFixed(4) }, [meter]),
      el("span", { class: "score", text: result.score.toFixed(3) })]),
    ...(result.likelihood === null ? [] : [el("div", {
      class: "likely" + (result.likelihood < 0.5 ? " low" : ""), text: percent(result.likelihood) + " likely a match",
      title: "How likely this picture is a match for the words, from the scores of true and other pairs on the model's validation pictures (at even odds)" })]),
    el("div", { class: "name", title: result.path, text: name }),
    el("button", { class: "like", type: "button", text: "More like this", onclick: () => moreLike(result.id) }),
  ]);
}

function render(results, append) {
  const grid = $("results");
  if (!append) { grid.replaceChildren(); state.results = []; }
  const start = state.results.length;
  state.results.push(...results);
  grid.append(...results.map((r, i) => card(r, start + i)));
  if (!append) { $("more").hidden = true; $("cut").hidden = true; }
}

function moreLike(id) {
  clearPicture();
  $("q").value = "#" + id;
  closeViewer();
  search(false).then(() => { const first = document.querySelector(".thumb"); if (first) first.focus(); });
}

function setPicture(file) {
  if (!file) return;
  if (!["image/png", "image/jpeg"].includes(file.type)) {
    showWarning(["Only PNG and JPEG pictures can be searched by (this one is " + (file.type || "of an unknown type") + ")."], true);
    return;
  }
  clearPicture();
  state.picture = file;
  state.pictureURL = URL.createObjectURL(file);
  $("chip-img").src = state.pictureURL;
  $("chip-label").textContent = file.name || "picture";
  $("chip").hidden = false;
  $("q").placeholder = "Add words to the picture, e.g. - \"blue\"";
  search(false);
}

function clearPicture() {
  if (state.pictureURL) URL.revokeObjectURL(state.pictureURL);
  state.picture = null; state.pictureURL = null;
  $("chip").hidden = true;
  $("file").value = "";
  $("q").placeholder = "Describe what you are looking for";
}

function updateAddress() {
  const url = new URL(location.href);
  url.search = "";
  if (state.query) url.searchParams.set("q", state.query);
  if (url.href !== location.href) history.pushState(null, "", url);
  document.title = state.query ? `${state.query} \u2014 retrieve` : "retrieve";
}

function openViewer(index) {
  const result = state.results[index];
  if (!result) return;
  state.viewing = index;
  $("viewer-img").src = result.thumbnail + "?size=1024";
  $("viewer-img").alt = result.path;
  $("viewer-name").textContent = result.path;
  $("viewer-score").textContent = "score " + result.score.toFixed(3)
    + (result.likelihood === null ? "" : " \u00b7 " + percent(result.likelihood) + " likely a match");
  $("viewer-prev").disabled = index === 0;
  $("viewer-next").disabled = index === state.results.length - 1;
  if (!$("viewer").open) $("viewer").showModal();
}

function closeViewer() {
  if ($("viewer").open) $("viewer").close();
}

function moveFocus(delta) {
  const thumbs = [...document.querySelectorAll(".thumb")];
  const at = thumbs.indexOf(document.activeElement.closest(".card")?.querySelector(".thumb"));
  if (at < 0) return false;
  let step = delta;
  if (Math.abs(delta) === 2) {  // a row up or down: as many cards as the grid has columns
    const columns = getComputedStyle($("results")).gridTemplateColumns.split(" ").length;
    step = Math.sign(delta) * columns;
  }
  const next = thumbs[at + step];
  if (next) { next.focus(); next.scrollIntoView({ block: "nearest" }); }
  return true;
}

function loadFacts() {
  fetch("/api/index").then((r) => r.json()).then((f) => {
    const built = f.built ? " \u00b7 indexed " + new Date(f.built).toLocaleString() : "";
    $("facts").textContent = `${f.rows.toLocaleString()} pictures in ${f.folder} \u00b7 ${f.storage} \u00b7 model ${f.model.file} (${f.model.fingerprint.slice(0, 12)})${built}`;
    if (!new URL(location.href).searchParams.has("dedup")) $("dedup").checked = f.dedup_default;
  }).catch(() => {});
}

function start() {
  $("search").addEventListener("submit", (e) => { e.preventDefault(); search(false); });
  $("more").addEventListener("click", () => search(true));
  // Exactly the results the cut left out of this page; "Show more" goes on from there.
  $("rest").addEventListener("click", () => { state.all = true; search(true, state.cut); });
  $("pick").addEventListener("click", () => $("file").click());
  $("file").addEventListener("change", () => setPicture($("file").files[0]));
  $("chip-remove").addEventListener("click", () => { clearPicture(); $("q").focus(); if ($("q").value.trim()) search(false); });
  $("dedup").addEventListener("change", () => { if (state.results.length || $("q").value.trim()) search(false); });
  $("viewer-close").addEventListener("click", closeViewer);
  $("viewer-prev").addEventListener("click", () => openViewer(state.viewing - 1));
  $("viewer-next").addEventListener("click", () => openViewer(state.viewing + 1));
  $("viewer-like").addEventListener("click", () => moreLike(state.results[state.viewing].id));
  $("viewer").addEventListener("close", () => { const t = document.querySelector(`.thumb[data-index="${state.viewing}"]`); if (t) t.focus(); });
  $("viewer").addEventListener("keydown", (e) => {
    if (e.key === "ArrowLeft") { openViewer(state.viewing - 1); e.preventDefault(); }
    if (e.key === "ArrowRight") { openViewer(state.viewing + 1); e.preventDefault(); }
    if (e.key === "m") { moreLike(state.results[state.viewing].id); e.preventDefault(); }
  });
  document.addEventListener("keydown", (e) => {
    const typing = e.target.matches("input, textarea");
    if (e.key === "/" && !typing && !$("viewer").open) { e.preventDefault(); $("q").focus(); $("q").select(); return; }
    if (typing || $("viewer").open) return;
    const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -2, ArrowDown: 2 };
    if (e.key in moves && moveFocus(moves[e.key])) e.preventDefault();
  });
  let depth = 0;
  const hasFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes("Files");
  document.addEventListener("dragenter", (e) => { if (hasFiles(e)) { depth++; $("drop").hidden = false; } });
  document.addEventListener("dragleave", () => { if (--depth <= 0) { depth = 0; $("drop").hidden = true; } });
  document.addEventListener("dragover", (e) => { if (hasFiles(e)) e.preventDefault(); });
  document.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault(); depth = 0; $("drop").hidden = true;
    setPicture(e.dataTransfer.files[0]);
  });
  window.addEventListener("popstate", () => {
    $("q").value = new URL(location.href).searchParams.get("q") || "";
    if ($("q").value) search(false);
  });
  loadFacts();
  const initial = new URL(location.href).searchParams.get("q");
  if (initial) { $("q").value = initial; search(false); } else { $("q").focus(); }
}

start();
"""#
}
