// The page's HTML and CSS as constants (tsc copies no static files). The
// script is app.ts compiled next to this file and served as a module.

/** No inline script or style anywhere, so the policy can forbid both. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vxnet networking</title>
<link rel="stylesheet" href="/ui/page.css">
<script type="module" src="/ui/app.js"></script>
</head>
<body>
<header>
  <h1>vxnet <span class="sub">networking</span></h1>
  <nav aria-label="Views">
    <a id="tab-networks" href="#networks">Networks</a>
    <a id="tab-agents" href="#agents">Agents</a>
  </nav>
  <p id="connection" role="status" aria-live="polite" data-state="connecting">Connecting to the master…</p>
</header>
<main>
  <p id="hint" class="empty" hidden></p>

  <section id="view-networks" aria-labelledby="h-networks">
    <h2 id="h-networks">Networks</h2>
    <label class="filter">Filter networks <input id="filter-networks" type="search" placeholder="name or subnet" autocomplete="off"></label>
    <div class="scroll">
      <table id="networks">
        <thead><tr><th>Name</th><th>IPv4 subnet</th><th>IPv6 subnet</th><th>Agent prefix</th><th>Agents</th><th>Subnets used</th><th>Containers</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p class="empty" hidden></p>
    <h3 id="h-utilisation">Utilisation</h3>
    <div class="scroll">
      <table id="utilisation" aria-labelledby="h-utilisation">
        <thead><tr><th>Pool</th><th>Family</th><th>Range</th><th>Agent subnets / VTEP addresses</th><th>Container addresses</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>

  <section id="view-network" aria-labelledby="h-network" hidden>
    <p><a href="#networks">← All networks</a></p>
    <h2 id="h-network">Network</h2>
    <dl id="network-summary" class="summary"></dl>
    <h3>Containers</h3>
    <label class="filter">Filter containers <input id="filter-containers" type="search" placeholder="id, IP, interface or agent" autocomplete="off"></label>
    <div class="scroll">
      <table id="containers">
        <thead><tr><th>Container</th><th>Runtime</th><th>IPv4</th><th>IPv6</th><th>Interface</th><th>Agent</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p class="empty" hidden></p>
    <h3>Agent subnets</h3>
    <div class="scroll">
      <table id="network-agents">
        <thead><tr><th>Agent</th><th>Subnet</th><th>IPv6 subnet</th><th>Status</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>

  <section id="view-agents" aria-labelledby="h-agents" hidden>
    <h2 id="h-agents">Agents</h2>
    <label class="filter">Filter agents <input id="filter-agents" type="search" placeholder="IP, MAC, overlay, status or error" autocomplete="off"></label>
    <div class="scroll">
      <table id="agents">
        <thead><tr><th>Agent IP</th><th>VTEP IP</th><th>VTEP MAC</th><th>Overlays: subnet and status</th><th>Containers</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p class="empty" hidden></p>
    <h3 id="h-agent-utilisation">Container addresses per agent</h3>
    <div class="scroll">
      <table id="agent-utilisation" aria-labelledby="h-agent-utilisation">
        <thead><tr><th>Agent</th><th>Overlay</th><th>Subnet</th><th>Container addresses</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <h3 id="h-held">Expired and quarantined agents</h3>
    <div class="scroll">
      <table id="held" aria-labelledby="h-held">
        <thead><tr><th>Agent IP</th><th>State</th><th>Expired at</th><th>Quarantined until</th><th>VTEP</th><th>Subnets held</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p id="held-empty" class="none">Loading…</p>
    <h3 id="h-stranded">Stranded containers</h3>
    <div class="scroll">
      <table id="stranded" aria-labelledby="h-stranded">
        <thead><tr><th>Agent</th><th>Container</th><th>Network</th><th>Address</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p id="stranded-empty" class="none">Loading…</p>
  </section>
</main>
</body>
</html>
`;

export const PAGE_CSS = `
:root { --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #fff; --head: #f6f8fa;
  --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --link: #0550ae; font-family: system-ui, sans-serif; color: var(--fg); background: var(--bg); }
body { margin: 0; line-height: 1.4; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .6rem 1rem; border-bottom: 1px solid var(--line); background: var(--head); }
h1 { font-size: 1.2rem; margin: 0; } h1 .sub { font-weight: normal; color: var(--muted); }
h2 { font-size: 1.1rem; margin: .2rem 0 .6rem; } h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
nav a { margin-right: 1rem; color: var(--link); text-decoration: none; padding: .2rem 0; }
nav a[aria-current="page"] { font-weight: bold; border-bottom: 3px solid currentColor; }
#connection { margin: 0 0 0 auto; font-size: .9rem; }
#connection::before { content: "● "; }
#connection[data-state="live"]::before { color: var(--ok); }
#connection[data-state="lost"] { color: var(--bad); font-weight: bold; }
#connection[data-state="lost"]::before { content: "⚠ "; }
main { padding: .8rem 1rem 2rem; max-width: 80rem; }
a { color: var(--link); }
.filter { display: inline-flex; gap: .5rem; align-items: center; margin-bottom: .6rem; }
.filter input { font: inherit; padding: .25rem .4rem; border: 1px solid var(--line); border-radius: 4px; min-width: 14rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--head); font-weight: 600; }
tbody tr:hover { background: #f3f6fa; }
td.num { font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, monospace; font-size: .88rem; }
meter { width: 5rem; margin-left: .4rem; vertical-align: middle; }
.status-ok { color: var(--ok); } .status-failed { color: var(--bad); font-weight: bold; } .status-configuring, .status-invalid { color: var(--warn); }
.error { color: var(--bad); display: block; }
.overlay { display: block; }
.use { display: inline-flex; gap: .4rem; align-items: center; } .use-warn { color: var(--warn); } .use-high, .use-full { color: var(--bad); font-weight: bold; }
.disabled { color: var(--muted); font-style: italic; }
.lease-expired { color: var(--bad); font-weight: bold; } .lease-quarantined { color: var(--warn); }
.none { color: var(--muted); border: 1px dashed var(--line); padding: .6rem .8rem; border-radius: 4px; }
.empty { color: var(--muted); border: 1px dashed var(--line); padding: .6rem .8rem; border-radius: 4px; }
.summary { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0 0 .5rem; }
.summary dt { color: var(--muted); } .summary dd { margin: 0; }
@media (max-width: 40rem) {
  header { padding: .5rem; } main { padding: .5rem; }
  #connection { margin: 0; flex-basis: 100%; }
  .filter { display: flex; flex-direction: column; align-items: stretch; } .filter input { min-width: 0; }
  thead { position: absolute; left: -9999px; }
  table, tbody, tr, td { display: block; width: auto; }
  tr { border: 1px solid var(--line); border-radius: 4px; margin-bottom: .5rem; }
  td { border: 0; padding: .2rem .5rem; }
  td::before { content: attr(data-label) ": "; color: var(--muted); }
}
`;
