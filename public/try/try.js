// The subscriber view at /try: the client library (`herald-client.js`, built from clients/js)
// as an app would use it. Edits replace a post in place, the pinned post sits on top, and a
// poll is a set of buttons to vote with. Posts are rendered by the server's one renderer (the composer's
// preview uses the same function), which never lets script or raw HTML through; everything
// else is put in the page as text.
import { login, inviteCodeOf } from "./herald-client.js";

const $ = (id) => document.getElementById(id);
const REACTIONS = ["👍", "❤️", "🎉"];
let herald = null;
let me = "";
let open = null; // the open conversation's account ID
const accounts = new Map(); // account ID → officialAccountInfo

/** Calls a console server function (URL-encoded arguments, JSON answer). */
async function serverFn(name, args) {
  const r = await fetch(`/api/${name}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(args),
  });
  const text = await r.text();
  if (!r.ok) {
    let message = text;
    try {
      const e = JSON.parse(text);
      message = Object.values(e)[0]?.message ?? Object.values(e)[0] ?? text;
    } catch {}
    throw new Error(typeof message === "string" ? message : text);
  }
  return JSON.parse(text);
}

function setError(id, e) {
  $(id).textContent = e ? (e.desc ?? e.message ?? String(e)) : "";
}

$("mint").addEventListener("click", async () => {
  setError("login-error", null);
  const userID = $("user-id").value.trim();
  if (!userID) return setError("login-error", new Error("Enter a user ID first."));
  try {
    const sig = await serverFn("try_usersig", { user_id: userID });
    $("user-sig").value = sig.user_sig;
    $("user-sig").dataset.sdkappid = sig.sdk_app_id;
  } catch (e) {
    setError("login-error", new Error(`No test UserSig: ${e.message}. Sign in to the console as the platform owner, or paste a UserSig.`));
  }
});

$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  setError("login-error", null);
  me = $("user-id").value.trim();
  const sdkAppID = Number($("user-sig").dataset.sdkappid || (await serverFn("try_sdkappid", {}).catch(() => 0)));
  try {
    herald = await login({ sdkAppID, userID: me, userSig: $("user-sig").value.trim(), url: location.origin });
  } catch (e) {
    return setError("login-error", e);
  }
  $("login").hidden = true;
  $("app").hidden = false;
  $("me").textContent = me;
  herald.on("onTotalUnreadMessageCountChanged", ({ totalUnreadCount }) => ($("total-unread").textContent = totalUnreadCount));
  herald.on("onOfficialAccountSubscribed", ({ officialAccountInfo }) => upsertAccount(officialAccountInfo));
  herald.on("onOfficialAccountInfoChanged", ({ officialAccountInfo }) => upsertAccount(officialAccountInfo));
  herald.on("onOfficialAccountUnsubscribed", ({ officialAccountID }) => removeAccount(officialAccountID));
  herald.on("onOfficialAccountDeleted", ({ officialAccountID }) => removeAccount(officialAccountID));
  herald.on("onRecvNewMessage", ({ message }) => onMessage(message));
  herald.on("onRecvMessageRevoked", ({ msgKey }) => markRevoked(msgKey));
  herald.on("onMessageReactionsChanged", ({ msgKey, reactions }) => showReactions(msgKey, reactions));
  herald.on("onRecvMessageModified", ({ message }) => replaceMessage(message));
  herald.on("onPollChanged", ({ msgKey, poll }) => showPoll(msgKey, poll));
  await refreshAccounts();
});

async function refreshAccounts() {
  const info = await herald.getOfficialAccountsInfo([]);
  accounts.clear();
  let total = 0;
  for (const r of info.results) {
    if (r.resultCode === 0) {
      accounts.set(r.officialAccountInfo.officialAccountID, r.officialAccountInfo);
      total += r.officialAccountInfo.unreadCount;
    }
  }
  $("total-unread").textContent = total;
  drawAccounts();
}

function upsertAccount(info) {
  accounts.set(info.officialAccountID, info);
  drawAccounts();
  if (info.officialAccountID === open) drawPinned();
}

function messageItem(msgKey) {
  return [...$("messages").children].find((e) => e.dataset.msgKey === msgKey);
}

/** The open account's pinned post, above the conversation (a copy of its text). */
function drawPinned() {
  const key = accounts.get(open)?.pinnedMsgKey ?? "";
  const box = $("pinned");
  const li = key ? messageItem(key) : null;
  box.hidden = !li;
  if (!li) return box.replaceChildren();
  const label = document.createElement("div");
  label.className = "label";
  label.textContent = "📌 Pinned";
  const text = document.createElement("div");
  text.textContent = li.querySelector(".body").textContent.trim().slice(0, 200);
  box.replaceChildren(label, text);
}

function removeAccount(id) {
  accounts.delete(id);
  if (open === id) {
    open = null;
    $("conversation").hidden = true;
  }
  drawAccounts();
}

function drawAccounts() {
  const list = $("accounts");
  list.replaceChildren();
  for (const [id, info] of accounts) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = info.officialAccountName;
    if (info.unreadCount > 0 && id !== open) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = String(info.unreadCount);
      badge.setAttribute("aria-label", `${info.unreadCount} unread`);
      button.append(badge);
    }
    button.addEventListener("click", () => openConversation(id));
    const li = document.createElement("li");
    li.append(button);
    list.append(li);
  }
}

$("subscribe-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  setError("app-error", null);
  try {
    // An invite link (or its code) subscribes through the link, which then counts the subscriber.
    const text = $("subscribe-id").value.trim();
    const code = inviteCodeOf(text);
    if (code) {
      const { officialAccountInfo } = await herald.resolveInviteCode(code);
      await herald.subscribeOfficialAccount(officialAccountInfo.officialAccountID, code);
    } else {
      await herald.subscribeOfficialAccount(text);
    }
    $("subscribe-id").value = "";
  } catch (e) {
    setError("app-error", e);
  }
});

async function openConversation(id) {
  open = id;
  $("conversation").hidden = false;
  $("conversation-title").textContent = accounts.get(id)?.officialAccountName ?? id;
  $("messages").replaceChildren();
  try {
    const page = await herald.getMessageList({ conversationID: `c2c_${id}`, count: 50 });
    for (const m of page.messages.slice().reverse()) await appendMessage(m);
    drawPinned();
    await herald.markConversationRead(`c2c_${id}`);
    const info = accounts.get(id);
    if (info) info.unreadCount = 0;
    drawAccounts();
  } catch (e) {
    setError("app-error", e);
  }
}

async function onMessage(message) {
  const info = accounts.get(message.officialAccountID);
  if (message.officialAccountID === open) {
    await appendMessage(message);
    herald.markConversationRead(message.conversationID).catch(() => {});
  } else if (info && message.sender !== me) {
    info.unreadCount += 1;
    drawAccounts();
  }
}

async function appendMessage(m) {
  const li = document.createElement("li");
  li.dataset.msgKey = m.msgKey;
  if (m.sender === me) li.classList.add("mine");
  const meta = document.createElement("div");
  meta.className = "meta";
  const body = document.createElement("div");
  body.className = "body";
  const reactions = document.createElement("div");
  reactions.className = "reactions";
  reactions.setAttribute("role", "group");
  reactions.setAttribute("aria-label", "Reactions");
  li.append(meta, body, reactions);
  $("messages").append(li);
  await fillMessage(li, m);
  li.scrollIntoView({ block: "end" });
}

/** Puts `m` (new or edited) into its item: meta line, body, poll, reactions. */
async function fillMessage(li, m) {
  const from = m.sender === me ? "You" : accounts.get(m.officialAccountID)?.officialAccountName ?? m.sender;
  const meta = li.querySelector(".meta");
  meta.textContent = `${from} · ${new Date(m.time * 1000).toLocaleString()}`;
  if (m.isEdited) {
    const edited = document.createElement("span");
    edited.className = "edited";
    edited.textContent = ` · edited ${new Date(m.editTime * 1000).toLocaleTimeString()}`;
    meta.append(edited);
  }
  const body = li.querySelector(".body");
  if (m.isRevoked) {
    li.classList.add("revoked");
    body.textContent = "This message was recalled.";
  } else if (m.poll) {
    body.replaceChildren();
    showPoll(m.msgKey, m.poll);
  } else {
    try {
      // The server's renderer: the same function as the composer's preview (allow-listed HTML).
      body.innerHTML = await serverFn("try_render", { msg_body: JSON.stringify(m.msgBody) });
    } catch {
      body.textContent = m.msgBody.map((e) => e.MsgContent?.Text ?? `[${e.MsgType}]`).join(" ");
    }
  }
  showReactions(m.msgKey, m.reactions);
}

/** An edited post, in place (no new item, nothing unread). */
async function replaceMessage(m) {
  const li = messageItem(m.msgKey);
  if (!li) return;
  await fillMessage(li, m);
  if (accounts.get(open)?.pinnedMsgKey === m.msgKey) drawPinned();
}

/** A poll as buttons: the reader's choices pressed, each option's votes beside it. */
function showPoll(msgKey, poll) {
  const li = messageItem(msgKey);
  if (!li || li.classList.contains("revoked")) return;
  const box = document.createElement("div");
  box.className = "poll";
  const question = document.createElement("p");
  question.className = "poll-question";
  question.textContent = poll.question;
  const choices = document.createElement("div");
  choices.className = "poll-choices";
  choices.setAttribute("role", "group");
  choices.setAttribute("aria-label", `Vote: ${poll.question}`);
  for (const o of poll.options) {
    const chosen = poll.myVotes.includes(o.optionID);
    const b = document.createElement("button");
    b.type = "button";
    b.disabled = poll.isClosed;
    b.setAttribute("aria-pressed", String(chosen));
    const text = document.createElement("span");
    text.textContent = o.text;
    const count = document.createElement("span");
    count.className = "votes";
    count.textContent = `${o.voteCount} vote${o.voteCount === 1 ? "" : "s"}`;
    b.append(text, count);
    b.addEventListener("click", async () => {
      const next = chosen
        ? poll.myVotes.filter((id) => id !== o.optionID)
        : poll.allowMultiple ? [...poll.myVotes, o.optionID] : [o.optionID];
      try {
        const got = await herald.votePoll(`c2c_${open}`, msgKey, next);
        showPoll(msgKey, got.poll);
      } catch (e) {
        setError("app-error", e);
      }
    });
    choices.append(b);
  }
  const note = document.createElement("p");
  note.className = "poll-note";
  const closes = poll.closesAt ? ` · ${poll.isClosed ? "closed" : "closes"} ${new Date(poll.closesAt * 1000).toLocaleString()}` : "";
  note.textContent = `${poll.allowMultiple ? "Several choices" : "One choice"} · ${poll.totalVoters} voter${poll.totalVoters === 1 ? "" : "s"}${closes}`;
  box.append(question, choices, note);
  li.querySelector(".body").replaceChildren(box);
}

function showReactions(msgKey, reactions) {
  const li = messageItem(msgKey);
  if (!li || li.classList.contains("revoked")) return;
  const box = li.querySelector(".reactions");
  box.replaceChildren();
  const ids = [...new Set([...REACTIONS, ...reactions.map((r) => r.reactionID)])];
  for (const id of ids) {
    const r = reactions.find((x) => x.reactionID === id) ?? { reactionID: id, totalUserCount: 0, reactedByMe: false };
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = r.totalUserCount > 0 ? `${id} ${r.totalUserCount}` : id;
    b.setAttribute("aria-pressed", String(r.reactedByMe));
    b.setAttribute("aria-label", `React ${id}`);
    b.addEventListener("click", async () => {
      const conversationID = `c2c_${open}`;
      try {
        if (r.reactedByMe) await herald.removeMessageReaction(conversationID, msgKey, id);
        else await herald.addMessageReaction(conversationID, msgKey, id);
        const got = await herald.getMessageReactions(conversationID, [msgKey]);
        showReactions(msgKey, got.results[0].reactions);
      } catch (e) {
        setError("app-error", e);
      }
    });
    box.append(b);
  }
}

function markRevoked(msgKey) {
  const li = messageItem(msgKey);
  if (!li) return;
  li.classList.add("revoked");
  li.querySelector(".body").textContent = "This message was recalled.";
  li.querySelector(".reactions").replaceChildren();
}

$("send-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const text = $("message").value;
  if (!open || !text.trim()) return;
  try {
    const { message } = await herald.sendMessage({ conversationID: `c2c_${open}`, msgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: text } }] });
    $("message").value = "";
    await appendMessage(message);
  } catch (e) {
    setError("app-error", e);
  }
});
