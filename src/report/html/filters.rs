//! The report's filter bar and its script: selects for verdict, group, role
//! and snapshot state, a search box, and a "showing N of M" line. The bar is
//! written `hidden` and only the script shows it, so without scripts the page
//! shows every case and its plain anchor table of contents; with them, rows
//! and case blocks not matching are given the `hidden` attribute. The state
//! lives in the URL's query (`?verdict=failed&group=1&role=server&snapshot=DRIFT&q=text`),
//! so a filtered view is a link, and the fragment opens the case it names.
//! The script is static: no data from the model is ever written into it;
//! it reads the page's `data-*` attributes.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::report::sanitize;
use crate::results::RunResults;

use super::{shown, snapshot_key};

/// The filter bar: hidden until the script runs.
pub(super) fn bar(h: &mut String, r: &RunResults) {
    let esc = sanitize::html;
    h.push_str("<div class=\"filters\" id=\"filters\" hidden>\n");
    // Verdicts in summary order, each once.
    let mut verdicts: Vec<(&str, &str)> = Vec::new();
    for c in &r.cases {
        let s = shown(c);
        if !verdicts.iter().any(|(slug, _)| *slug == s.slug) {
            verdicts.push((s.slug, s.label));
        }
    }
    verdicts.sort_by_key(|(slug, _)| super::rank(slug));
    select(
        h,
        "verdict",
        "Verdict",
        verdicts.iter().map(|(v, l)| (*v, *l)),
    );
    let mut groups: Vec<(&str, String)> = Vec::new();
    for c in &r.cases {
        if !groups.iter().any(|(g, _)| *g == c.group) {
            groups.push((&c.group, format!("{} {}", c.group, c.group_title)));
        }
    }
    let groups: Vec<(String, String)> =
        groups.into_iter().map(|(g, t)| (esc(g), esc(&t))).collect();
    select(
        h,
        "group",
        "Group",
        groups.iter().map(|(g, t)| (g.as_str(), t.as_str())),
    );
    let role = r.role.as_str();
    select(h, "role", "Role", [(role, role)].into_iter());
    let snaps: BTreeSet<&str> = r.cases.iter().map(snapshot_key).collect();
    select(h, "snapshot", "Snapshot", snaps.iter().map(|s| (*s, *s)));
    h.push_str(
        "<label>Search <input type=\"search\" id=\"q\" placeholder=\"id, title or reason\"></label>\n\
         <span id=\"shown\" aria-live=\"polite\"></span>\n</div>\n",
    );
}

/// One `<select id=NAME>` with an "all" option first. Values and labels
/// must already be escaped.
fn select<'a>(
    h: &mut String,
    name: &str,
    label: &str,
    options: impl Iterator<Item = (&'a str, &'a str)>,
) {
    let _ = write!(
        h,
        "<label>{label} <select id=\"f-{name}\"><option value=\"\">all</option>"
    );
    for (v, l) in options {
        let _ = write!(h, "<option value=\"{v}\">{l}</option>");
    }
    h.push_str("</select></label>\n");
}

/// Shows the filter bar, applies the URL's filter to the table's rows
/// (their verdict class, group row, `data-s` and text) and to the case
/// block each links to, keeps the URL in step with the controls, and opens
/// the `<details>` a fragment points at. Static text.
pub(super) const SCRIPT: &str = r#"(function(){
var d=document,F=['verdict','group','role','snapshot'],bar=d.getElementById('filters');
if(!bar)return;bar.hidden=false;
var q=d.getElementById('q'),out=d.getElementById('shown'),table=d.querySelector('table.cases');
var role=table?table.dataset.r:'',rows=table?table.querySelectorAll('tbody tr'):[];
var p=new URLSearchParams(location.search);
F.forEach(function(f){var s=d.getElementById('f-'+f),v=p.get(f);if(s&&v!==null){s.value=v;}});
if(p.get('q')!==null)q.value=p.get('q');
function apply(push){var want={},n=0,m=0,g='',head=null,any=false;
F.forEach(function(f){want[f]=d.getElementById('f-'+f).value;});
var text=q.value.trim().toLowerCase();
function close(){if(head)head.hidden=!any;}
rows.forEach(function(e){if(e.classList.contains('group')){close();head=e;any=false;g=e.dataset.g;return;}
var ok=(!want.verdict||e.classList.contains('row-'+want.verdict))&&(!want.group||g===want.group)
&&(!want.role||role===want.role)&&(!want.snapshot||(e.dataset.s||'none')===want.snapshot)
&&(!text||e.textContent.toLowerCase().indexOf(text)>=0);
e.hidden=!ok;m++;if(ok){n++;any=true;}var a=e.querySelector('a'),c=a&&d.getElementById(a.getAttribute('href').slice(1));if(c)c.hidden=!ok;});
close();
out.textContent='showing '+n+' of '+m+' cases';out.dataset.n=n;
if(push){var u=new URLSearchParams();F.forEach(function(f){if(want[f])u.set(f,want[f]);});if(q.value)u.set('q',q.value);
var s=u.toString();history.replaceState(null,'',(s?'?'+s:location.pathname)+location.hash);}}
F.forEach(function(f){d.getElementById('f-'+f).addEventListener('change',function(){apply(true);});});
q.addEventListener('input',function(){apply(true);});
function openTarget(){var h;try{h=decodeURIComponent(location.hash.slice(1));}catch(x){h='';}var e=h&&d.getElementById(h);
if(e&&e.tagName==='DETAILS'){e.open=true;e.hidden=false;}}
window.addEventListener('hashchange',openTarget);apply(false);openTarget();
d.documentElement.dataset.ready='1';})();"#;
