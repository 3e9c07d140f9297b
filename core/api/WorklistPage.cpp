#include "api/WorklistPage.h"

namespace annot {
namespace {
// Relative URLs ("api/v1/...") make the same page work under the node's root and under the
// plugin's /annotation/ prefix.
const char* kPage = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Labeling worklist</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;font-size:.9em}th{background:#f4f4f4}
#error{color:#a00}input{width:30em}code{font-size:.85em}
</style></head><body>
<h1>Labeling worklist</h1>
<p><label>API token <input id="token" type="password" autocomplete="off"></label>
<label>State <select id="state"><option value="">any</option><option>SCHEDULED</option><option>IN PROGRESS</option>
<option>COMPLETED</option><option>CANCELED</option></select></label> <button id="load">Show</button></p>
<p id="scope"></p><p id="error"></p>
<table><thead><tr><th>Task</th><th>Study</th><th>Protocol</th><th>Step</th><th>State</th><th>Assignee</th><th>Priority</th><th>Due</th></tr></thead>
<tbody id="tasks"></tbody></table>
<script>
const params = new URLSearchParams(location.search);
const tokenInput = document.getElementById('token');
tokenInput.value = sessionStorage.getItem('annotationToken') || '';
if (params.get('study')) document.getElementById('scope').textContent = 'Study ' + params.get('study');
function cell(row, text) { const td = document.createElement('td'); td.textContent = text == null ? '' : text; row.appendChild(td); }
async function load() {
  sessionStorage.setItem('annotationToken', tokenInput.value);
  const q = new URLSearchParams();
  if (params.get('study')) q.set('study', params.get('study'));
  const state = document.getElementById('state').value; if (state) q.set('state', state);
  const body = document.getElementById('tasks'); body.textContent = '';
  document.getElementById('error').textContent = '';
  const r = await fetch('api/v1/tasks?' + q, {headers: {'X-Annotation-Token': tokenInput.value}});
  if (!r.ok) { document.getElementById('error').textContent = 'The API answered ' + r.status + (r.status == 401 ? ': check the token' : ''); return; }
  for (const t of (await r.json()).tasks) {
    const row = document.createElement('tr');
    cell(row, t.id); cell(row, t.studyInstanceUid); cell(row, t.protocol && t.protocol.id); cell(row, t.step);
    cell(row, t.state); cell(row, t.assignee); cell(row, t.priority); cell(row, t.due);
    body.appendChild(row);
  }
}
document.getElementById('load').onclick = load;
if (tokenInput.value) load();
</script></body></html>
)HTML";
}  // namespace

HttpResponse worklistPage() {
  HttpResponse r;
  r.contentType = "text/html; charset=utf-8";
  r.body = kPage;
  // The page only ever talks to its own origin.
  r.headers.emplace_back("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'");
  return r;
}

}  // namespace annot
