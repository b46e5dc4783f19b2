// The web page's stylesheet: a sticky search bar, a grid of square thumbnails that reflows from
// a phone's width up, light and dark themes from the system, visible focus rings for keyboard use.
enum PageStyle {
    static let source = #"""
:root {
  --bg: #f6f7f9; --panel: #ffffff; --ink: #1b1f24; --muted: #5d6673; --line: #dde1e7;
  --accent: #3b6ef5; --accent-ink: #ffffff; --warn-bg: #fff6db; --warn-ink: #6b4e00; --err-bg: #fde8e8; --err-ink: #8a1c1c;
  --radius: 12px; --shadow: 0 1px 2px rgba(16,24,40,.06), 0 1px 3px rgba(16,24,40,.10);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #111418; --panel: #1a1f26; --ink: #e8ebef; --muted: #9aa4b2; --line: #2c333d;
          --accent: #6b93ff; --accent-ink: #0b1020; --warn-bg: #3a3112; --warn-ink: #f5dc8f; --err-bg: #3d1a1a; --err-ink: #ffb4b4;
          --shadow: 0 1px 3px rgba(0,0,0,.5); }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }  /* .drop, .chip and others set a display of their own: hidden still wins */
html, body { margin: 0; background: var(--bg); color: var(--ink); }
body { min-height: 100vh; display: flex; flex-direction: column; font-size: 15px; line-height: 1.45; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.skip { position: absolute; left: -999px; top: 8px; background: var(--panel); padding: 8px 12px; border-radius: 8px; z-index: 10; }
.skip:focus { left: 8px; }
button, input { font: inherit; color: inherit; }
button { cursor: pointer; }

.bar { position: sticky; top: 0; z-index: 5; display: flex; align-items: center; gap: 14px; flex-wrap: wrap;
       padding: 12px clamp(12px, 3vw, 32px); background: color-mix(in srgb, var(--bg) 88%, transparent);
       backdrop-filter: blur(8px); border-bottom: 1px solid var(--line); }
.brand { display: flex; align-items: center; gap: 8px; font-weight: 650; font-size: 18px; color: var(--ink); text-decoration: none; letter-spacing: -.01em; }
.brand svg { width: 24px; height: 24px; fill: none; stroke: var(--accent); stroke-width: 2.6; stroke-linecap: round; }
form { flex: 1 1 420px; display: flex; gap: 8px; min-width: 0; }
.field { flex: 1; min-width: 0; display: flex; align-items: center; gap: 6px; background: var(--panel); border: 1px solid var(--line);
         border-radius: 999px; padding: 4px 6px 4px 14px; box-shadow: var(--shadow); }
.field:focus-within { border-color: var(--accent); box-shadow: 0 0 0 3px color-mix(in srgb, var(--accent) 25%, transparent); }
.field input[type=search] { flex: 1; min-width: 0; border: 0; outline: 0; background: transparent; padding: 8px 0; font-size: 16px; }
.icon { display: grid; place-items: center; width: 38px; height: 38px; border: 0; border-radius: 999px; background: transparent; color: var(--muted); }
.icon:hover { background: color-mix(in srgb, var(--accent) 12%, transparent); color: var(--accent); }
.icon svg { width: 22px; height: 22px; fill: none; stroke: currentColor; stroke-width: 1.8; stroke-linejoin: round; }
.go { border: 0; border-radius: 999px; padding: 0 20px; min-height: 46px; background: var(--accent); color: var(--accent-ink); font-weight: 600; box-shadow: var(--shadow); }
.go:hover { filter: brightness(1.07); }
.toggle { display: flex; align-items: center; gap: 6px; color: var(--muted); font-size: 14px; white-space: nowrap; }
.toggle input { width: 18px; height: 18px; accent-color: var(--accent); }
.chip { display: inline-flex; align-items: center; gap: 6px; padding: 2px 4px 2px 2px; border-radius: 999px;
        background: color-mix(in srgb, var(--accent) 14%, var(--panel)); font-size: 13px; max-width: 45%; flex: none; }
.chip img { width: 30px; height: 30px; border-radius: 999px; object-fit: cover; }
.chip span { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.chip button { border: 0; background: transparent; width: 26px; height: 26px; border-radius: 999px; font-size: 18px; line-height: 1; color: var(--muted); }
.chip button:hover { background: var(--line); }

main { flex: 1; width: 100%; max-width: 1400px; margin: 0 auto; padding: 16px clamp(12px, 3vw, 32px) 32px; }
.hint { color: var(--muted); margin: 4px 0 14px; font-size: 14px; }
code, kbd { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; background: var(--panel);
            border: 1px solid var(--line); border-radius: 6px; padding: 1px 5px; }
.status { color: var(--muted); min-height: 1.4em; margin-bottom: 10px; font-size: 14px; }
.warning { background: var(--warn-bg); color: var(--warn-ink); border-radius: var(--radius); padding: 10px 14px; margin-bottom: 14px; }
.warning.error { background: var(--err-bg); color: var(--err-ink); }
.warning b { font-weight: 650; }

.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 14px; outline: 0; }
.card { position: relative; background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); overflow: hidden;
        box-shadow: var(--shadow); display: flex; flex-direction: column; transition: transform .12s ease, box-shadow .12s ease; }
.card:hover { transform: translateY(-2px); box-shadow: 0 6px 16px rgba(16,24,40,.14); }
.thumb { display: block; padding: 0; border: 0; background: var(--line); aspect-ratio: 1; width: 100%; overflow: hidden; }
.thumb img { width: 100%; height: 100%; object-fit: cover; display: block; }
.thumb:focus-visible { outline-offset: -3px; }
.thumb.missing { display: grid; place-items: center; color: var(--muted); font-size: 13px; }
.thumb.missing img { display: none; }
.thumb.missing::after { content: "Picture unavailable"; }
.meta { display: flex; align-items: center; gap: 8px; padding: 8px 10px 2px; }
.rank { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; }
.score { font-variant-numeric: tabular-nums; font-weight: 600; font-size: 13px; }
.meter { flex: 1; height: 5px; border-radius: 999px; background: var(--line); overflow: hidden; }
.meter i { display: block; height: 100%; width: calc(var(--s, 0) * 100%); background: var(--accent); border-radius: 999px; }
.name { padding: 0 10px; font-size: 13px; color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.like { margin: 8px 10px 10px; border: 1px solid var(--line); background: transparent; border-radius: 8px; padding: 6px 8px; font-size: 13px; }
.like:hover { border-color: var(--accent); color: var(--accent); }
.likely { padding: 0 10px 2px; font-size: 12px; font-weight: 600; color: var(--accent); font-variant-numeric: tabular-nums; }
.likely.low { color: var(--muted); font-weight: 400; }
.cut { display: flex; justify-content: center; align-items: center; gap: 10px; margin-top: 22px; color: var(--muted); font-size: 14px; flex-wrap: wrap; }
.cut[hidden] { display: none; }
.cut button { border: 1px solid var(--line); background: var(--panel); border-radius: 999px; padding: 8px 18px; }
.cut button:hover { border-color: var(--accent); }
.more { display: flex; justify-content: center; margin-top: 22px; }
.more button, .viewer-actions button { border: 1px solid var(--line); background: var(--panel); border-radius: 999px; padding: 10px 22px; }
.more button:hover { border-color: var(--accent); }

dialog { border: 0; border-radius: 16px; padding: 0; max-width: min(96vw, 1100px); background: var(--panel); color: var(--ink); box-shadow: 0 20px 60px rgba(0,0,0,.4); }
dialog::backdrop { background: rgba(10,12,16,.7); }
figure { margin: 0; }
#viewer-img { display: block; max-width: 100%; max-height: 72vh; margin: 0 auto; background: var(--line); }
figcaption { padding: 12px 16px 0; word-break: break-all; }
.viewer-actions { display: flex; gap: 8px; padding: 12px 16px 16px; flex-wrap: wrap; }
.viewer-actions .primary { background: var(--accent); color: var(--accent-ink); border-color: var(--accent); }
#viewer-close { margin-left: auto; }

.drop { position: fixed; inset: 0; z-index: 20; display: grid; place-items: center; background: color-mix(in srgb, var(--accent) 22%, transparent); }
.drop p { background: var(--panel); padding: 22px 30px; border-radius: 16px; border: 2px dashed var(--accent); font-size: 18px; box-shadow: var(--shadow); }
.facts { color: var(--muted); font-size: 13px; text-align: center; padding: 14px; border-top: 1px solid var(--line); }
.empty { text-align: center; color: var(--muted); padding: 40px 0; }

@media (max-width: 560px) {
  .bar { gap: 10px; }
  .brand span { display: none; }
  form { flex-basis: calc(100% - 40px); }
  .go { padding: 0 14px; }
  .toggle { margin-left: auto; }
  .grid { grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: 10px; }
  .hint { display: none; }
}
"""#
}
