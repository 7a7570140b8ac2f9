// The library against the real server: login and its refusal, each op, events, and reconnect
// after a SIGKILL or a SIGTERM's drain (close code 1012) that neither loses nor repeats a message.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { login, HeraldClient, HeraldError, Message, inviteCodeOf } from "../src/index.js";
import { Server, SDKAPPID, userSig } from "./server.js";

const servers: Server[] = [];
const clients: HeraldClient[] = [];
after(async () => {
  for (const c of clients) c.logout();
  for (const s of servers) await s.kill().catch(() => {});
});

async function fresh(): Promise<Server> {
  const s = await Server.fresh();
  servers.push(s);
  return s;
}

async function as(server: Server, userID: string, extra: object = {}): Promise<HeraldClient> {
  const c = await login({ sdkAppID: SDKAPPID, userID, userSig: userSig(userID), url: server.url, WebSocket: WebSocket as any, ...extra });
  clients.push(c);
  return c;
}

/** Resolves with the next `count` values `on` gives, or rejects after `ms`. */
function next<T>(on: (h: (v: T) => void) => () => void, count = 1, ms = 10_000): Promise<T[]> {
  return new Promise((ok, fail) => {
    const got: T[] = [];
    const timer = setTimeout(() => {
      stop();
      fail(new Error(`only ${got.length} of ${count} events came`));
    }, ms);
    const stop = on((v) => {
      got.push(v);
      if (got.length === count) {
        clearTimeout(timer);
        stop();
        ok(got);
      }
    });
  });
}

const textOf = (m: Message) => (m.msgBody[0].MsgContent as any).Text as string;

test("a refused login rejects with the server's refusal and no client", async () => {
  const server = await fresh();
  await server.rest("im_open_login_svc/account_import", { UserID: "alice" });
  await assert.rejects(
    login({ sdkAppID: SDKAPPID, userID: "alice", userSig: userSig("bob"), url: server.url, WebSocket: WebSocket as any }),
    (e: unknown) => e instanceof HeraldError,
  );
});

test("a subscriber gets a post live, its unread count, reads it and reacts", async () => {
  const server = await fresh();
  await server.account("@TOA#_js", ["alice"]);
  const alice = await as(server, "alice");
  const arriving = next<{ message: Message }>((h) => alice.on("onRecvNewMessage", h));
  const key = await server.broadcast("@TOA#_js", "hello from REST");
  const [{ message }] = await arriving;
  assert.equal(message.msgKey, key);
  assert.equal(textOf(message), "hello from REST");
  const info = await alice.getOfficialAccountsInfo();
  assert.equal(info.results[0].officialAccountInfo.unreadCount, 1);
  assert.deepEqual(await alice.markConversationRead("c2c_@TOA#_js"), { unreadCount: 0 });
  await alice.addMessageReaction("c2c_@TOA#_js", key, "👍");
  const reactions = await alice.getMessageReactions("c2c_@TOA#_js", [key]);
  assert.deepEqual(reactions.results[0].reactions, [{ reactionID: "👍", totalUserCount: 1, reactedByMe: true }]);
  const sent = await alice.sendMessage({ conversationID: "c2c_@TOA#_js", msgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "thanks" } }] });
  assert.equal(sent.message.sender, "alice");
  const page = await alice.getMessageList({ conversationID: "c2c_@TOA#_js", count: 10 });
  assert.deepEqual(page.messages.map(textOf), ["thanks", "hello from REST"]);
});

test("refusals come as HeraldError with the REST code", async () => {
  const server = await fresh();
  await server.account("@TOA#_refuse", ["alice"]);
  const alice = await as(server, "alice");
  await assert.rejects(alice.subscribeOfficialAccount("@TOA#_missing"), (e: any) => e instanceof HeraldError && e.code === 10010);
  await assert.rejects(alice.getMessageList({ conversationID: "c2c_@TOA#_refuse", count: 1000 }), (e: any) => e.code === 10004 && /count/.test(e.desc));
  await assert.rejects(alice.request("fly", {}), (e: any) => e.code === 60009);
  await alice.ping();
});

test("an invite link's code resolves to its account, subscribes once under the link, and a used-up code is refused", async () => {
  const server = await fresh();
  await server.account("@TOA#_js_invite", []);
  await server.rest("im_open_login_svc/multiaccount_import", { Accounts: ["carol", "dave"] });
  const made = await server.rest("herald_open_http_svc/create_invite_link", { Official_Account: "@TOA#_js_invite", Name: "Flyer", MaxUses: 1 });
  const code = inviteCodeOf(made.Url);
  assert.equal(code, made.InviteCode);
  assert.equal(inviteCodeOf(`  ${made.InviteCode} `), made.InviteCode);
  assert.equal(inviteCodeOf("https://example.com/join/short"), null);
  const carol = await as(server, "carol");
  const resolved = await carol.resolveInviteCode(code!);
  assert.equal(resolved.officialAccountInfo.officialAccountID, "@TOA#_js_invite");
  await carol.subscribeOfficialAccount("@TOA#_js_invite", code!);
  const links = await server.rest("herald_open_http_svc/get_invite_links", { Official_Account: "@TOA#_js_invite" });
  assert.equal(links.Links[0].Uses, 1);
  const dave = await as(server, "dave");
  await assert.rejects(dave.subscribeOfficialAccount("@TOA#_js_invite", code!), (e: unknown) => {
    assert.ok(e instanceof HeraldError);
    assert.equal(e.code, 10004);
    assert.match(e.message, /used as many times/);
    return true;
  });
});

test("an edit arrives as onRecvMessageModified, a pin as pinnedMsgKey, and a poll is voted in with onPollChanged", async () => {
  const server = await fresh();
  await server.account("@TOA#_js_life", ["alice"]);
  const alice = await as(server, "alice");
  const conv = "c2c_@TOA#_js_life";
  const arriving = next<{ message: Message }>((h) => alice.on("onRecvNewMessage", h));
  const key = await server.broadcast("@TOA#_js_life", "price: $10");
  await arriving;
  const modified = next<{ message: Message }>((h) => alice.on("onRecvMessageModified", h));
  const edited = await server.rest("herald_open_http_svc/official_account_msg_modify", {
    Official_Account: "@TOA#_js_life", MsgKey: key, MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "price: $12" } }],
  });
  const [{ message }] = await modified;
  assert.equal(textOf(message), "price: $12");
  assert.equal(message.isEdited, true);
  assert.equal(message.editTime, edited.EditTime);

  const changed = next<{ officialAccountInfo: { pinnedMsgKey: string } }>((h) => alice.on("onOfficialAccountInfoChanged", h));
  await server.rest("herald_open_http_svc/set_pinned_msg", { Official_Account: "@TOA#_js_life", MsgKey: key });
  assert.equal((await changed)[0].officialAccountInfo.pinnedMsgKey, key);

  const poll = { herald: "poll", v: 1, question: "Tea or coffee?", options: [{ id: "t", text: "Tea" }, { id: "c", text: "Coffee" }], multiple: false, closesAt: 0 };
  const polled = next<{ message: Message }>((h) => alice.on("onRecvNewMessage", h));
  const sent = await server.rest("official_account_open_http_svc/send_official_account_msg", {
    Official_Account: "@TOA#_js_life", Random: 7,
    MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: "Tea or coffee?\n1. Tea\n2. Coffee" } }, { MsgType: "TIMCustomElem", MsgContent: { Data: JSON.stringify(poll) } }],
  });
  const [{ message: pollMessage }] = await polled;
  assert.equal(pollMessage.poll?.question, "Tea or coffee?");
  const counted = next<{ msgKey: string; poll: { options: { voteCount: number }[]; myVotes: string[] } }>((h) => alice.on("onPollChanged", h));
  const voted = await alice.votePoll(conv, sent.MsgKey, ["c"]);
  assert.deepEqual(voted.poll.myVotes, ["c"]);
  assert.deepEqual(voted.poll.options.map((o) => o.voteCount), [0, 1]);
  const [event] = await counted;
  assert.equal(event.msgKey, sent.MsgKey);
  assert.deepEqual(event.poll.myVotes, ["c"]);
  await assert.rejects(alice.votePoll(conv, sent.MsgKey, ["t", "c"]), (e: any) => e instanceof HeraldError && e.code === 10004);
});

test("after a SIGKILL the client reconnects and delivers what it missed, each message once", async () => {
  const server = await fresh();
  await server.account("@TOA#_resume", ["alice"]);
  const alice = await as(server, "alice", { reconnectMinMs: 1500, reconnectMaxMs: 3000 });
  const delivered: string[] = [];
  alice.on("onRecvNewMessage", ({ message }) => delivered.push(textOf(message)));
  const first = next<any>((h) => alice.on("onRecvNewMessage", h));
  await server.broadcast("@TOA#_resume", "before");
  await first;
  const lost = next<any>((h) => alice.on("onConnectionChanged", h));
  await server.kill();
  await lost;
  await server.start();
  // Sent while the client waits out its backoff: it must fetch these on reconnect.
  for (const t of ["missed 1", "missed 2", "missed 3"]) await server.broadcast("@TOA#_resume", t);
  const back = next<any>((h) => alice.on("onRecvNewMessage", h), 3, 20_000);
  await back;
  // Listening before sending: the event may come before the REST answer does.
  const after = next<any>((h) => alice.on("onRecvNewMessage", h));
  await server.broadcast("@TOA#_resume", "after");
  await after;
  assert.deepEqual(delivered, ["before", "missed 1", "missed 2", "missed 3", "after"]);
});

test("a draining server closes connections with 1012; the library reconnects and catches up, each message once", async () => {
  const server = await fresh();
  await server.account("@TOA#_drain", ["dana", "raw"]);
  const dana = await as(server, "dana", { reconnectMinMs: 1500, reconnectMaxMs: 3000 });
  const delivered: string[] = [];
  dana.on("onRecvNewMessage", ({ message }) => delivered.push(textOf(message)));
  const first = next<any>((h) => dana.on("onRecvNewMessage", h));
  await server.broadcast("@TOA#_drain", "before");
  await first;
  // A raw WebSocket client sees the close code itself.
  const query = new URLSearchParams({ sdkappid: String(SDKAPPID), identifier: "raw", usersig: userSig("raw") });
  const raw = new WebSocket(`${server.url.replace("http", "ws")}/v1/client?${query}`);
  await new Promise((ok, fail) => {
    raw.once("open", ok);
    raw.once("error", fail);
  });
  const closed = new Promise<number>((ok) => raw.once("close", (code: number) => ok(code)));
  const lost = next<any>((h) => dana.on("onConnectionChanged", h));
  await server.terminate();
  assert.equal(await closed, 1012);
  assert.deepEqual(await lost, [{ connected: false }]);
  await server.start();
  for (const t of ["missed 1", "missed 2"]) await server.broadcast("@TOA#_drain", t);
  await next<any>((h) => dana.on("onRecvNewMessage", h), 2, 20_000);
  const after = next<any>((h) => dana.on("onRecvNewMessage", h));
  await server.broadcast("@TOA#_drain", "after");
  await after;
  assert.deepEqual(delivered, ["before", "missed 1", "missed 2", "after"]);
});

test("while one of two nodes drains, its clients move to the other and miss no broadcast sent meanwhile, nor get one twice", async (t) => {
  const pair = await Server.pair();
  if (!pair) return t.skip("two nodes need PostgreSQL (HERALD_TEST_PG_URL)");
  servers.push(...pair);
  const [a, b] = pair;
  await a.account("@TOA#_lb", ["u1", "u2", "u3"]);
  // A load balancer in front of both: new connections go to a node that is not draining.
  let upstream = a;
  class Balanced extends WebSocket {
    constructor(url: string) {
      super(url.replace(`:${a.port}/`, `:${upstream.port}/`));
    }
  }
  const users = ["u1", "u2", "u3"];
  const delivered = new Map<string, string[]>(users.map((u) => [u, []]));
  for (const u of users) {
    const c = await as(a, u, { WebSocket: Balanced as any, reconnectMinMs: 300, reconnectMaxMs: 1000 });
    c.on("onRecvNewMessage", ({ message }) => delivered.get(u)!.push(message.msgKey));
  }
  // Node B keeps broadcasting while node A drains and stops.
  const sent: string[] = [];
  let sending = true;
  const sender = (async () => {
    for (let i = 0; sending; i++) {
      sent.push(await b.broadcast("@TOA#_lb", `b${i}`));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await new Promise((r) => setTimeout(r, 500));
  upstream = b;
  await a.terminate();
  await new Promise((r) => setTimeout(r, 2500));
  sending = false;
  await sender;
  // Everything sent reaches everyone once (the last may still be on its way).
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && users.some((u) => delivered.get(u)!.length < sent.length)) await new Promise((r) => setTimeout(r, 100));
  for (const u of users) {
    const got = delivered.get(u)!;
    assert.equal(new Set(got).size, got.length, `${u} got a broadcast twice`);
    assert.deepEqual([...got].sort(), [...sent].sort(), `${u} has every broadcast`);
  }
  assert.ok(sent.length >= 20, `${sent.length} sent`);
});
