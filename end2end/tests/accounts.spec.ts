import { expect, Page } from "@playwright/test";
import { dialog, signedIn, test, unique } from "./console";

function field(page: Page, label: string) {
  // The field's container: its label, input, counter and error sentence.
  return dialog(page).locator(".field", { has: page.getByLabel(label, { exact: true }) });
}

async function openNewAccount(page: Page) {
  await page.getByRole("button", { name: "New account" }).click();
  await expect(dialog(page)).toBeVisible();
  await expect(dialog(page).getByRole("heading", { name: "New official account" })).toBeVisible();
}

test.beforeEach(async ({ page }) => {
  await signedIn(page);
});

test("create an account through the dialog; counters count bytes as you type", async ({ page }) => {
  const name = unique("Daily News 新闻");
  const owner = `owner-${Date.now().toString(36)}`;
  await openNewAccount(page);

  const nameInput = page.getByLabel("Name", { exact: true });
  await expect(nameInput).toBeFocused();
  await nameInput.fill("新闻");
  await expect(field(page, "Name").locator(".counter")).toHaveText("6 / 150 bytes");
  await nameInput.pressSequentially("ab");
  await expect(field(page, "Name").locator(".counter")).toHaveText("8 / 150 bytes");
  await nameInput.fill(name);

  await page.getByLabel("Owner", { exact: true }).fill(owner);
  await expect(field(page, "Owner").locator(".counter")).toHaveText(`${owner.length} / 32 bytes`);
  await expect(dialog(page).getByRole("status")).toHaveText(`${owner} is not an imported user yet; Create will import them.`);
  await page.getByLabel("Introduction").fill("Morning headlines");
  await expect(field(page, "Introduction").locator(".counter")).toHaveText("17 / 400 bytes");
  await page.getByLabel("Organization").fill("Herald Press");
  await page.getByLabel("Avatar URL").fill("https://example.com/a.png");
  await page.getByLabel("Max subscribers").fill("5000");
  await dialog(page).getByRole("button", { name: "Create" }).click();

  await expect(dialog(page)).toHaveCount(0);
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row).toBeVisible();
  await expect(row).toContainText(owner);
  await expect(row).toContainText("@TOA#_@TOA#");

  // The search box narrows the list.
  await page.getByLabel("Search").fill(owner);
  await expect(page.getByRole("row", { name: new RegExp(name) })).toBeVisible();
  await page.getByLabel("Search").fill("no-such-account-anywhere");
  await expect(page.getByText("No official accounts yet.")).toBeVisible();
});

test("edit an account: the dialog opens prefilled and saves changes", async ({ page }) => {
  const name = unique("Edit me");
  await openNewAccount(page);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Owner", { exact: true }).fill("editor-owner");
  await dialog(page).getByRole("button", { name: "Create" }).click();
  await expect(dialog(page)).toHaveCount(0);

  await page.getByRole("button", { name: `Edit ${name}` }).click();
  await expect(dialog(page).getByRole("heading", { name: "Edit official account" })).toBeVisible();
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue(name);
  await expect(page.getByLabel("Owner", { exact: true })).toHaveValue("editor-owner");
  const renamed = `${name} (renamed)`;
  await page.getByLabel("Name", { exact: true }).fill(renamed);
  await page.getByLabel("Introduction").fill("Changed");
  await dialog(page).getByRole("button", { name: "Save" }).click();
  await expect(dialog(page)).toHaveCount(0);
  await expect(page.getByRole("row", { name: new RegExp(renamed.replace(/[()]/g, "\\$&")) })).toBeVisible();

  await page.reload();
  await page.getByRole("button", { name: `Edit ${renamed}` }).click();
  await expect(page.getByLabel("Introduction")).toHaveValue("Changed");
});

test("a 51-CJK-character name is refused next to the Name field and nothing is saved", async ({ page }) => {
  const name = "新".repeat(51);
  await openNewAccount(page);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await expect(field(page, "Name").locator(".counter")).toHaveText("153 / 150 bytes");
  await page.getByLabel("Owner", { exact: true }).fill("cjk-owner");
  await dialog(page).getByRole("button", { name: "Create" }).click();
  await expect(field(page, "Name")).toContainText("Longer than 150 bytes (got 153).");
  await expect(dialog(page)).toBeVisible();
  await dialog(page).getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("row", { name: new RegExp(name) })).toHaveCount(0);
});

test("a malformed or duplicate custom ID is refused next to the Custom ID field", async ({ page }) => {
  const id = `@TOA#_e2e${Date.now().toString(36)}`;
  await openNewAccount(page);
  await page.getByLabel("Name", { exact: true }).fill(unique("Custom"));
  await page.getByLabel("Owner", { exact: true }).fill("custom-owner");
  await page.getByLabel("Custom ID (optional)").fill("news");
  await dialog(page).getByRole("button", { name: "Create" }).click();
  await expect(field(page, "Custom ID (optional)")).toContainText("Must start with @TOA#_");

  await page.getByLabel("Custom ID (optional)").fill(id);
  await expect(field(page, "Custom ID (optional)").locator(".counter")).toHaveText(`${id.length} / 48 bytes`);
  await dialog(page).getByRole("button", { name: "Create" }).click();
  await expect(dialog(page)).toHaveCount(0);
  await expect(page.getByRole("row", { name: new RegExp(id) })).toBeVisible();

  await openNewAccount(page);
  await page.getByLabel("Name", { exact: true }).fill(unique("Second"));
  await page.getByLabel("Owner", { exact: true }).fill("custom-owner");
  await page.getByLabel("Custom ID (optional)").fill(id);
  await dialog(page).getByRole("button", { name: "Create" }).click();
  await expect(field(page, "Custom ID (optional)")).toContainText("already used");
});

test("delete asks for the account's name before destroying it", async ({ page }) => {
  const name = unique("Delete me");
  await openNewAccount(page);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Owner", { exact: true }).fill("delete-owner");
  await dialog(page).getByRole("button", { name: "Create" }).click();
  await expect(page.getByRole("row", { name: new RegExp(name) })).toBeVisible();

  await page.getByRole("button", { name: `Delete ${name}` }).click();
  const confirm = dialog(page).getByRole("button", { name: "Delete" });
  await expect(confirm).toBeDisabled();
  await page.getByLabel("Type the account's name to confirm").fill(name.slice(0, -1));
  await expect(confirm).toBeDisabled();
  await page.getByLabel("Type the account's name to confirm").fill(name);
  await expect(confirm).toBeEnabled();
  await confirm.click();
  await expect(dialog(page)).toHaveCount(0);
  await expect(page.getByRole("row", { name: new RegExp(name) })).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole("heading", { name: "Official accounts" })).toBeVisible();
  await expect(page.getByRole("row", { name: new RegExp(name) })).toHaveCount(0);
});

test("Escape closes a dialog without saving", async ({ page }) => {
  const name = unique("Escaped");
  await openNewAccount(page);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.keyboard.press("Escape");
  await expect(dialog(page)).toHaveCount(0);
  await expect(page.getByRole("row", { name: new RegExp(name) })).toHaveCount(0);
});
