// Starts the real Herald server (target/release/server, built by scripts/build.sh) on a free
// port with a fresh SQLite file, and talks REST to it as the app's back end would.
import { spawn, execFileSync, ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { deflateSync } from "node:zlib";

export const SDKAPPID = 1400000777;
const KEY = "js-client-test-key";
const ADMIN = "administrator";
const BINARY = resolve(process.env.HERALD_SERVER_BIN ?? "../../target/release/server");

/** TLSSigAPIv2 (docs/rest-api.md §2): what an app's back end runs; never shipped to clients. */
export function userSig(identifier: string, expire = 3600): string {
  const time = Math.floor(Date.now() / 1000);
  const text = `TLS.identifier:${identifier}\nTLS.sdkappid:${SDKAPPID}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
  const sig = createHmac("sha256", KEY).update(text).digest("base64");
  const json = JSON.stringify({ "TLS.ver": "2.0", "TLS.identifier": identifier, "TLS.sdkappid": SDKAPPID, "TLS.expire": expire, "TLS.time": time, "TLS.sig": sig });
  return deflateSync(Buffer.from(json)).toString("base64").replace(/\+/g, "*").replace(/\//g, "-").replace(/=/g, "_");
}

async function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as any).port;
      s.close(() => ok(port));
    });
  });
}

export class Server {
  private child?: ChildProcess;
  constructor(readonly port: number, readonly db: string) {}

  /** Two servers on one new PostgreSQL database (HERALD_TEST_PG_URL); undefined without it. */
  static async pair(): Promise<[Server, Server] | undefined> {
    const url = process.env.HERALD_TEST_PG_URL;
    if (!url) return undefined;
    const name = `herald_js_${Date.now().toString(36)}_${process.pid}`;
    execFileSync("psql", [url, "-qc", `create database ${name}`]);
    const db = `${url.slice(0, url.lastIndexOf("/"))}/${name}`;
    const pair: [Server, Server] = [new Server(await freePort(), db), new Server(await freePort(), db)];
    for (const s of pair) await s.start();
    return pair;
  }

  static async fresh(): Promise<Server> {
    const dir = mkdtempSync(join(tmpdir(), "herald-js-"));
    const server = new Server(await freePort(), `sqlite://${dir}/herald.db`);
    await server.start();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(BINARY, [], {
      env: {
        ...process.env,
        HERALD_ADDR: `127.0.0.1:${this.port}`,
        DATABASE_URL: this.db,
        HERALD_SDKAPPID: String(SDKAPPID),
        HERALD_SECRET_KEY: KEY,
        HERALD_ADMIN_PASSWORD: "js-client-test-password",
        HERALD_BROADCASTS_PER_SECOND: "100000",
        HERALD_BROADCASTS_PER_HOUR: "100000",
        HERALD_DRAIN_SECS: "1",
        RUST_LOG: "warn",
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await fetch(`${this.url}/healthz`)).ok) return;
      } catch {}
      if (Date.now() > deadline) throw new Error("the server did not come up");
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM: the server drains (clients get close code 1012) and exits. */
  async terminate(): Promise<void> {
    const child = this.child!;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((ok) => {
      child.once("exit", () => ok());
      child.kill("SIGTERM");
    });
  }

  /** SIGKILL: no goodbye to anyone. */
  async kill(): Promise<void> {
    const child = this.child!;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((ok) => {
      child.once("exit", () => ok());
      child.kill("SIGKILL");
    });
  }

  async rest(command: string, body: object): Promise<any> {
    const q = `sdkappid=${SDKAPPID}&identifier=${ADMIN}&usersig=${userSig(ADMIN)}&random=1&contenttype=json`;
    const r = await fetch(`${this.url}/v4/${command}?${q}`, { method: "POST", body: JSON.stringify(body) });
    const answer = await r.json();
    if (answer.ErrorCode !== 0) throw new Error(`${command}: ${JSON.stringify(answer)}`);
    return answer;
  }

  /** An account with these users imported and subscribed. */
  async account(id: string, subscribers: string[]): Promise<void> {
    await this.rest("im_open_login_svc/multiaccount_import", { Accounts: ["owner", ...subscribers] });
    await this.rest("official_account_open_http_svc/create_official_account", { Owner_Account: "owner", OfficialAccountUserID: id, Name: "Test account" });
    if (subscribers.length > 0) {
      await this.rest("official_account_open_http_svc/add_subscriber", {
        Official_Account: id,
        SubscriberList: subscribers.map((s) => ({ Subscriber_Account: s })),
      });
    }
  }

  async broadcast(account: string, text: string, random = Math.floor(Math.random() * 2 ** 31)): Promise<string> {
    const r = await this.rest("official_account_open_http_svc/send_official_account_msg", {
      Official_Account: account,
      Random: random,
      MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: text } }],
    });
    return r.MsgKey;
  }
}
