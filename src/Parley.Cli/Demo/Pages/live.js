// The live page: one row per request the server reports over the /live/feed WebSocket, newest first.
'use strict';
(() => {
  const status = document.getElementById('live-status');
  const rows = document.querySelector('#live-log tbody');
  const maxRows = 500;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(`${scheme}//${location.host}/live/feed`);
  const show = (state, text) => {
    status.dataset.state = state;
    status.textContent = text;
  };
  socket.addEventListener('open', () => show('open', 'Connected: new requests appear at the top.'));
  socket.addEventListener('close', event => show('closed', `Disconnected (close code ${event.code}); reload to watch again.`));
  socket.addEventListener('message', event => {
    const entry = JSON.parse(event.data);
    const row = document.createElement('tr');
    row.className = `status-${String(entry.status)[0]}xx`;
    for (const value of [entry.time, entry.method, entry.target, entry.connection, entry.request, entry.status, `${entry.ms} ms`]) {
      const cell = document.createElement('td');
      cell.textContent = String(value);
      row.appendChild(cell);
    }
    rows.insertBefore(row, rows.firstChild);
    while (rows.rows.length > maxRows) rows.deleteRow(-1);
  });
})();
