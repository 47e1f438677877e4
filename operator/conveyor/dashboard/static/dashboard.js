// Conveyor dashboard: keeps the page's live part current from the server's
// event stream (no polling), and streams a job's pod logs. Plain module, no
// framework: the server renders every piece of HTML.
const live = document.getElementById("live");
const conn = document.getElementById("conn");
const kinds = new Set((document.body.dataset.kinds || "").split(" ").filter(Boolean));
let version = Number(live.dataset.version);
let inflight = false;
let again = false;

function setConn(state) {
  conn.textContent = state;
  conn.className = "conn " + state;
}

async function refresh() {
  if (inflight) {
    again = true;
    return;
  }
  inflight = true;
  try {
    const answer = await fetch(location.href, { headers: { "X-Fragment": "1" }, cache: "no-store" });
    if (answer.ok) {
      live.innerHTML = await answer.text(); // rendered and escaped by the server
      version = Number(answer.headers.get("X-Version") || version);
      live.dataset.version = String(version);
      document.dispatchEvent(new CustomEvent("conveyor:updated"));
    }
  } catch {
    // The server is away: the stream reconnects and asks again.
  } finally {
    inflight = false;
    if (again) {
      again = false;
      refresh();
    }
  }
}

const stream = new EventSource("/events");
stream.addEventListener("hello", (event) => {
  setConn("live");
  // A reconnect after a break: fetch a fresh snapshot if anything moved.
  if (JSON.parse(event.data).version !== version) refresh();
});
stream.addEventListener("change", (event) => {
  const data = JSON.parse(event.data);
  if (data.kinds.some((kind) => kinds.has(kind))) refresh();
});
stream.addEventListener("tick", () => {
  // The server's clock tick: ages and durations moved on (no change otherwise).
  if (document.visibilityState === "visible") refresh();
});
stream.addEventListener("error", () => setConn("reconnecting"));

// Filters: change the address and the table without a page load.
const form = document.getElementById("filters");
if (form) {
  let timer = null;
  const apply = () => {
    const query = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (value) query.set(key, String(value));
    const text = query.toString();
    history.replaceState(null, "", form.action + (text ? "?" + text : ""));
    refresh();
  };
  form.addEventListener("change", apply);
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(apply, 250);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
}

// Logs: follow the current attempt's pod; a new attempt starts a new stream.
const log = document.getElementById("log");
let logPod = null;
let logStream = null;

function line(text, css) {
  const row = document.createElement("span");
  row.textContent = text + "\n";
  if (css) row.className = css;
  log.append(row);
  log.scrollTop = log.scrollHeight;
}

function followLogs() {
  const source = document.getElementById("log-source");
  const pod = source ? source.dataset.pod : "";
  if (!pod || pod === logPod) return;
  logPod = pod;
  if (logStream) logStream.close();
  log.textContent = "";
  document.getElementById("log-pod").textContent = "pod " + pod;
  logStream = new EventSource(log.dataset.src);
  logStream.addEventListener("line", (event) => line(JSON.parse(event.data)));
  logStream.addEventListener("info", (event) => line(JSON.parse(event.data), "muted"));
  logStream.addEventListener("end", () => logStream.close());
}

if (log) {
  followLogs();
  if (!logPod) line("no pod for the current attempt yet", "muted");
  document.addEventListener("conveyor:updated", followLogs);
}
