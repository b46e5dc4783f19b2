// The web page's markup: a search bar (words, a picture chip, the picture button), the results
// grid the script fills, a viewer dialog and the index facts. No inline script or style, so the
// page runs under a strict Content-Security-Policy; PageStyle and PageScript hold the rest.
enum PageHTML {
    static let source = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>retrieve</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<a class="skip" href="#results">Skip to results</a>
<header class="bar">
  <a class="brand" href="/" title="New search"><svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="10.5" cy="10.5" r="6.5"/><path d="M15.5 15.5 21 21"/></svg><span>retrieve</span></a>
  <form id="search" role="search" autocomplete="off">
    <div class="field" id="field">
      <span id="chip" class="chip" hidden>
        <img id="chip-img" alt="">
        <span id="chip-label">picture</span>
        <button type="button" id="chip-remove" aria-label="Remove the picture from the search" title="Remove the picture">×</button>
      </span>
      <label for="q" class="visually-hidden">Search the pictures</label>
      <input id="q" name="q" type="search" placeholder="Describe what you are looking for" enterkeyhint="search"
             spellcheck="false" autocapitalize="off" aria-describedby="hint">
      <button type="button" id="pick" class="icon" aria-label="Search by a picture" title="Search by a picture (or drop one on the page)">
        <svg viewBox="0 0 24 24" aria-hidden="true"><rect x="3" y="6" width="18" height="14" rx="3"/><circle cx="12" cy="13" r="3.5"/><path d="M8.5 6 10 3.5h4L15.5 6"/></svg>
      </button>
      <input id="file" type="file" accept="image/png,image/jpeg" hidden>
    </div>
    <button type="submit" class="go">Search</button>
  </form>
  <label class="toggle" title="Show only one of near-identical pictures"><input type="checkbox" id="dedup"> Fold duplicates</label>
</header>
<main>
  <p id="hint" class="hint">Words, a picture, or both: <code>a red bicycle</code>, <code>"beach" - "people"</code>,
    <code>#42 + 0.5*"at night"</code>. Press <kbd>/</kbd> to search, arrow keys to move between results.</p>
  <div id="status" class="status" role="status" aria-live="polite"></div>
  <div id="warning" class="warning" role="alert" hidden></div>
  <section id="results" class="grid" aria-label="Results" tabindex="-1"></section>
  <div id="cut" class="cut" hidden><span id="cut-text"></span> <button type="button" id="rest">Show them</button></div>
  <div class="more"><button type="button" id="more" hidden>Show more</button></div>
</main>
<dialog id="viewer" aria-labelledby="viewer-name">
  <figure>
    <img id="viewer-img" alt="">
    <figcaption><span id="viewer-name"></span> <span id="viewer-score" class="score"></span></figcaption>
  </figure>
  <div class="viewer-actions">
    <button type="button" id="viewer-prev" aria-label="Previous result">←</button>
    <button type="button" id="viewer-like" class="primary">More like this</button>
    <button type="button" id="viewer-next" aria-label="Next result">→</button>
    <button type="button" id="viewer-close">Close</button>
  </div>
</dialog>
<div id="drop" class="drop" hidden><p>Drop the picture to search by it</p></div>
<footer id="facts" class="facts"></footer>
</body>
</html>
"""#

    /// A magnifier in the accent colour.
    static let favicon = #"""
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="#3b6ef5" stroke-width="2.6" stroke-linecap="round"><circle cx="10.5" cy="10.5" r="6.5"/><path d="M15.5 15.5 21 21"/></svg>
"""#
}
