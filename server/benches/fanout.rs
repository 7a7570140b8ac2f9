//! Live fan-out (issue 9, docs/benchmarks.md): release servers in their own processes, and the
//! connected clients in load-generator processes of their own (every process here is held to
//! 20,000 open files; they run at nice 19, standing in for phones on CPUs of their own), all
//! subscribers of one account, spread over loopback addresses 127.0.0.2…. Prints, against the
//! targets:
//! * a broadcast sent through one node's REST until the last client on any node has the frame,
//!   p50/p99 over 20 broadcasts (one node, 19,000 clients: < 0.2 s; three nodes on one
//!   PostgreSQL, 50,000 clients: < 0.5 s);
//! * the servers' memory per idle connection (< 20 KB) and CPU while idle;
//! * REST send latency to the account (a million subscribers, the clients among them) with and
//!   without the clients connected (each send once the previous
//!   broadcast has settled), and while another broadcast is going out to every client;
//! * one more client's round trip for getOfficialAccountsInfo with 20 subscriptions, meanwhile.
//!
//! Asserts nothing; stops by itself.
//!
//! ```text
//! scripts/build.sh && cargo bench -p server --bench fanout                    # 1 node, SQLite
//! HERALD_FANOUT_NODES=3 HERALD_FANOUT_CLIENTS=50000 \
//!   HERALD_FANOUT_DB=postgres://postgres@127.0.0.1:5432/fanout cargo bench -p server --bench fanout
//! ```

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::{self, protocol::WebSocketConfig, Message, WebSocket};

const SDKAPPID: u64 = 1_400_000_997;
const KEY: &str = "fanout-key";
const ACCOUNT: &str = "@TOA#_fanout";
const BROADCASTS: usize = 20;
/// Subscribers of the broadcasting account, connected or not (issue: "a 1M-subscriber account").
const SUBSCRIBERS: usize = 1_000_000;
/// The pause before each measured send, so that it meets connected clients, not the tail of
/// the previous broadcast (the load generators reading, the writes' buffers being freed).
const SETTLE: Duration = Duration::from_millis(200);
/// Clients per load-generator process at most (each process may hold 20,000 files); a node's
/// clients are shared evenly among as few processes as that allows.
const PER_PROCESS: usize = 17_000;
/// How often a load generator looks for frames while they are coming (see `clients_process`).
const BATCH_PAUSE: Duration = Duration::from_micros(500);
/// Threads a load generator connects its clients from.
const CONNECTING_THREADS: usize = 32;
/// The load generators' CPU priority (nice level; `HERALD_FANOUT_GENERATOR_NICE` changes it).
/// They stand in for phones, which in a deployment do their reading on CPUs of their own; here
/// they share the servers' two cores, and at the servers' own priority their reading would be
/// counted as the servers' request latency.
const GENERATOR_NICE: i32 = 19;

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn micros() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros()
}

fn rss_kib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0.0)
}

/// utime + stime of `pid`, in seconds.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, r)| r.split_whitespace().collect()).unwrap_or_default();
    let ticks: f64 = fields.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn connect(port: u16, user: &str, source: std::net::IpAddr) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    let sig: String = form_urlencoded::byte_serialize(messaging::usersig::sign(SDKAPPID, KEY, user, 86_400, now()).as_bytes()).collect();
    let url = format!("ws://127.0.0.1:{port}/v1/client?sdkappid={SDKAPPID}&identifier={user}&usersig={sig}");
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind((source, 0).into()).unwrap();
    let stream = socket.connect(([127, 0, 0, 1], port).into()).await.expect("connect");
    // tungstenite's default 128 KiB read buffer is zeroed on every read: at 19,000 clients that
    // memset alone took a sixth of the machine's CPU during a broadcast. A frame here is < 1 KiB.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(4096);
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config)).await.expect("upgrade");
    ws
}

/// A client's socket as the load generator reads it. Once reading starts (`edge`), it is
/// nonblocking and registered edge-triggered, and it remembers when a read came back short: the
/// next read then says "would block" without asking the kernel (new bytes bring a new readiness
/// event, which clears `drained`). That saves each client a second system call per broadcast.
struct ClientSocket {
    stream: std::net::TcpStream,
    edge: bool,
    drained: bool,
}

impl std::io::Read for ClientSocket {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.drained {
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        let n = self.stream.read(buf)?;
        self.drained = self.edge && n < buf.len();
        Ok(n)
    }
}

impl Write for ClientSocket {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.stream.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.stream.flush()
    }
}

/// Opens one client connection from `source` (blocking: the handshake), then makes it
/// nonblocking for the reading loop.
fn connect_client(port: u16, user: &str, source: std::net::IpAddr) -> WebSocket<ClientSocket> {
    let sig: String = form_urlencoded::byte_serialize(messaging::usersig::sign(SDKAPPID, KEY, user, 86_400, now()).as_bytes()).collect();
    let url = format!("ws://127.0.0.1:{port}/v1/client?sdkappid={SDKAPPID}&identifier={user}&usersig={sig}");
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&std::net::SocketAddr::from((source, 0)).into()).unwrap();
    socket.connect(&std::net::SocketAddr::from(([127, 0, 0, 1], port)).into()).expect("connect");
    let stream = ClientSocket { stream: socket.into(), edge: false, drained: false };
    // tungstenite zeroes its read buffer before every read: a broadcast's frames are < 1 KiB.
    let config = WebSocketConfig::default().read_buffer_size(2048).write_buffer_size(2048);
    let (mut ws, _) = tungstenite::client::client_with_config(url.as_str(), stream, Some(config)).expect("upgrade");
    ws.get_mut().stream.set_nonblocking(true).unwrap();
    ws.get_mut().edge = true;
    ws
}

/// A load-generator process: users `from..to` on `port`; prints `ready`, then for every
/// broadcast `done {msgKey} {micros of the last arrival}` once all its clients have it.
/// One thread reading every socket as epoll reports it (tungstenite parses the frames and
/// answers pings): the generators share the two cores with the servers, and they stand in for
/// phones, so they should take as little of them as a client can.
fn clients_process() {
    let var = |n: &str| std::env::var(n).unwrap();
    let port: u16 = var("FANOUT_PORT").parse().unwrap();
    let (from, to): (usize, usize) = (var("FANOUT_FROM").parse().unwrap(), var("FANOUT_TO").parse().unwrap());
    let source_base: u8 = var("FANOUT_SOURCE").parse().unwrap();
    let n = to - from;
    let mut poll = mio::Poll::new().unwrap();
    // Connected from a few threads at once (each handshake waits for the server to load the
    // user's subscriptions); read from this one.
    let mut clients: Vec<WebSocket<ClientSocket>> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..CONNECTING_THREADS)
            .map(|t| {
                scope.spawn(move || {
                    (from + t..to)
                        .step_by(CONNECTING_THREADS)
                        .map(|i| {
                            (
                                i,
                                connect_client(
                                    port,
                                    &format!("u{i}"),
                                    std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, source_base + ((i - from) / 10_000) as u8)),
                                ),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads.into_iter().flat_map(|t| t.join().unwrap()).map(|(_, ws)| ws).collect()
    });
    for (token, ws) in clients.iter().enumerate() {
        let fd = std::os::fd::AsRawFd::as_raw_fd(&ws.get_ref().stream);
        poll.registry().register(&mut mio::unix::SourceFd(&fd), mio::Token(token), mio::Interest::READABLE).unwrap();
    }
    println!("ready");
    std::io::stdout().flush().unwrap();
    // msgKey → (clients that have it, latest arrival).
    let mut counts = HashMap::<String, (usize, u128)>::new();
    let mut events = mio::Events::with_capacity(4096);
    let mut busy = false;
    loop {
        // While frames are coming, look every BATCH_PAUSE instead of waiting in epoll: on
        // loopback the sender pays the receiver's wake-up, and 17,000 phones would each wake on
        // a CPU of their own, not on the server's.
        if busy {
            std::thread::sleep(BATCH_PAUSE);
        }
        let timeout = if busy { Some(Duration::ZERO) } else { None };
        if let Err(e) = poll.poll(&mut events, timeout) {
            assert_eq!(e.kind(), std::io::ErrorKind::Interrupted, "{e}");
            continue;
        }
        busy = !events.is_empty();
        for event in &events {
            let ws = &mut clients[event.token().0];
            ws.get_mut().drained = false;
            loop {
                match ws.read() {
                    Ok(Message::Text(t)) if t.as_str().contains("\"onRecvNewMessage\"") => {
                        let at = micros();
                        // A string search, not a parse.
                        let key = t.as_str().split("\"msgKey\":\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("");
                        let entry = match counts.get_mut(key) {
                            Some(e) => e,
                            None => counts.entry(key.to_owned()).or_insert((0, 0)),
                        };
                        entry.0 += 1;
                        entry.1 = entry.1.max(at);
                        if entry.0 == n {
                            println!("done {key} {}", entry.1);
                            std::io::stdout().flush().unwrap();
                        }
                    }
                    Ok(_) => {}
                    Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    // Closed: the bench is over, or the server dropped this client (it then
                    // never counts, and the bench says so by waiting in vain).
                    Err(_) => {
                        let fd = std::os::fd::AsRawFd::as_raw_fd(&ws.get_ref().stream);
                        let _ = poll.registry().deregister(&mut mio::unix::SourceFd(&fd));
                        break;
                    }
                }
            }
        }
    }
}

fn start_node(db: &str, port: u16) -> Child {
    Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/server"))
        .env("DATABASE_URL", db)
        .env("HERALD_ADDR", format!("127.0.0.1:{port}"))
        .env("HERALD_SDKAPPID", SDKAPPID.to_string())
        .env("HERALD_SECRET_KEY", KEY)
        .env("HERALD_ADMIN_PASSWORD", "fanout-console-password")
        .env("HERALD_BROADCASTS_PER_SECOND", "1000000")
        .env("HERALD_BROADCASTS_PER_HOUR", "1000000")
        .env("HERALD_REST_CALLS_PER_SECOND", "10000000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("target/release/server exists (scripts/build.sh)")
}

fn main() {
    if std::env::var("FANOUT_ROLE").as_deref() == Ok("clients") {
        return clients_process();
    }
    tokio::runtime::Runtime::new().unwrap().block_on(bench());
}

async fn bench() {
    let clients: usize = std::env::var("HERALD_FANOUT_CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(19_000);
    let nodes: usize = std::env::var("HERALD_FANOUT_NODES").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let generator_nice: i32 = std::env::var("HERALD_FANOUT_GENERATOR_NICE").ok().and_then(|v| v.parse().ok()).unwrap_or(GENERATOR_NICE);
    let dir = tempfile::tempdir().unwrap();
    let db = std::env::var("HERALD_FANOUT_DB").unwrap_or_else(|_| format!("sqlite://{}/fanout.db", dir.path().display()));
    if db.starts_with("postgres") {
        // A fresh database each run.
        let (server, name) = db.rsplit_once('/').unwrap();
        let _ = Command::new("psql")
            .arg(format!("{server}/postgres"))
            .args(["-qc", &format!("drop database if exists {name} with (force)")])
            .status();
        let _ = Command::new("psql").arg(format!("{server}/postgres")).args(["-qc", &format!("create database {name}")]).status();
    }
    assert!(nodes == 1 || db.starts_with("postgres"), "several nodes need PostgreSQL (HERALD_FANOUT_DB)");
    let ports: Vec<u16> = (0..nodes).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()).collect();
    let http = reqwest::Client::new();
    let mut servers = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        servers.push(start_node(&db, *port));
        while http.get(format!("http://127.0.0.1:{port}/healthz")).send().await.is_err() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if i == 0 {
            // Migrations ran; the next nodes start on a ready database.
        }
    }
    let base = format!("http://127.0.0.1:{}", ports[0]);
    let admin = format!(
        "sdkappid={SDKAPPID}&identifier=administrator&usersig={}&random=1",
        messaging::usersig::sign(SDKAPPID, KEY, "administrator", 86_400, now())
    );
    let rest = |command: &str, body: Value| {
        let (http, url) = (http.clone(), format!("{base}/v4/{command}?{admin}"));
        async move {
            let r: Value = http.post(url).body(body.to_string()).send().await.unwrap().json().await.unwrap();
            assert_eq!(r["ErrorCode"], 0, "{r}");
            r
        }
    };
    println!(
        "fan-out bench: {clients} clients on {nodes} node(s), database {}, load generators at nice {generator_nice}",
        if db.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" }
    );
    rest("im_open_login_svc/multiaccount_import", json!({ "Accounts": ["owner", "probe"] })).await;
    rest(
        "official_account_open_http_svc/create_official_account",
        json!({ "Owner_Account": "owner", "OfficialAccountUserID": ACCOUNT, "Name": "Fan-out", "MaxSubscriberNum": SUBSCRIBERS }),
    )
    .await;
    for i in 0..20 {
        let id = format!("@TOA#_probe{i}");
        rest(
            "official_account_open_http_svc/create_official_account",
            json!({ "Owner_Account": "owner", "OfficialAccountUserID": id, "Name": format!("Probe {i}") }),
        )
        .await;
        rest(
            "official_account_open_http_svc/add_subscriber",
            json!({ "Official_Account": id, "SubscriberList": [{ "Subscriber_Account": "probe" }] }),
        )
        .await;
    }
    let users: Vec<String> = (0..clients).map(|i| format!("u{i}")).collect();
    for chunk in users.chunks(100) {
        rest("im_open_login_svc/multiaccount_import", json!({ "Accounts": chunk })).await;
        let list: Vec<Value> = chunk.iter().map(|u| json!({ "Subscriber_Account": u })).collect();
        rest("official_account_open_http_svc/add_subscriber", json!({ "Official_Account": ACCOUNT, "SubscriberList": list })).await;
    }
    // The rest of the account's subscribers never connect: REST sends go to an account of
    // SUBSCRIBERS (a million), `clients` of them connected (the broadcast costs the same for
    // the others: stored once, read when they come).
    let seeded = Instant::now();
    let m = messaging::Messaging::open(&db).await.expect("the bench's own handle on the database");
    let account = messaging::OfficialAccountId::parse("account", ACCOUNT).unwrap();
    m.seed_subscribers_for_benchmark(&account, SUBSCRIBERS.saturating_sub(clients) as i64).await.unwrap();
    println!(
        "the account has {} subscribers, {clients} of them to connect (seeded in {:.1} s)",
        SUBSCRIBERS.max(clients),
        seeded.elapsed().as_secs_f64()
    );
    let send = |random: usize| async move {
        let started = Instant::now();
        let at = micros();
        let r = rest("official_account_open_http_svc/send_official_account_msg", json!({ "Official_Account": ACCOUNT, "Random": random, "MsgBody": [{ "MsgType": "TIMTextElem", "MsgContent": { "Text": format!("post {random}") } }] })).await;
        (r["MsgKey"].as_str().unwrap().to_owned(), at, started.elapsed().as_secs_f64() * 1000.0)
    };
    let mut rest_without: Vec<f64> = Vec::new();
    for i in 0..BROADCASTS {
        // Paced like the sends with clients below: a send after a pause finds the server's
        // threads parked and its caches cold, and that is worth about a millisecond here.
        tokio::time::sleep(SETTLE).await;
        rest_without.push(send(1_000_000 + i).await.2);
    }
    rest_without.sort_by(f64::total_cmp);

    let pids: Vec<u32> = servers.iter().map(Child::id).collect();
    let rss_before: f64 = pids.iter().map(|p| rss_kib(*p)).sum();
    // Clients: spread evenly over the nodes, at most PER_PROCESS per load-generator process.
    let started = Instant::now();
    let mut generators = Vec::new();
    let per_node = clients.div_ceil(nodes);
    let mut next_source = 2u8;
    for (n, port) in ports.iter().enumerate() {
        let (lo, hi) = (n * per_node, ((n + 1) * per_node).min(clients));
        let per_process = (hi - lo).div_ceil((hi - lo).div_ceil(PER_PROCESS).max(1));
        let mut from = lo;
        while from < hi {
            let to = (from + per_process).min(hi);
            let child = Command::new("nice")
                .args(["-n", &generator_nice.to_string()])
                .arg(std::env::current_exe().unwrap())
                .env("FANOUT_ROLE", "clients")
                .env("FANOUT_PORT", port.to_string())
                .env("FANOUT_FROM", from.to_string())
                .env("FANOUT_TO", to.to_string())
                .env("FANOUT_SOURCE", next_source.to_string())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            next_source += ((to - from) / 10_000 + 1) as u8;
            generators.push(child);
            from = to;
        }
    }
    let (done_tx, done_rx) = std::sync::mpsc::channel::<(String, u128)>();
    let mut ready = 0;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    for g in &mut generators {
        let out = BufReader::new(g.stdout.take().unwrap());
        let (done_tx, ready_tx) = (done_tx.clone(), ready_tx.clone());
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                if line == "ready" {
                    let _ = ready_tx.send(());
                } else if let Some(rest) = line.strip_prefix("done ") {
                    let (key, at) = rest.split_once(' ').unwrap();
                    let _ = done_tx.send((key.to_owned(), at.parse().unwrap()));
                }
            }
        });
    }
    while ready < generators.len() {
        ready_rx.recv_timeout(Duration::from_secs(300)).expect("a load generator connected its clients");
        ready += 1;
    }
    println!("connected {clients} clients in {:.1} s ({} load-generator processes)", started.elapsed().as_secs_f64(), generators.len());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_connected: f64 = pids.iter().map(|p| rss_kib(*p)).sum();
    let cpu_start: f64 = pids.iter().map(|p| cpu_secs(*p)).sum();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let idle_cpu = (pids.iter().map(|p| cpu_secs(*p)).sum::<f64>() - cpu_start) / 10.0 * 100.0;

    let mut probe = connect(ports[ports.len() - 1], "probe", std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 250))).await;
    let mut last_frame: Vec<f64> = Vec::new();
    let mut rest_with: Vec<f64> = Vec::new();
    let mut probe_rtt: Vec<f64> = Vec::new();
    let generator_pids: Vec<u32> = generators.iter().map(Child::id).collect();
    let (server_cpu_before, generators_cpu_before) =
        (pids.iter().map(|p| cpu_secs(*p)).sum::<f64>(), generator_pids.iter().map(|p| cpu_secs(*p)).sum::<f64>());
    // Waits until every load generator has had broadcast `key`; answers when the last client had it.
    let arrived = |key: &str, done_rx: &std::sync::mpsc::Receiver<(String, u128)>, pending: &mut Vec<(String, u128)>| {
        let mut finished = 0;
        let mut last = 0;
        pending.retain(|(k, at)| {
            let mine = k == key;
            if mine {
                finished += 1;
                last = last.max(*at);
            }
            !mine
        });
        while finished < generators.len() {
            let (k, at) = done_rx.recv_timeout(Duration::from_secs(60)).expect("every client gets the broadcast");
            if k == key {
                finished += 1;
                last = last.max(at);
            } else {
                pending.push((k, at));
            }
        }
        last
    };
    let mut pending: Vec<(String, u128)> = Vec::new();
    for i in 0..BROADCASTS {
        tokio::time::sleep(SETTLE).await;
        let (key, sent_at, rest_ms) = send(i).await;
        rest_with.push(rest_ms);
        let asked = Instant::now();
        probe
            .send(Message::text(json!({ "id": i, "op": "getOfficialAccountsInfo", "data": { "officialAccountIDList": [] } }).to_string()))
            .await
            .unwrap();
        while let Some(Ok(f)) = probe.next().await {
            if let Message::Text(t) = f {
                if t.as_str().contains("\"results\"") {
                    break;
                }
            }
        }
        probe_rtt.push(asked.elapsed().as_secs_f64() * 1000.0);
        let last = arrived(&key, &done_rx, &mut pending).max(sent_at);
        last_frame.push((last - sent_at) as f64 / 1000.0);
    }
    let server_cpu = (pids.iter().map(|p| cpu_secs(*p)).sum::<f64>() - server_cpu_before) / BROADCASTS as f64;
    let generators_cpu = (generator_pids.iter().map(|p| cpu_secs(*p)).sum::<f64>() - generators_cpu_before) / BROADCASTS as f64;
    // A send while the previous one's broadcast is going out to every client.
    let mut rest_during: Vec<f64> = Vec::new();
    for i in 0..BROADCASTS {
        tokio::time::sleep(SETTLE).await;
        let (first, _, _) = send(2_000_000 + 2 * i).await;
        let (second, _, rest_ms) = send(2_000_001 + 2 * i).await;
        rest_during.push(rest_ms);
        arrived(&first, &done_rx, &mut pending);
        arrived(&second, &done_rx, &mut pending);
    }
    let in_order: Vec<String> = last_frame.iter().map(|ms| format!("{ms:.0}")).collect();
    let rest_in_order: Vec<String> = rest_with.iter().map(|ms| format!("{ms:.1}")).collect();
    for v in [&mut last_frame, &mut rest_with, &mut rest_during, &mut probe_rtt] {
        v.sort_by(f64::total_cmp);
    }
    let per_conn_kb = (rss_connected - rss_before) / clients as f64;
    let target = if nodes == 1 { "< 200 ms" } else { "< 500 ms" };
    println!("| measure | p50 | p99 | target |");
    println!("|---|---|---|---|");
    println!(
        "| broadcast → last of {clients} clients on {nodes} node(s) has the frame | {:.0} ms | {:.0} ms | {target} |",
        percentile(&last_frame, 0.5),
        percentile(&last_frame, 0.99)
    );
    println!(
        "| REST send, no clients connected | {:.2} ms | {:.2} ms | < 10 ms p99 |",
        percentile(&rest_without, 0.5),
        percentile(&rest_without, 0.99)
    );
    println!(
        "| REST send, {clients} clients connected | {:.2} ms | {:.2} ms | unchanged |",
        percentile(&rest_with, 0.5),
        percentile(&rest_with, 0.99)
    );
    println!(
        "| REST send while another broadcast goes out to the {clients} clients | {:.2} ms | {:.2} ms | |",
        percentile(&rest_during, 0.5),
        percentile(&rest_during, 0.99)
    );
    println!(
        "| getOfficialAccountsInfo (20 subscriptions) round trip under load | {:.2} ms | {:.2} ms | |",
        percentile(&probe_rtt, 0.5),
        percentile(&probe_rtt, 0.99)
    );
    println!("each broadcast until the last client had it, in the order sent: {} ms", in_order.join(", "));
    println!("each REST send that made them, in the same order: {} ms", rest_in_order.join(", "));
    println!(
        "server memory per idle connection: {per_conn_kb:.1} KB (RSS of the node(s) {:.0} → {:.0} MiB; target < 20 KB)",
        rss_before / 1024.0,
        rss_connected / 1024.0
    );
    // Everything shares the machine's cores: the wall time of a broadcast cannot be under
    // (servers' CPU + load generators' CPU) / cores.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    println!(
        "CPU per broadcast: servers {:.0} ms ({:.1} µs a connection), load generators {:.0} ms; on {cores} cores no less than {:.0} ms of wall time",
        server_cpu * 1000.0,
        server_cpu * 1e6 / clients as f64,
        generators_cpu * 1000.0,
        (server_cpu + generators_cpu) * 1000.0 / cores
    );
    println!("server CPU while {clients} clients sit idle: {idle_cpu:.1}% of one core (all nodes)");
    for mut g in generators {
        let _ = g.kill();
    }
    for mut s in servers {
        let _ = s.kill();
    }
}
