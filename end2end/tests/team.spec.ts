// Editors and viewers as users: the platform owner invites an editor for one account; the editor
// accepts the link in their own browser, is told how strong their password is, sees that account
// only, publishes on it, and is refused by the server on the other account; a viewer reads posts
// with no Publish or Recall button and the server refuses their publish; disabling the editor ends
// their session at the next click; the audit log names who did each of these.
import { expect, Browser, Page } from "@playwright/test";
import { accountPath, hydrating, newAccount, noPanics, openComposer, signedIn, test } from "./console";

/** Invites `username` as `role` on the account named `accountName`; answers the link. */
async function invite(page: Page, username: string, role: "editor" | "viewer", accountName: string) {
  await page.goto("/settings/users");
  const form = page.getByRole("region", { name: "Invite user" });
  await form.getByLabel("User name").fill(username);
  await form.getByLabel("Role").selectOption(role);
  await form.getByLabel(new RegExp(accountName)).check();
  await form.getByRole("button", { name: "Invite user" }).click();
  const shown = form.getByRole("status");
  await expect(shown).toContainText("/invite/");
  return (await shown.locator("code").textContent())!;
}

/** Opens `link` in a browser of its own and sets a good password; answers that browser's page. */
async function accept(browser: Browser, link: string) {
  const context = hydrating(await browser.newContext());
  const page = await context.newPage();
  await page.goto(link);
  await page.getByLabel("New password").fill("correct horse battery staple");
  await expect(page.getByText(/Strength [34] of 4 — good/)).toBeVisible();
  await page.getByRole("button", { name: "Set password and sign in" }).click();
  await expect(page.getByRole("heading", { name: "Official accounts" })).toBeVisible();
  return page;
}

/** Calls a server function from `page`, as its own scripts would; answers the HTTP status. */
async function callServerFn(page: Page, name: string, form: Record<string, string>) {
  return page.evaluate(
    async ([name, form]) => {
      const res = await fetch(`/api/${name}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(form).toString(),
      });
      return res.status;
    },
    [name, form] as const,
  );
}

test("an invited editor publishes on their account only, a viewer only reads, and the audit log names them", async ({ page, browser, request }) => {
  const a = await newAccount(request, "Editor A");
  const b = await newAccount(request, "Editor B");
  const stamp = Date.now().toString(36);
  const editorName = `ed-${stamp}`;
  const viewerName = `vw-${stamp}`;
  await signedIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" }).click();
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();

  // Only editors and viewers are asked which accounts they work on.
  const inviteForm = page.getByRole("region", { name: "Invite user" });
  const workOn = inviteForm.getByRole("group", { name: "Accounts they work on" });
  await expect(workOn).toBeVisible();
  await inviteForm.getByLabel("Role").selectOption("account_owner");
  await expect(workOn).toBeHidden();
  await inviteForm.getByLabel("Role").selectOption("viewer");
  await expect(workOn).toBeVisible();

  // The editor, in a browser of their own: a weak password is refused first.
  const link = await invite(page, editorName, "editor", a.name);
  const theirs = hydrating(await browser.newContext());
  const weak = await theirs.newPage();
  await weak.goto(link);
  await weak.getByLabel("New password").fill("password1234");
  await expect(weak.getByText(/Strength [0-2] of 4/)).toBeVisible();
  await weak.getByRole("button", { name: "Set password and sign in" }).click();
  await expect(weak.getByRole("alert")).toContainText(/too easy to guess/i);
  noPanics(theirs);
  await theirs.close();
  const editor = await accept(browser, link);
  await expect(editor.getByRole("link", { name: a.name })).toBeVisible();
  await expect(editor.getByRole("link", { name: b.name })).toHaveCount(0);
  await expect(editor.getByRole("button", { name: "New account" })).toHaveCount(0);
  await expect(editor.getByRole("button", { name: `Edit ${a.name}` })).toHaveCount(0);
  const nav = editor.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Your account" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Settings" })).toHaveCount(0);
  await expect(nav.getByRole("link", { name: "Audit log" })).toHaveCount(0);

  // They publish on A …
  await openComposer(editor, a.id);
  await editor.getByLabel("Body").fill("Written by the editor.");
  await editor.getByRole("button", { name: "Publish now" }).click();
  await expect(editor.getByRole("status").filter({ hasText: "Published." })).toBeVisible();
  // … and B's pages and server functions refuse them, whatever the UI shows.
  await editor.goto(`${accountPath(b.id)}/posts`);
  await expect(editor.getByRole("alert").first()).toContainText("no access");
  expect(await callServerFn(editor, "list_posts", { account: b.id })).toBe(403);
  expect(await callServerFn(editor, "publish_post", { account: b.id, id: "any" })).toBe(403);

  // A viewer of A reads the posts, with no Publish, New post or Recall anywhere.
  const viewer = await accept(browser, await invite(page, viewerName, "viewer", a.name));
  await viewer.goto(`${accountPath(a.id)}/posts`);
  await expect(viewer.getByRole("link", { name: "Written by the editor." })).toBeVisible();
  await expect(viewer.getByRole("button", { name: /Recall/ })).toHaveCount(0);
  await expect(viewer.getByRole("link", { name: "New post" })).toHaveCount(0);
  await viewer.goto(accountPath(a.id));
  await expect(viewer.getByRole("heading", { name: a.name })).toBeVisible();
  await expect(viewer.getByRole("link", { name: "Write a post" })).toHaveCount(0);
  await viewer.goto(`${accountPath(a.id)}/posts/new`);
  await expect(viewer.getByRole("button", { name: "Publish now" })).toHaveCount(0);
  expect(await callServerFn(viewer, "publish_post", { account: a.id, id: "any" })).toBe(403);
  await viewer.screenshot({ path: "test-results/viewer-posts.png", fullPage: true });

  // The owner disables the editor; their next click finds them signed out.
  await page.goto("/settings/users");
  await page.getByRole("button", { name: `Disable ${editorName}` }).click();
  await expect(page.getByRole("row", { name: new RegExp(editorName) })).toContainText("Disabled");
  await editor.getByRole("link", { name: "Official accounts" }).first().click();
  await expect(editor).toHaveURL(/\/login/);

  // The audit log: the invitation, the publish and the disable, each with its user.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit log" }).click();
  await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
  const row = (who: string, what: string, detail: string | RegExp) =>
    page.getByRole("row").filter({ hasText: what }).filter({ hasText: who }).filter({ hasText: detail });
  await expect(row("admin", "User invited", editorName)).toHaveCount(1);
  await expect(row(editorName, "Post published", /broadcast/)).toHaveCount(1);
  await expect(row("admin", "User disabled", editorName)).toHaveCount(1);
  await page.getByLabel("User").fill(editorName);
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(new RegExp(`user=${editorName}`));
  await expect(page.getByRole("row").filter({ hasText: "admin" })).toHaveCount(0);
  await expect(row(editorName, "Post published", /broadcast/)).toHaveCount(1);
  await page.screenshot({ path: "test-results/audit-log.png", fullPage: true });
  for (const p of [editor, viewer]) noPanics(p.context());
});
