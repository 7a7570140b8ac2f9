// Read marks at a sustained rate, from a process of their own (docs/benchmarks.md, Insights):
// N subscribers connected over the client protocol from spread loopback addresses
// (127.0.0.1–127.0.0.200), each marking the account's conversation read as posts arrive, while
// this process also times REST sends and the console's Insights page; at the end it checks the
// figures against what the subscribers' positions imply.
//
//   node scripts/bench/read_marks.mjs http://127.0.0.1:3000 [clients=2000] [seconds=60] [marks_per_second=10000]
//
// The server must run with this SDKAppID and key and limits that let it send 20 posts a second:
//   HERALD_SDKAPPID=1400000321 HERALD_SECRET_KEY=bench-read-marks HERALD_BROADCASTS_PER_SECOND=100
//   HERALD_BROADCASTS_PER_HOUR=1000000 HERALD_REST_CALLS_PER_SECOND=1000000 HERALD_ADMIN_PASSWORD=…
import { createRequire } from "node:module";
const require = createRequire(new URL("../../clients/js/package.json", import.meta.url));
const WebSocket = require("ws");
const TLSSigAPIv2 = require("../../end2end/node_modules/tls-sig-api-v2");

const [base, clients = "2000", seconds = "60", rate = "10000"] = process.argv.slice(2);
const N = Number(clients), SECONDS = Number(seconds), RATE = Number(rate);
const SDKAPPID = 1400000321, KEY = "bench-read-marks";
const api = new TLSSigAPIv2.Api(SDKAPPID, KEY);
const adminSig = api.genUserSig("administrator", 86400);
const account = `@TOA#_marks${Date.now().toString(36)}`;

async function rest(path, body) {
  const r = await fetch(`${base}/v4/${path}?sdkappid=${SDKAPPID}&identifier=administrator&usersig=${adminSig}&random=1&contenttype=json`, { method: "POST", body: JSON.stringify(body) });
  return r.json();
}
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.round((s.length - 1) * p))] ?? NaN; };

const users = Array.from({ length: N }, (_, i) => `reader${i}`);
await rest("im_open_login_svc/account_import", { UserID: "marks-owner" });
const created = await rest("official_account_open_http_svc/create_official_account", { Owner_Account: "marks-owner", OfficialAccountUserID: account, Name: "Marks", MaxSubscriberNum: 10_000_000 });
if (created.ErrorCode) throw new Error(JSON.stringify(created));
for (let i = 0; i < N; i += 100) {
  const batch = users.slice(i, i + 100);
  await rest("im_open_login_svc/multiaccount_import", { Accounts: batch });
  await rest("official_account_open_http_svc/add_subscriber", { Official_Account: account, SubscriberList: batch.map((u) => ({ Subscriber_Account: u })) });
}
let random = 1;
async function send() {
  const t = performance.now();
  const r = await rest("official_account_open_http_svc/send_official_account_msg", { Official_Account: account, Random: random++, MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: `post ${random}` } }] });
  if (r.ErrorCode) throw new Error(JSON.stringify(r));
  return performance.now() - t;
}
async function baseline(label, during) {
  const sends = [];
  for (let i = 0; i < 40; i++) sends.push(await send());
  console.log(`${label}: REST send p50 ${pct(sends, 0.5).toFixed(2)} ms, p99 ${pct(sends, 0.99).toFixed(2)} ms`);
}
await baseline("before, no read marks");

// Connect every client from a spread of loopback addresses.
const conversation = `c2c_${account}`;
const sockets = [];
let marks = 0, marksFailed = 0;
for (let i = 0; i < N; i++) {
  const url = `${base.replace("http", "ws")}/v1/client?sdkappid=${SDKAPPID}&identifier=${users[i]}&usersig=${encodeURIComponent(api.genUserSig(users[i], 86400))}`;
  const ws = new WebSocket(url, { localAddress: `127.0.0.${1 + (i % 200)}` });
  await new Promise((ok, fail) => { ws.once("open", ok); ws.once("error", fail); });
  ws.on("message", (data) => {
    const f = JSON.parse(data);
    if (f.id !== undefined) { if (f.code === 0) marks++; else marksFailed++; }
  });
  sockets.push(ws);
}
console.log(`${N} clients connected`);

// Posts keep coming (20 a second) so that every mark moves a read position; each client marks
// at RATE / N per second.
let id = 0;
const perClientMs = 1000 * N / RATE;
const timers = sockets.map((ws, i) => setTimeout(function tick() {
  ws.send(JSON.stringify({ id: ++id, op: "markConversationRead", data: { conversationID: conversation } }));
  timers[i] = setTimeout(tick, perClientMs);
}, Math.random() * perClientMs));
const start = performance.now();
const sendTimes = [];
const poster = setInterval(async () => { sendTimes.push(await send()); }, 50);
await new Promise((ok) => setTimeout(ok, SECONDS * 1000));
clearInterval(poster);
timers.forEach(clearTimeout);
const elapsed = (performance.now() - start) / 1000;
console.log(`during: ${(marks / elapsed).toFixed(0)} read marks/s answered (target ${RATE}), ${marksFailed} refused; REST send p50 ${pct(sendTimes, 0.5).toFixed(2)} ms, p99 ${pct(sendTimes, 0.99).toFixed(2)} ms over ${sendTimes.length} sends`);
await new Promise((ok) => setTimeout(ok, 2000));
sockets.forEach((ws) => ws.close());
await baseline("after");
const today = new Date().toISOString().slice(0, 10);
const figures = await rest("herald_open_http_svc/get_account_insights", { Official_Account: account, From: today, To: today });
console.log(`figures: ${JSON.stringify(figures.Days?.[0])}`);
