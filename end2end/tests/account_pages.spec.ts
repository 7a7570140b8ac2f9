// An account's own pages: overview, Subscribers, the avatar upload; dialogs as modal dialogs;
// and axe-core on every console page.
import { expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { accountPath, dialog, newAccount, png, rest, signedIn, test } from "./console";

test.beforeEach(async ({ page }) => {
  await signedIn(page);
});

async function hydrated(page: Page) {
  // The sign-out button is a Leptos ActionForm: hydrated pages have Leptos' handlers; give
  // the WebAssembly a moment by waiting for the network to settle.
  await page.waitForLoadState("networkidle");
}

test("the accounts list links to the account page with its tabs", async ({ page, request }) => {
  const { id, name } = await newAccount(request, "Overview");
  await page.goto("/accounts");
  await page.getByRole("link", { name }).click();
  await expect(page).toHaveURL(accountPath(id));
  await expect(page.getByRole("heading", { name })).toBeVisible();
  await expect(page.getByText("0 subscribers")).toBeVisible();
  const tabs = page.getByRole("navigation", { name: "Account" });
  for (const tab of ["Overview", "Posts", "Subscribers", "New post"]) {
    await expect(tabs.getByRole("link", { name: tab })).toBeVisible();
  }
  await expect(tabs.getByRole("link", { name: "Overview" })).toHaveAttribute("aria-current", "page");
});

test("the Subscribers page pages through 250 subscribers, finds one by prefix, adds and removes", async ({ page, request }) => {
  const { id } = await newAccount(request, "Popular");
  const stamp = Date.now().toString(36);
  const users = Array.from({ length: 250 }, (_, i) => `sub-${stamp}-${String(i).padStart(3, "0")}`);
  for (let i = 0; i < users.length; i += 100) {
    const batch = users.slice(i, i + 100);
    await rest(request, "im_open_login_svc/multiaccount_import", { Accounts: batch });
    const added = await rest(request, "official_account_open_http_svc/add_subscriber", {
      Official_Account: id,
      SubscriberList: batch.map((u) => ({ Subscriber_Account: u })),
    });
    expect(added.ErrorCode).toBe(0);
  }
  await page.goto(`${accountPath(id)}/subscribers`);
  await hydrated(page);
  await expect(page.getByText("250 subscribers", { exact: true })).toBeVisible();
  const rows = page.locator("table.subscribers tbody tr");
  await expect(rows).toHaveCount(50);
  await expect(rows.first()).toContainText(users[0]);
  await expect(rows.first()).toContainText("AcceptAndNotify");
  for (let p = 1; p < 5; p++) {
    await page.getByRole("button", { name: "Next" }).click();
    await expect(rows.first()).toContainText(users[p * 50]);
  }
  await expect(rows.last()).toContainText(users[249]);
  await expect(page.getByRole("button", { name: "Next" })).toBeDisabled();
  await page.getByRole("button", { name: "Previous" }).click();
  await expect(rows.first()).toContainText(users[150]);

  await page.getByLabel("Search by user ID").fill(`sub-${stamp}-123`);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(users[123]);

  // Add: one new imported user, one already there, one never imported.
  const fresh = `new-${stamp}`;
  await rest(request, "im_open_login_svc/account_import", { UserID: fresh });
  await page.getByRole("button", { name: "Add subscribers" }).click();
  const add = page.getByRole("dialog", { name: "Add subscribers" });
  await expect(page.getByLabel("User IDs, one a line")).toBeFocused();
  await page.getByLabel("User IDs, one a line").fill(`${fresh}\n${users[0]}\nghost-${stamp}`);
  await add.getByRole("button", { name: "Add", exact: true }).click();
  await expect(add.getByRole("status")).toContainText(`Added: ${fresh}`);
  await expect(add.getByRole("status")).toContainText(`Already subscribed: ${users[0]}`);
  await expect(add.getByRole("status")).toContainText(`Not imported users (import them over REST first): ghost-${stamp}`);
  await add.getByRole("button", { name: "Close" }).click();
  await expect(page.getByRole("button", { name: "Add subscribers" })).toBeFocused();

  await page.getByLabel("Search by user ID").fill(fresh);
  await expect(rows).toHaveCount(1);
  await page.getByRole("button", { name: `Remove ${fresh}` }).click();
  await page.getByRole("dialog", { name: "Remove subscriber?" }).getByRole("button", { name: "Remove" }).click();
  await expect(rows).toHaveCount(0);
  const info = await rest(request, "official_account_open_http_svc/get_official_account_info", { OfficialAccountIdList: [{ Official_Account: id }] });
  expect(info.OfficialAccountInfoList[0].SubscriberNum).toBe(250);
});

test("an avatar upload is cropped square and becomes the account's FaceUrl", async ({ page, request }) => {
  const { id, name } = await newAccount(request, "Avatar");
  await page.goto("/accounts");
  await hydrated(page);
  await page.getByRole("button", { name: `Edit ${name}` }).click();
  await page.getByLabel("Upload avatar").setInputFiles({ name: "face.png", mimeType: "image/png", buffer: png(900, 500) });
  const preview = dialog(page).getByRole("img", { name: "Avatar preview" });
  await expect(preview).toBeVisible();
  const url = await page.getByLabel("Avatar URL").inputValue();
  expect(url).toMatch(/\/media\/[0-9a-f]{64}\.png$/);
  await dialog(page).getByRole("button", { name: "Save" }).click();
  await expect(dialog(page)).toHaveCount(0);
  const info = await rest(request, "official_account_open_http_svc/get_official_account_info", { OfficialAccountIdList: [{ Official_Account: id }] });
  expect(info.OfficialAccountInfoList[0].FaceUrl).toBe(url);
  const image = await request.get(url);
  expect(image.headers()["content-type"]).toBe("image/png");
  const bytes = await image.body();
  expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([512, 512]);
});

test("the account dialog keeps focus inside, and Escape returns it to the button that opened it", async ({ page }) => {
  await page.goto("/accounts");
  await hydrated(page);
  const opener = page.getByRole("button", { name: "New account" });
  await opener.click();
  await expect(page.getByLabel("Name", { exact: true })).toBeFocused();
  // Tab far past the last button: focus never reaches the navigation behind the dialog.
  for (let i = 0; i < 25; i++) {
    await page.keyboard.press("Tab");
    const inside = await page.evaluate(() => !!document.activeElement?.closest("dialog") || document.activeElement === document.body);
    expect(inside).toBe(true);
  }
  await page.keyboard.press("Escape");
  await expect(dialog(page)).toHaveCount(0);
  await expect(opener).toBeFocused();
});

test("axe-core finds no violations on the account, posts, composer and subscribers pages", async ({ page, request }) => {
  const { id } = await newAccount(request, "Accessible");
  for (const path of ["/accounts", accountPath(id), `${accountPath(id)}/posts`, `${accountPath(id)}/posts/new`, `${accountPath(id)}/subscribers`]) {
    await page.goto(path);
    await hydrated(page);
    const results = await new AxeBuilder({ page }).analyze();
    expect(results.violations.map((v) => `${path}: ${v.id} ${v.nodes.map((n) => n.target).join(" ")}`)).toEqual([]);
  }
  // And with a dialog open.
  await page.goto("/accounts");
  await hydrated(page);
  await page.getByRole("button", { name: "New account" }).click();
  const results = await new AxeBuilder({ page }).analyze();
  expect(results.violations.map((v) => v.id)).toEqual([]);
});
