/**
 * The dashboard's whole stylesheet, served from /static/app.<hash>.css. Kept in
 * code so the build ships it without a copy step. System fonts, no external
 * resources; the layout collapses to one column on a phone.
 */
export const STYLES = `
:root { --fg:#1d2430; --muted:#5b6575; --bg:#f6f7f9; --card:#fff; --line:#dde1e7; --accent:#1f5fbf;
  --ok:#1c7c3a; --warn:#a35c00; --bad:#b3261e; --idle:#6b7280; color-scheme: light; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg); background:var(--bg); }
a { color:var(--accent); }
:focus-visible { outline:3px solid var(--accent); outline-offset:2px; }
.skip { position:absolute; left:-999px; } .skip:focus { left:8px; top:8px; background:#fff; padding:4px 8px; z-index:9; }
header.top { background:#17202e; color:#fff; padding:.6rem 1rem; display:flex; flex-wrap:wrap; gap:.5rem 1.5rem; align-items:center; }
header.top .brand { font-weight:700; letter-spacing:.02em; }
header.top nav ul { list-style:none; display:flex; flex-wrap:wrap; gap:.25rem; margin:0; padding:0; }
header.top nav a { color:#dbe4f3; text-decoration:none; padding:.35rem .7rem; border-radius:6px; display:inline-block; }
header.top nav a[aria-current=page] { background:#2f3f59; color:#fff; }
header.top .meta { margin-left:auto; font-size:.85rem; color:#aab6c8; }
main { padding:1rem; max-width:1400px; margin:0 auto; }
h1 { font-size:1.35rem; margin:.2rem 0 1rem; } h2 { font-size:1.1rem; margin:1.2rem 0 .5rem; } .panel > h2:first-child { margin-top:0; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(150px,1fr)); gap:.6rem; margin-bottom:1rem; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:.6rem .8rem; }
.card .n { font-size:1.5rem; font-weight:700; display:block; } .card .l { color:var(--muted); font-size:.85rem; }
.panel { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:.8rem; margin-bottom:1rem; }
form.filters { display:flex; flex-wrap:wrap; gap:.6rem 1rem; align-items:end; }
form.filters label { display:flex; flex-direction:column; font-size:.8rem; color:var(--muted); gap:.2rem; }
input, select, button { font:inherit; padding:.35rem .5rem; border:1px solid #b8c0cc; border-radius:6px; background:#fff; color:var(--fg); }
button { background:var(--accent); color:#fff; border-color:var(--accent); cursor:pointer; }
button.danger { background:var(--bad); border-color:var(--bad); }
/* relative: the hidden words for screen readers stay inside the box, not out past the page's edge. */
.scroll { overflow-x:auto; position:relative; }
table { border-collapse:collapse; width:100%; background:var(--card); font-size:.9rem; }
caption { text-align:left; font-weight:600; padding:.4rem 0; }
th, td { text-align:left; padding:.35rem .55rem; border-bottom:1px solid var(--line); white-space:nowrap; vertical-align:top; }
th { background:#eef1f5; font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td.wrap { white-space:normal; overflow-wrap:anywhere; min-width:9rem; max-width:28rem; }
code, .mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:.85em; }
.badge { display:inline-block; padding:.05rem .45rem; border-radius:999px; font-size:.8rem; font-weight:600; border:1px solid; }
.s-admitted { color:var(--ok); border-color:var(--ok); background:#e8f5ec; }
.s-missing, .s-refused { color:var(--warn); border-color:var(--warn); background:#fdf1e1; }
.s-stale, .s-blocked, .s-failed, .s-dangerous { color:var(--bad); border-color:var(--bad); background:#fbe9e7; }
.s-idle, .s-not-member { color:var(--idle); border-color:#c9ced6; background:#f3f4f6; }
.s-complete { color:var(--ok); border-color:var(--ok); background:#e8f5ec; }
.gauge { display:grid; grid-template-columns:minmax(11rem,1.2fr) minmax(8rem,2fr) auto minmax(120px,1fr); gap:.4rem .8rem; align-items:center; padding:.45rem 0; border-bottom:1px solid var(--line); }
.gauge meter { width:100%; height:1.1rem; }
.gauge .nums { font-variant-numeric:tabular-nums; white-space:nowrap; }
.gauge svg { width:100%; height:32px; background:#f3f6fa; border-radius:4px; }
.gauge svg polyline { fill:none; stroke:var(--accent); stroke-width:1.5; }
.gauge svg line { stroke:var(--bad); stroke-dasharray:3 3; stroke-width:1; }
.gauge.missing > .wrap { grid-column:3 / span 2; white-space:normal; }
.muted { color:var(--muted); } .bad { color:var(--bad); } .ok { color:var(--ok); }
.vh { position:absolute; width:1px; height:1px; margin:-1px; padding:0; overflow:hidden; clip:rect(0 0 0 0); white-space:nowrap; border:0; }
td.nm { color:var(--idle); text-align:center; }
.legend { font-size:.85rem; margin:.3rem 0; }
nav.pager { display:flex; flex-wrap:wrap; gap:.3rem .9rem; align-items:center; margin:.5rem 0; }
nav.pager a, nav.pager .off { padding:.2rem .4rem; } nav.pager .off { color:var(--muted); }
nav.pager .where { font-variant-numeric:tabular-nums; }
.banner { border-left:4px solid var(--bad); background:#fbe9e7; padding:.6rem .8rem; margin:.6rem 0; border-radius:4px; }
.banner.info { border-color:var(--accent); background:#e9f0fb; }
@media (max-width: 700px) {
  main { padding:.6rem; } header.top .meta { margin-left:0; width:100%; }
  .gauge { grid-template-columns:1fr; } form.filters label { flex:1 1 45%; }
  th, td { padding:.3rem .4rem; }
}
`;
