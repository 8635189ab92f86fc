using System.Security.Cryptography;
using System.Text;

namespace Parley.Server;

/// <summary>
/// The status page: one HTML document with no external asset, whose inline script asks for the JSON every
/// second and redraws. It is served with a Content-Security-Policy that allows exactly its own script and
/// style (by their SHA-256, CSP Level 3 §8.2) and fetches to its own origin, nothing else.
/// </summary>
internal static class StatusPageDocument
{
    private const string Style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1b1b;background:#fff}
        h1{font-size:1.3em;margin:0 0 .3em}h2{font-size:1.05em;margin:1.4em 0 .4em}
        table{border-collapse:collapse;font-variant-numeric:tabular-nums}
        th,td{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:left;white-space:nowrap}
        th{background:#f3f3f3}td.n{text-align:right}
        tr.self td{background:#f5f9ff}
        #summary span{margin-right:1.5em}#problem{color:#b00020}
        .wrap{overflow-x:auto}
        """;

    private const string Script = """
        (() => {
          const source = location.pathname + '?format=json';
          const $ = id => document.getElementById(id);
          let updates = 0;
          const number = n => Number(n).toLocaleString('en-US');
          const age = s => s < 60 ? s.toFixed(1) + ' s' : s < 3600 ? Math.floor(s / 60) + ' min ' + Math.floor(s % 60) + ' s' : Math.floor(s / 3600) + ' h ' + Math.floor(s % 3600 / 60) + ' min';
          function cell(row, text, numeric) {
            const td = row.insertCell();
            td.textContent = String(text);
            if (numeric) td.className = 'n';
          }
          function render(d) {
            $('state').textContent = d.state;
            $('started').textContent = new Date(d.startedAt).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
            $('uptime').textContent = age(d.uptimeSeconds);
            $('open').textContent = number(d.totals.openConnections);
            $('accepted').textContent = number(d.totals.acceptedConnections);
            $('requests').textContent = number(d.totals.requests);
            $('rate').textContent = d.requestsPerSecond.last1s + ' / ' + d.requestsPerSecond.last10s + ' / ' + d.requestsPerSecond.last60s;
            const rows = $('connections').tBodies[0];
            rows.replaceChildren();
            for (const c of d.connections) {
              const row = rows.insertRow();
              row.dataset.id = c.id;
              row.dataset.state = c.state;
              if (c.id === d.yourConnection) row.className = 'self';
              cell(row, c.id, true);
              const client = c.forwardedFor || c.client;
              cell(row, client === c.peer ? client : client + ' via ' + c.peer);
              cell(row, c.local);
              cell(row, c.tls ? (c.tlsProtocol || 'TLS') : 'plain');
              cell(row, c.state);
              cell(row, age(c.ageSeconds), true);
              cell(row, number(c.requests), true);
              cell(row, number(c.bytesReceived), true);
              cell(row, number(c.bytesSent), true);
            }
            const errors = $('errors').tBodies[0];
            errors.replaceChildren();
            for (const [status, count] of Object.entries(d.errors.byStatus)) {
              const row = errors.insertRow();
              cell(row, 'HTTP ' + status);
              cell(row, number(count), true);
            }
            for (const [kind, count] of Object.entries(d.errors.byKind)) {
              const row = errors.insertRow();
              cell(row, kind);
              cell(row, number(count), true);
            }
            $('updated').textContent = 'updated ' + new Date(d.now).toLocaleTimeString('en-GB');
            document.body.dataset.updates = String(++updates);
          }
          async function poll() {
            try {
              const response = await fetch(source, { cache: 'no-store', headers: { Accept: 'application/json' } });
              if (!response.ok) throw new Error('HTTP ' + response.status);
              render(await response.json());
              $('problem').textContent = '';
            } catch (e) {
              $('problem').textContent = 'update failed: ' + e.message;
            }
            setTimeout(poll, 1000);
          }
          poll();
        })();
        """;

    /// <summary>The whole page.</summary>
    public static readonly string Html = $"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Parley status</title>
        <link rel="icon" href="data:,">
        <style>{Style}</style>
        </head>
        <body>
        <h1>Parley status</h1>
        <p id="summary"><span>state <b id="state">…</b></span><span>started <b id="started">…</b></span><span>up <b id="uptime">…</b></span><span id="updated"></span></p>
        <p id="problem" role="alert"></p>
        <h2>Totals</h2>
        <table>
        <tr><th>open connections</th><td class="n" id="open">…</td></tr>
        <tr><th>connections accepted</th><td class="n" id="accepted">…</td></tr>
        <tr><th>requests</th><td class="n" id="requests">…</td></tr>
        <tr><th>requests per second (last 1 s / 10 s / 60 s)</th><td class="n" id="rate">…</td></tr>
        </table>
        <h2>Open connections</h2>
        <div class="wrap"><table id="connections">
        <thead><tr><th>id</th><th>client</th><th>local</th><th>TLS</th><th>state</th><th>age</th><th>requests</th><th>bytes in</th><th>bytes out</th></tr></thead>
        <tbody></tbody>
        </table></div>
        <h2>Errors</h2>
        <table id="errors"><thead><tr><th>kind</th><th>count</th></tr></thead><tbody></tbody></table>
        <script>{Script}</script>
        </body>
        </html>
        """;

    /// <summary>The page's policy: its own script and style by hash, fetches to its origin, a data: icon, nothing more.</summary>
    public static readonly string ContentSecurityPolicy =
        $"default-src 'none'; script-src '{Hash(Script)}'; style-src '{Hash(Style)}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static string Hash(string inline) => "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(inline)));
}
