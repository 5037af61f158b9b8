//! The report's stylesheet, shared by the per-run page and `serve`'s
//! overview ([`crate::report::agents`]): one inline `<style>`, colours as
//! custom properties with a dark set under `prefers-color-scheme`, one class
//! per verdict (`o-…` on badges and matrix cells, `row-…` on table rows and
//! case blocks), so markup never repeats inline styles. The only rule that
//! depends on page state is CSS-only: `#hide-ok` hides every row and case
//! that does not fail the run, with or without scripts.

pub(crate) const STYLE: &str = r#"
:root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--mut:#57606a;--line:#d0d7de;--pane:#f6f8fa;--head:#eaeef2;
--ok:#1a7f37;--ns:#9a6700;--info:#0969da;--unimpl:#6e7781;--fail:#cf222e;--err:#8250df;--allow:#1b7c83;
--t-allow:#e0f5f5;--t-ns:#fff8c5;--t-info:#ddf4ff;--t-fail:#ffebe9;--t-err:#fbefff;--s:#0550ae;--r:#953800}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--mut:#8d96a0;--line:#30363d;--pane:#161b22;--head:#21262d;
--ok:#3fb950;--ns:#d29922;--info:#58a6ff;--unimpl:#8b949e;--fail:#f85149;--err:#bc8cff;--allow:#39c5cf;
--t-allow:#0b3034;--t-ns:#3b2e00;--t-info:#0c2d4b;--t-fail:#42161a;--t-err:#2e1a47;--s:#79c0ff;--r:#ffa657}}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 2em 3em;color:var(--fg);background:var(--bg)}
a{color:var(--info)}
h1{font-size:1.6em;margin:.8em 0 .3em}h2{font-size:1.25em;margin-top:1.6em}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:.15em 1.2em;margin:0}
dl.meta dt{font-weight:600;color:var(--mut)}dl.meta dd{margin:0}
.badge{display:inline-block;padding:.05em .55em;border-radius:1em;color:#fff;font-weight:600;font-size:.85em;white-space:nowrap;text-decoration:none}
.summary .badge{font-size:1em;margin:0 .4em .3em 0}.summary .snap{background:var(--pane);color:var(--fg);border:1px solid var(--line)}
.o-ok{background:var(--ok)}.o-non-strict{background:var(--ns)}.o-informational{background:var(--info)}
.o-unimplemented{background:var(--unimpl)}.o-failed{background:var(--fail)}.o-error{background:var(--err)}.o-allowed{background:var(--allow)}
table.cases{border-collapse:collapse;width:100%;margin-top:.8em}
table.cases th,table.cases td{border-bottom:1px solid var(--line);padding:.2em .5em;text-align:left;vertical-align:top}
table.cases thead th{position:sticky;top:0;background:var(--pane)}
table.cases tr.group th{background:var(--head);font-weight:600}
table.cases td.num,table.cases th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.row-ok td.v{color:var(--ok)}tr.row-non-strict{background:var(--t-ns)}tr.row-informational{background:var(--t-info)}
tr.row-unimplemented{background:var(--pane)}tr.row-failed{background:var(--t-fail)}tr.row-error{background:var(--t-err)}tr.row-allowed{background:var(--t-allow)}
td.v{font-weight:600;white-space:nowrap}td.cbad{color:var(--fail);font-weight:600}td.cns{color:var(--ns);font-weight:600}
td.why{color:var(--mut);font-size:.9em;overflow-wrap:anywhere}td.sn{font-weight:600;color:var(--fail)}td.sa{font-weight:600;color:var(--allow)}
#hide-ok:checked~table .p,#hide-ok:checked~section .p{display:none}
[hidden]{display:none!important}
.toc{columns:14em;margin:.3em 0}.toc a{display:block}
table.matrix{border-collapse:collapse;margin:.5em 0}table.matrix th{text-align:right;padding:0 .5em 0 0;font-weight:600;white-space:nowrap;vertical-align:top}
table.matrix td{padding:1px 0;line-height:0}
.matrix a{display:inline-block;width:11px;height:11px;margin:0 1px 1px 0;border-radius:2px;vertical-align:top}
.matrix a.d{outline:2px solid var(--fg);outline-offset:-2px}.matrix a.n{outline:2px dotted var(--fg);outline-offset:-2px}
.filters{display:flex;flex-wrap:wrap;gap:.4em 1em;align-items:center;margin:.6em 0;padding:.4em .6em;background:var(--pane);border:1px solid var(--line);border-radius:4px}
.filters input[type=search]{min-width:16em}
details.case{border:1px solid var(--line);border-left:6px solid var(--unimpl);border-radius:4px;margin:.5em 0;padding:.3em .8em}
details.case.row-ok{border-left-color:var(--ok)}details.case.row-non-strict{border-left-color:var(--ns)}
details.case.row-informational{border-left-color:var(--info)}details.case.row-failed{border-left-color:var(--fail)}
details.case.row-error{border-left-color:var(--err)}details.case.row-allowed{border-left-color:var(--allow)}
details.case>summary{cursor:pointer;font-weight:600}
details.case dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}
details.case dt{font-weight:600;color:var(--mut)}details.case dd{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}
.wire,.hs pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--pane);padding:.5em;border-radius:4px;margin:0;white-space:pre-wrap;overflow-wrap:anywhere}
.wire{overflow-x:auto;tab-size:17}.wire .s{color:var(--s)}.wire .r{color:var(--r)}.wire .n{color:var(--mut)}
.wire details{margin:0 0 .2em 17ch}.wire summary{cursor:pointer;color:var(--mut)}
footer{margin-top:2em;color:var(--mut);font-size:.85em}
.hs{display:grid;grid-template-columns:1fr 1fr;gap:.8em;margin:.5em 0}
.hs h4{margin:0 0 .2em;font-size:.9em;color:var(--mut)}
"#;
