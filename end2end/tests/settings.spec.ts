import { expect } from "@playwright/test";
import { signedIn, test } from "./console";
import { SECRET_KEY } from "../playwright.config";

test("the secret key is in no page until Show fetches it, under a CSP the console hydrates with", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  await signedIn(page);
  const response = await page.goto("/settings");
  const html = await response!.text();
  expect(html).not.toContain(SECRET_KEY);
  expect(response!.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");

  await expect(page.getByRole("heading", { name: "REST API identity" })).toBeVisible();
  await expect(page.getByText(SECRET_KEY)).toHaveCount(0);
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByText(SECRET_KEY)).toBeVisible();
  await page.getByRole("button", { name: "Hide" }).click();
  await expect(page.getByText(SECRET_KEY)).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "Failed deliveries" })).toBeVisible();
  await page.screenshot({ path: "test-results/settings.png", fullPage: true });
  expect(violations).toEqual([]);
});

test("changing the password asks for the current one and says when it is wrong", async ({ page }) => {
  await signedIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Your account" }).click();
  await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
  await page.getByLabel("Current password").fill("not my password");
  await page.getByLabel("New password").fill("violet tandem quarry 42");
  await expect(page.getByText(/Strength [34] of 4 — good/)).toBeVisible();
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("status")).toHaveText(/Current password: this is not your current password/i);
  await expect(page.getByRole("cell", { name: /This browser/ })).toBeVisible();
  await page.screenshot({ path: "test-results/your-account.png", fullPage: true });
});

test("hooks and limits are saved on the Settings page, the environment's values are locked, and a test callback reports", async ({ page }) => {
  await signedIn(page);
  await page.goto("/settings");
  const hooks = page.getByRole("region", { name: "Hooks and limits" });
  // The e2e server gets its key from the environment, not its hooks or quotas.
  await expect(page.getByText("The key is set by HERALD_SECRET_KEY: rotate it there.")).toBeVisible();
  await expect(hooks.getByLabel("REST calls per second (per command)")).toBeDisabled();
  await expect(hooks.getByText("Set by HERALD_REST_CALLS_PER_SECOND; change it there.")).toBeVisible();
  await hooks.getByLabel("Webhook URL").fill("http://127.0.0.1:9/unreachable");
  await hooks.getByLabel("Console sessions end after this many idle hours").fill("24");
  await hooks.getByRole("button", { name: "Save settings" }).click();
  await expect(hooks.getByText("Saved. Every server node applies it now.")).toBeVisible();
  await page.reload();
  await expect(hooks.getByLabel("Webhook URL")).toHaveValue("http://127.0.0.1:9/unreachable");
  await expect(hooks.getByLabel("Console sessions end after this many idle hours")).toHaveValue("24");
  await hooks.getByRole("button", { name: "Send test callback" }).click();
  await expect(hooks.getByText(/No answer: could not connect/)).toBeVisible();
  await hooks.getByLabel("Webhook URL").fill("ftp://nope");
  await hooks.getByRole("button", { name: "Save settings" }).click();
  await expect(hooks.getByRole("alert")).toContainText("Webhook URL: An http:// or https:// URL");
  await page.screenshot({ path: "test-results/settings-hooks.png", fullPage: true });
  // Put it back for the other tests.
  await hooks.getByLabel("Webhook URL").fill("");
  await hooks.getByLabel("Console sessions end after this many idle hours").fill("12");
  await hooks.getByRole("button", { name: "Save settings" }).click();
  await expect(hooks.getByText("Saved. Every server node applies it now.")).toBeVisible();
});
