// Live delivery as users see it: the subscriber view at /try (built on the client library)
// receives a post published in the console's composer without reloading, a reaction made there
// counts on the console's Posts page, and a subscriber's message shows in the console's Inbox
// live and gets a reply that reaches /try live.
import { expect } from "@playwright/test";
import { accountPath, connectInTry, newAccount, openComposer, rest, signedIn, test } from "./console";

test("a post published in the composer appears live in /try, and a reaction there counts on the Posts page", async ({ page, context, request }) => {
  const { id, name } = await newAccount(request, "Live");
  const user = `try-${Date.now().toString(36)}`;
  await signedIn(page);
  await connectInTry(page, user);
  await page.getByLabel("Account ID").fill(id);
  await page.getByRole("button", { name: "Subscribe" }).click();
  const accounts = page.getByRole("navigation", { name: "Accounts" });
  await accounts.getByRole("button", { name }).click();
  const conversation = page.getByRole("region", { name: "Conversation" });
  await expect(conversation).toBeVisible();

  // An editor publishes in another tab of the console.
  const editor = await context.newPage();
  await openComposer(editor, id);
  await editor.getByLabel("Body").fill("Hello **subscribers**, this arrived live.");
  await editor.getByRole("button", { name: "Publish now" }).click();
  await expect(editor.getByRole("status").filter({ hasText: "Published." })).toBeVisible();

  // The subscriber sees it without reloading, rendered by the one renderer (bold stays bold).
  await expect(conversation.getByText("this arrived live")).toBeVisible();
  await expect(conversation.locator("strong", { hasText: "subscribers" })).toBeVisible();
  await conversation.getByRole("button", { name: "React 👍" }).click();
  await expect(conversation.getByRole("button", { name: "React 👍" })).toHaveAttribute("aria-pressed", "true");
  await expect(conversation.getByRole("button", { name: "React 👍" })).toHaveText("👍 1");

  await editor.goto(`${accountPath(id)}/posts`);
  const row = editor.getByRole("row").filter({ hasText: "this arrived live" });
  await expect(row.getByRole("cell", { name: "👍 1" })).toBeVisible();
});

test("a subscriber's message shows in the Inbox without reloading, and the reply reaches them live", async ({ page, context, request }) => {
  const { id, name } = await newAccount(request, "Inbox");
  const user = `chat-${Date.now().toString(36)}`;
  await rest(request, "im_open_login_svc/account_import", { UserID: user });
  await rest(request, "official_account_open_http_svc/add_subscriber", { Official_Account: id, SubscriberList: [{ Subscriber_Account: user }] });
  await signedIn(page);
  await page.goto(`${accountPath(id)}/inbox`);
  await expect(page.getByText("No messages yet.")).toBeVisible();

  // The subscriber writes from /try in another tab.
  const subscriber = await context.newPage();
  await connectInTry(subscriber, user);
  await subscriber.getByRole("navigation", { name: "Accounts" }).getByRole("button", { name }).click();
  await subscriber.getByLabel("Message").fill("Hello, is anyone there?");
  await subscriber.getByRole("button", { name: "Send", exact: true }).click();

  // The Inbox shows it, unread, without a reload.
  const conversations = page.getByRole("navigation", { name: "Conversations" });
  await expect(conversations.getByRole("link", { name: new RegExp(`${user}.*1 unread`) })).toBeVisible();
  await conversations.getByRole("link", { name: new RegExp(user) }).click();
  const chat = page.getByRole("region", { name: `Conversation with ${user}` });
  await expect(chat.getByText("Hello, is anyone there?")).toBeVisible();
  await page.getByLabel("Reply").fill("Yes, we are here.");
  await page.getByRole("button", { name: "Send reply" }).click();
  await expect(chat.getByText("Yes, we are here.")).toBeVisible();
  await expect(page.getByLabel("Reply")).toHaveValue("");

  // The reply reaches the subscriber live.
  await expect(subscriber.getByRole("region", { name: "Conversation" }).getByText("Yes, we are here.")).toBeVisible();
});

test("/try subscribes with an invite link pasted whole, and the link counts the subscriber", async ({ page, request }) => {
  const { id, name } = await newAccount(request, "Invite");
  const made = await rest(request, "herald_open_http_svc/create_invite_link", { Official_Account: id, Name: "Try page", MaxUses: 3 });
  expect(made.ErrorCode).toBe(0);
  const user = `inv-${Date.now().toString(36)}`;
  await signedIn(page); // the test UserSig is minted for a signed-in console user
  await connectInTry(page, user);
  await page.getByLabel("Account ID or invite link").fill(made.Url);
  await page.getByRole("button", { name: "Subscribe" }).click();
  await expect(page.getByRole("navigation", { name: "Accounts" }).getByRole("button", { name })).toBeVisible();
  const links = await rest(request, "herald_open_http_svc/get_invite_links", { Official_Account: id });
  expect(links.Links[0].Uses).toBe(1);
  const insights = await rest(request, "herald_open_http_svc/get_account_insights", {
    Official_Account: id,
    From: new Date().toISOString().slice(0, 10),
    To: new Date().toISOString().slice(0, 10),
  });
  expect(insights.BySource).toEqual([{ Source: "link:Try page", Subscribed: 1 }]);
});
