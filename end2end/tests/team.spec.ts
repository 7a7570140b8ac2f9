// Editors as users: the platform owner invites an editor for one account; the editor accepts
// the link in their own browser, is told how strong their password is, sees that account only
// and can open its composer; disabling them ends their session at the next click.
import { test, expect } from "@playwright/test";
import { accountPath, newAccount, signedIn } from "./console";

test("an invited editor sees only their account, and disabling them signs them out", async ({ page, browser, request }) => {
  const a = await newAccount(request, "Editor A");
  const b = await newAccount(request, "Editor B");
  const username = `ed-${Date.now().toString(36)}`;
  await signedIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" }).click();
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  const invite = page.getByRole("region", { name: "Invite user" });
  await invite.getByLabel("User name").fill(username);
  await invite.getByLabel("Role").selectOption("editor");
  await invite.getByLabel(new RegExp(a.name)).check();
  await invite.getByRole("button", { name: "Invite user" }).click();
  const shown = invite.getByRole("status");
  await expect(shown).toContainText("/invite/");
  const link = (await shown.locator("code").textContent())!;

  // The editor, in a browser of their own.
  const theirs = await browser.newContext();
  const editor = await theirs.newPage();
  await editor.goto(link);
  await editor.getByLabel("New password").fill("password1234");
  await expect(editor.getByText(/Strength [0-2] of 4/)).toBeVisible();
  await editor.getByRole("button", { name: "Set password and sign in" }).click();
  await expect(editor.getByRole("alert")).toContainText(/too easy to guess/i);
  await editor.getByLabel("New password").fill("correct horse battery staple");
  await expect(editor.getByText(/Strength [34] of 4 — good/)).toBeVisible();
  await editor.getByRole("button", { name: "Set password and sign in" }).click();
  await expect(editor.getByRole("heading", { name: "Official accounts" })).toBeVisible();
  await expect(editor.getByRole("link", { name: a.name })).toBeVisible();
  await expect(editor.getByRole("link", { name: b.name })).toHaveCount(0);
  await editor.goto(`${accountPath(b.id)}/posts`);
  await expect(editor.getByRole("alert").first()).toContainText("no access");
  await editor.goto(`${accountPath(a.id)}/posts/new`);
  await expect(editor.getByLabel("Body")).toBeVisible();

  // The owner disables them; their next click finds them signed out.
  await page.reload();
  await page.getByRole("button", { name: `Disable ${username}` }).click();
  await expect(page.getByRole("row", { name: new RegExp(username) })).toContainText("Disabled");
  await editor.goto("/accounts");
  await expect(editor).toHaveURL(/\/login/);
  await theirs.close();
});
