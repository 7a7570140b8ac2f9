/**
 * Herald's client protocol (docs/client-protocol.md) for apps: one WebSocket per logged-in user, one
 * promise-returning method per `op`, events by name, and reconnection that resumes without
 * losing or repeating a message (missed messages are fetched with `getMessageList` and
 * delivered as `onRecvNewMessage`, oldest first, exactly once per connection's lifetime).
 *
 * Runs in browsers and in Node (22, or 20 with --experimental-websocket), or with any
 * WebSocket implementation passed as `WebSocket` (the `ws` package, say).
 */

import type { Message, MsgElement, MsgFlag, OfficialAccountInfo, Poll, Reaction, ServerEvent } from "./protocol.js";
// The protocol's objects and events are generated from the server's Rust types (src/protocol.ts).
export type { Message, MsgElement, MsgFlag, OfficialAccountInfo, Poll, PollOptionState, Reaction, ServerEvent } from "./protocol.js";

/** Each server event's data by the event's name, and the library's own `onConnectionChanged`. */
export type Events = { [E in ServerEvent as E["event"]]: E["data"] } & {
  /** The library's own: the connection is open (`true`) or lost and being re-established. */
  onConnectionChanged: { connected: boolean };
};

/** A refusal: the server's code and sentence (REST's codes), or -1 when the connection was lost. */
export class HeraldError extends Error {
  constructor(public readonly code: number, public readonly desc: string) {
    super(`${code}: ${desc}`);
    this.name = "HeraldError";
  }
}

/** The constructor the library opens sockets with (a browser's, Node's, or `ws`'s). */
export type WebSocketConstructor = new (url: string) => WebSocket;

export interface LoginOptions {
  sdkAppID: number;
  userID: string;
  /** The user's own UserSig, minted by the app's back end (never ship the secret key). */
  userSig: string;
  /** The server, e.g. `https://herald.example.com` (ws/wss is derived) or a `ws://` URL. */
  url: string;
  WebSocket?: WebSocketConstructor;
  /** Reconnect backoff: the first delay and the ceiling, in ms (defaults 500 and 30000). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** A request with no answer after this long fails with code -2 (default 15000). */
  requestTimeoutMs?: number;
}

interface Pending {
  resolve(data: any): void;
  reject(e: HeraldError): void;
  timer: ReturnType<typeof setTimeout>;
}

type Handler<E extends keyof Events> = (data: Events[E]) => void;

/** Keys already delivered, so a message is never handed to the app twice. */
const SEEN_MAX = 5000;

/** Logs in: resolves once the first connection is open, rejects with the server's refusal. */
export async function login(options: LoginOptions): Promise<HeraldClient> {
  const client = new HeraldClient(options);
  await client.connect();
  return client;
}

export class HeraldClient {
  private socket?: WebSocket;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private handlers = new Map<string, Set<(data: any) => void>>();
  private seen = new Set<string>();
  private seenOrder: string[] = [];
  /** Per conversation, the newest message the app has (where catch-up stops). */
  private newest = new Map<string, Message>();
  /** `newest` when the connection was lost: live messages that arrive on the new connection
   * before catch-up ends must not move where it stops, or what was sent in between is skipped. */
  private resumeFrom = new Map<string, Message>();
  private closedByUser = false;
  private attempt = 0;
  private lostAt = 0;
  private readonly Socket: WebSocketConstructor;

  constructor(private readonly options: LoginOptions) {
    const Socket = options.WebSocket ?? (globalThis as any).WebSocket;
    if (!Socket) {
      throw new Error("no WebSocket: pass one as `WebSocket` (Node 20: the `ws` package or --experimental-websocket)");
    }
    this.Socket = Socket;
  }

  /** Runs `handler` on each `event`; returns a function that stops it. */
  on<E extends keyof Events>(event: E, handler: Handler<E>): () => void {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(handler);
    return () => this.handlers.get(event)?.delete(handler);
  }

  /** With `inviteCode` (from an invite link, `/join/{code}`), the subscription counts for that link. */
  subscribeOfficialAccount(officialAccountID: string, inviteCode?: string): Promise<{}> {
    return this.request("subscribeOfficialAccount", inviteCode ? { officialAccountID, inviteCode } : { officialAccountID });
  }
  /** The account an invite code is for; refused with a sentence when the code is unknown, expired, revoked or used up. */
  resolveInviteCode(inviteCode: string): Promise<{ officialAccountInfo: OfficialAccountInfo }> {
    return this.request("resolveInviteCode", { inviteCode });
  }
  unsubscribeOfficialAccount(officialAccountID: string): Promise<{}> {
    return this.request("unsubscribeOfficialAccount", { officialAccountID });
  }
  /** An empty list: every account the user subscribes to. */
  getOfficialAccountsInfo(officialAccountIDList: string[] = []): Promise<{
    results: { resultCode: number; resultInfo: string; officialAccountInfo: OfficialAccountInfo }[];
  }> {
    return this.request("getOfficialAccountsInfo", { officialAccountIDList });
  }
  setMessageReceiveOption(officialAccountID: string, msgFlag: MsgFlag): Promise<{}> {
    return this.request("setMessageReceiveOption", { officialAccountID, msgFlag });
  }
  /** Newest first, before `lastMsgKey`. */
  async getMessageList(args: { conversationID: string; count: number; lastMsgKey?: string }): Promise<{ messages: Message[]; isFinished: boolean }> {
    const page = await this.request("getMessageList", args);
    if (!args.lastMsgKey && page.messages.length > 0) this.noteNewest(page.messages[0]);
    for (const m of page.messages) this.markSeen(m);
    return page;
  }
  markConversationRead(conversationID: string, msgKey?: string): Promise<{ unreadCount: number }> {
    return this.request("markConversationRead", msgKey ? { conversationID, msgKey } : { conversationID });
  }
  async sendMessage(args: { conversationID: string; msgBody: MsgElement[]; cloudCustomData?: string }): Promise<{ message: Message }> {
    const sent = await this.request("sendMessage", args);
    this.markSeen(sent.message);
    this.noteNewest(sent.message);
    return sent;
  }
  addMessageReaction(conversationID: string, msgKey: string, reactionID: string): Promise<{}> {
    return this.request("addMessageReaction", { conversationID, msgKey, reactionID });
  }
  removeMessageReaction(conversationID: string, msgKey: string, reactionID: string): Promise<{}> {
    return this.request("removeMessageReaction", { conversationID, msgKey, reactionID });
  }
  getMessageReactions(conversationID: string, msgKeyList: string[]): Promise<{ results: { msgKey: string; reactions: Reaction[] }[] }> {
    return this.request("getMessageReactions", { conversationID, msgKeyList });
  }
  /**
   * Votes in a poll (`message.poll`): `optionIDs` replaces the user's earlier choice, `[]`
   * withdraws it. Refused (10004, with a sentence) once the poll closed, or with two options
   * on a single-choice poll. Everyone's counts follow as `onPollChanged`.
   */
  votePoll(conversationID: string, msgKey: string, optionIDs: string[]): Promise<{ poll: Poll }> {
    return this.request("votePoll", { conversationID, msgKey, optionIDs });
  }
  ping(): Promise<{}> {
    return this.request("ping", {});
  }

  /** Closes the connection for good (no reconnect); pending requests fail with -1. */
  logout(): void {
    this.closedByUser = true;
    this.socket?.close(1000, "logout");
    this.failPending("logged out");
  }

  /** Sends one request; resolves with its `data`, rejects with a HeraldError. */
  request(op: string, data: object): Promise<any> {
    const socket = this.socket;
    if (!socket || socket.readyState !== 1) {
      return Promise.reject(new HeraldError(-1, "not connected (reconnecting)"));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HeraldError(-2, `no answer to ${op} in time`));
      }, this.options.requestTimeoutMs ?? 15000);
      this.pending.set(id, { resolve, reject, timer });
      socket.send(JSON.stringify({ id, op, data }));
    });
  }

  /** @internal Opens a connection; rejects with the server's refusal of the login. */
  connect(): Promise<void> {
    const { url, sdkAppID, userID, userSig } = this.options;
    const base = url.replace(/^http/, "ws").replace(/\/+$/, "");
    const query = new URLSearchParams({ sdkappid: String(sdkAppID), identifier: userID, usersig: userSig });
    const socket = new this.Socket(`${base}/v1/client?${query}`);
    this.socket = socket;
    return new Promise((resolve, reject) => {
      let opened = false;
      socket.onopen = () => {
        opened = true;
        this.attempt = 0;
        this.emit("onConnectionChanged", { connected: true });
        resolve();
      };
      socket.onmessage = (e: MessageEvent) => this.receive(String(e.data));
      socket.onerror = () => {};
      socket.onclose = () => {
        if (this.socket !== socket) return;
        this.failPending("connection lost");
        if (!opened) {
          // A refused login: the server answered 401 before the upgrade.
          reject(new HeraldError(70009, "the server refused the connection (check sdkAppID, userID and userSig)"));
          if (this.attempt === 0) return;
        }
        if (this.closedByUser) return;
        if (opened) {
          this.lostAt = Math.floor(Date.now() / 1000);
          this.resumeFrom = new Map(this.newest);
          this.emit("onConnectionChanged", { connected: false });
        }
        this.scheduleReconnect();
      };
    });
  }

  private scheduleReconnect(): void {
    const min = this.options.reconnectMinMs ?? 500;
    const max = this.options.reconnectMaxMs ?? 30000;
    const delay = Math.min(max, min * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.attempt++;
    setTimeout(async () => {
      if (this.closedByUser) return;
      try {
        await this.connect();
        await this.catchUp();
      } catch {
        // onclose schedules the next attempt
      }
    }, delay);
  }

  /** Fetches what arrived while disconnected and delivers it oldest first, once. */
  private async catchUp(): Promise<void> {
    const accounts = await this.getOfficialAccountsInfo([]);
    for (const r of accounts.results) {
      if (r.resultCode !== 0) continue;
      const conversationID = `c2c_${r.officialAccountInfo.officialAccountID}`;
      const known = this.resumeFrom.get(conversationID);
      const missed: Message[] = [];
      let lastMsgKey: string | undefined;
      paging: for (;;) {
        const page = await this.request("getMessageList", lastMsgKey ? { conversationID, count: 100, lastMsgKey } : { conversationID, count: 100 });
        for (const m of page.messages as Message[]) {
          if (known ? m.msgKey === known.msgKey || m.time < known.time : m.time < this.lostAt) break paging;
          missed.push(m);
          lastMsgKey = m.msgKey;
        }
        if (page.isFinished || page.messages.length === 0) break;
      }
      for (const m of missed.reverse()) this.deliver(m);
    }
  }

  private receive(text: string): void {
    let frame: any;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof frame.event === "string") {
      if (frame.event === "onRecvNewMessage") {
        this.deliver(frame.data.message);
      } else {
        this.emit(frame.event, frame.data);
      }
      return;
    }
    const pending = this.pending.get(frame.id);
    if (!pending) return;
    this.pending.delete(frame.id);
    clearTimeout(pending.timer);
    if (frame.code === 0) pending.resolve(frame.data);
    else pending.reject(new HeraldError(frame.code, frame.desc));
  }

  private deliver(message: Message): void {
    if (!this.markSeen(message)) return;
    this.noteNewest(message);
    this.emit("onRecvNewMessage", { message });
  }

  /** False when this message was delivered already. */
  private markSeen(m: Message): boolean {
    const id = `${m.conversationID}/${m.msgKey}`;
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    this.seenOrder.push(id);
    if (this.seenOrder.length > SEEN_MAX) this.seen.delete(this.seenOrder.shift()!);
    return true;
  }

  private noteNewest(m: Message): void {
    const known = this.newest.get(m.conversationID);
    if (!known || m.time >= known.time) this.newest.set(m.conversationID, m);
  }

  private emit(event: string, data: any): void {
    for (const h of this.handlers.get(event) ?? []) {
      try {
        h(data);
      } catch (e) {
        console.error(`a ${event} handler threw`, e);
      }
    }
  }

  private failPending(why: string): void {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new HeraldError(-1, why));
    }
    this.pending.clear();
  }
}

/** The invite code in an invite link (`https://…/join/{code}`, with or without a trailing path) or a bare code; `null` if it holds none. */
export function inviteCodeOf(linkOrCode: string): string | null {
  const text = linkOrCode.trim();
  const match = /\/join\/([A-Za-z0-9]{12})(?:[/?#]|$)/.exec(text) ?? /^([A-Za-z0-9]{12})$/.exec(text);
  return match ? match[1] : null;
}
