"""The style sheet and the one script of the HTML reports (kept apart from the markup that uses them).

The script filters the page in place: a search over emails and group names, a kind filter, a
change or outcome filter. Counts in the cards and section headings follow the filter. The state
can be given in the URL fragment (``report.html#q=jane&change=remove``), which is how a link to
one person's part of a report works (and how the tests drive a headless browser). When it is
done, the script records what it shows in ``data-shown`` on ``<body>``, and how long the page took
in ``data-ready-ms``.
"""

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1000px;color:#1d2330;padding:0 1rem}
h1{font-size:1.4rem;margin:0 0 .2rem} h2{font-size:1.1rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #dde}
.meta{color:#667;margin:0 0 1rem} .cards{display:flex;gap:.8rem;flex-wrap:wrap}
.card{border:1px solid #dde;border-radius:8px;padding:.6rem 1rem;min-width:110px}
.card b{display:block;font-size:1.5rem} .add{color:#137333} .change{color:#9a6700} .remove{color:#b3261e}
.failed,.stale,.skipped{color:#b3261e} .applied,.in_place{color:#137333}
.controls{position:sticky;top:0;background:#fff;padding:.6rem 0;margin:1rem 0;border-bottom:1px solid #dde;
display:flex;gap:.6rem;flex-wrap:wrap;align-items:center;z-index:1}
.controls input{flex:1;min-width:220px;padding:.4rem .6rem;font:inherit;border:1px solid #bbc;border-radius:6px}
.controls select{padding:.35rem;font:inherit} .shown{color:#667}
details{border:1px solid #e3e6ef;border-radius:6px;margin:.35rem 0;padding:.3rem .7rem}
summary{cursor:pointer;font-weight:600} ul{margin:.3rem 0 .3rem .4rem;padding:0;list-style:none}
li{margin:.1rem 0} .sign{font-family:ui-monospace,monospace;font-weight:700;margin-right:.4rem}
.outcome{font-size:.85em;border-radius:4px;padding:0 .3rem;margin-left:.4rem;border:1px solid currentColor}
.msg{color:#667;font-size:.9em;margin-left:.4rem}
.warn{background:#fff8e1;border:1px solid #f0d48a;border-radius:6px;padding:.5rem 1rem}
.danger{background:#fdecea;border:1px solid #f3b4ae;border-radius:6px;padding:.5rem 1rem}
.handover{margin-left:1.4rem;color:#445}
[hidden]{display:none!important}
"""

SCRIPT = """
(function(){
  var t0 = performance.now();
  var q = document.getElementById('q'), kind = document.getElementById('kind'), change = document.getElementById('change');
  var items = [].map.call(document.querySelectorAll('li[data-kind]'), function(li){
    var entry = li.closest('[data-entry]');
    return {li: li, entry: entry, kind: li.dataset.kind, change: li.dataset.change, outcome: li.dataset.outcome || '',
            text: ((entry ? entry.dataset.search : '') + ' ' + li.textContent).toLowerCase()};
  });
  var entries = [].slice.call(document.querySelectorAll('[data-entry]'));
  var sections = [].slice.call(document.querySelectorAll('[data-section]'));
  var cards = [].slice.call(document.querySelectorAll('[data-card]'));
  function read(){
    var params = new URLSearchParams(location.hash.slice(1));
    if (params.has('q')) q.value = params.get('q');
    if (params.has('kind')) kind.value = params.get('kind');
    if (params.has('change')) change.value = params.get('change');
  }
  function apply(){
    var text = q.value.trim().toLowerCase(), k = kind.value, c = change.value, shown = 0, counts = {};
    entries.forEach(function(e){ e.dataset.visible = '0'; });
    items.forEach(function(it){
      var ok = (!k || it.kind === k) && (!c || it.change === c || it.outcome === c) && (!text || it.text.indexOf(text) >= 0);
      it.li.hidden = !ok;
      if (ok) {
        shown++;
        counts[it.change] = (counts[it.change] || 0) + 1;
        if (it.outcome) counts[it.outcome] = (counts[it.outcome] || 0) + 1;
        if (it.entry) it.entry.dataset.visible = '1';
      }
    });
    entries.forEach(function(e){
      var on = e.dataset.visible === '1';
      e.hidden = !on;
      if (on && text && e.tagName === 'DETAILS') e.open = true;
    });
    sections.forEach(function(s){
      var n = s.querySelectorAll('[data-entry]:not([hidden])').length;
      var out = s.querySelector('.count'); if (out) out.textContent = n;
      s.hidden = n === 0 && s.querySelectorAll('[data-entry]').length > 0;
    });
    cards.forEach(function(card){ card.querySelector('b').textContent = counts[card.dataset.card] || 0; });
    document.getElementById('shown').textContent = shown + ' of ' + items.length + ' shown';
    document.body.dataset.shown = shown;
  }
  var timer = null;
  function later(){ clearTimeout(timer); timer = setTimeout(apply, 120); }
  q.addEventListener('input', later); kind.addEventListener('change', apply); change.addEventListener('change', apply);
  window.addEventListener('hashchange', function(){ read(); apply(); });
  read(); apply();
  document.body.dataset.readyMs = Math.round(performance.now());
  document.body.dataset.filterMs = Math.round(performance.now() - t0);
})();
"""
