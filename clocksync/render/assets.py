"""The style sheet and the one script of the HTML reports (kept apart from the markup that uses them).

The script filters the page in place: a search over emails and group names, a kind filter, a
change or outcome filter. Counts in the cards and section headings follow the filter (a card at 0
turns grey). "Expand all" and "Collapse all" open or close every entry shown. The state can be
given in the URL fragment (``report.html#q=jane&change=remove``, ``#open=all``), which is how a
link to one person's part of a report works (and how the tests drive a headless browser). When it
is done, the script records what it shows in ``data-shown`` on ``<body>``, and how long the page
took in ``data-ready-ms``.
"""

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2330;padding:0 1rem}
h1{font-size:1.4rem;margin:0 0 .2rem} h2{font-size:1.1rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #dde}
.meta{color:#667;margin:0 0 .6rem} .cards{display:flex;gap:.8rem;flex-wrap:wrap;margin-top:.8rem}
.card{border:1px solid #dde;border-radius:8px;padding:.6rem 1rem;min-width:110px;cursor:pointer}
.card b{display:block;font-size:1.5rem} .add{color:#137333} .change{color:#9a6700} .remove{color:#b3261e}
.failed,.stale,.skipped,.destructive{color:#b3261e} .applied,.in-place{color:#137333} .in-flight{color:#a14d00}
.not-run{color:#5f6675} .card.zero,.card.zero b{color:#9aa0ac}
.contents{display:flex;gap:.5rem;flex-wrap:wrap;margin:.8rem 0 0}
.contents button,.controls button{font:inherit;padding:.3rem .6rem;border:1px solid #bbc;border-radius:6px;background:#f6f7fb;cursor:pointer}
.controls{position:sticky;top:0;background:#fff;padding:.6rem 0;margin:1rem 0;border-bottom:1px solid #dde;
display:flex;gap:.6rem;flex-wrap:wrap;align-items:center;z-index:1}
.controls input{flex:1;min-width:220px;padding:.4rem .6rem;font:inherit;border:1px solid #bbc;border-radius:6px}
.controls select{padding:.35rem;font:inherit} .shown{color:#667}
details,.row{border-bottom:1px solid #eceef4;padding:.12rem .4rem}
.row ul{margin:0} .row li{margin:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.row b,.row li>.sign:first-child{color:#1d2330}
summary{cursor:pointer;white-space:nowrap;overflow:hidden;text-overflow:ellipsis} summary b,.row b{font-weight:600}
details[open]{background:#fafbfd} details[open]>summary{white-space:normal}
.gist{color:#556;margin-left:.3rem} details[open]>summary .gist{display:none}
ul{margin:.3rem 0 .3rem .4rem;padding:0;list-style:none}
li{margin:.1rem 0} .sign{font-family:ui-monospace,monospace;font-weight:700;margin-right:.4rem}
.outcome{font-size:.85em;border-radius:4px;padding:0 .3rem;margin-left:.4rem;border:1px solid currentColor}
.msg{color:#667;font-size:.9em;margin-left:.4rem}
.warn{background:#fff8e1;border:1px solid #f0d48a;border-radius:6px;padding:.5rem 1rem}
.danger{background:#fdecea;border:1px solid #f3b4ae;border-radius:6px;padding:.3rem 1rem}
.danger [data-entry]>ul{margin:.1rem 0} .handover{margin:0 0 .2rem 1.6rem;color:#445}
[hidden]{display:none!important}
"""

SCRIPT = """
(function(){
  var t0 = performance.now();
  var q = document.getElementById('q'), kind = document.getElementById('kind'), change = document.getElementById('change');
  var items = null, entries = [].slice.call(document.querySelectorAll('[data-entry]'));
  var sections = [].slice.call(document.querySelectorAll('[data-section]'));
  var cards = [].slice.call(document.querySelectorAll('[data-card]'));
  var total = document.querySelectorAll('li[data-kind]').length;
  function index(){  // built on the first filter, so an unfiltered page loads without walking every row
    if (items) return items;
    entries.forEach(function(e, i){ e.dataset.i = i; });
    items = [].map.call(document.querySelectorAll('li[data-kind]'), function(li){
      var entry = li.closest('[data-entry]'), section = li.closest('[data-section]');
      return {li: li, entry: entry, kind: li.dataset.kind, change: li.classList[0], outcome: li.dataset.outcome || '',
              section: section ? section.dataset.section : '',
              text: ((entry ? entry.dataset.search : '') + ' ' + li.textContent).toLowerCase()};
    });
    return items;
  }
  function read(){
    var params = new URLSearchParams(location.hash.slice(1));
    if (params.has('q')) q.value = params.get('q');
    if (params.has('kind')) kind.value = params.get('kind');
    if (params.has('change')) change.value = params.get('change');
  }
  function apply(){
    var text = q.value.trim().toLowerCase(), k = kind.value, c = change.value, shown = 0, counts = {};
    var seen = {}, perSection = {}, actions = {};
    index().forEach(function(it){
      var ok = (!k || it.kind === k) && (!c || it.change === c || it.outcome === c) && (!text || it.text.indexOf(text) >= 0);
      it.li.hidden = !ok;
      if (!ok) return;
      shown++;
      counts[it.change] = (counts[it.change] || 0) + 1;
      if (it.outcome) counts[it.outcome] = (counts[it.outcome] || 0) + 1;
      if (it.section === 'destructive') counts.destructive = (counts.destructive || 0) + 1;
      actions[it.section] = (actions[it.section] || 0) + 1;
      if (it.entry && !seen[it.entry.dataset.i]) {
        seen[it.entry.dataset.i] = true;
        perSection[it.section] = (perSection[it.section] || 0) + 1;
      }
    });
    entries.forEach(function(e){
      var on = !!seen[e.dataset.i];
      e.hidden = !on;
      if (on && text && e.tagName === 'DETAILS') e.open = true;
    });
    sections.forEach(function(s){
      var key = s.dataset.section, n = perSection[key] || 0;
      var out = s.querySelector('.count'); if (out) out.textContent = n.toLocaleString('en');
      var acts = s.querySelector('.acount'); if (acts) acts.textContent = (actions[key] || 0).toLocaleString('en');
      s.hidden = n === 0;
    });
    cards.forEach(function(card){
      var n = counts[card.dataset.card] || 0;
      card.querySelector('b').textContent = n.toLocaleString('en');
      card.classList.toggle('zero', n === 0);
    });
    show(shown);
  }
  function show(shown){
    document.getElementById('shown').textContent = shown + ' of ' + total + ' shown';
    document.body.dataset.shown = shown;
  }
  function filtered(){ return q.value.trim() || kind.value || change.value; }
  function openAll(open){
    entries.forEach(function(e){ if (e.tagName === 'DETAILS' && !e.hidden) e.open = open; });
    document.body.dataset.opened = document.querySelectorAll('details[data-entry][open]').length;
  }
  var timer = null;
  function later(){ clearTimeout(timer); timer = setTimeout(apply, 120); }
  q.addEventListener('input', later); kind.addEventListener('change', apply); change.addEventListener('change', apply);
  document.getElementById('expand').addEventListener('click', function(){ openAll(true); });
  document.getElementById('collapse').addEventListener('click', function(){ openAll(false); });
  cards.forEach(function(card){  // a card filters the page to what it counts (again: every change)
    card.addEventListener('click', function(){
      var slug = card.dataset.card;
      if (slug === 'destructive') { document.getElementById('s-destructive').scrollIntoView(); return; }
      change.value = change.value === slug ? '' : slug; apply();
    });
  });
  [].forEach.call(document.querySelectorAll('[data-goto]'), function(b){
    b.addEventListener('click', function(){ document.getElementById(b.dataset.goto).scrollIntoView(); });
  });
  window.addEventListener('hashchange', function(){ read(); apply(); });
  read();
  if (filtered()) apply(); else show(total);
  var open = new URLSearchParams(location.hash.slice(1)).get('open');
  if (open === 'all') openAll(true); else if (open === 'none') openAll(false);
  document.body.dataset.readyMs = Math.round(performance.now());
  document.body.dataset.filterMs = Math.round(performance.now() - t0);
})();
"""
