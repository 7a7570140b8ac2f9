// The console on a phone (390×844, touch, a phone's user agent): no page scrolls sideways, the
// Menu button folds the navigation, every control is big enough to touch (axe-core's WCAG 2.2
// target-size with 2.1 A/AA), an editor publishes a text-and-image post, and the console
// installs to the home screen (manifest and icons).
import { devices, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { accountPath, newAccount, png, rest, signedIn, test } from "./console";

test.use({ ...devices["Pixel 7"], viewport: { width: 390, height: 844 }, browserName: "chromium" });

async function noSidewaysScroll(page: Page, what: string) {
  const widths = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, view: window.innerWidth }));
  expect(widths.doc, `${what} is wider than the screen`).toBeLessThanOrEqual(widths.view);
}

async function axeClean(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]).analyze();
  expect(results.violations.map((v) => `${what}: ${v.id} ${v.nodes.map((n) => n.target).join(" ")}`)).toEqual([]);
}

test("no console page scrolls sideways or breaks an accessibility rule on a phone", async ({ page, request }) => {
  for (const path of ["/login", "/try"]) {
    await page.goto(path);
    await noSidewaysScroll(page, path);
  }
  await axeClean(page, "/login");
  await signedIn(page);
  const { id } = await newAccount(request, "Phone");
  await rest(request, "im_open_login_svc/account_import", { UserID: "phone-reader" });
  await rest(request, "official_account_open_http_svc/add_subscriber", { Official_Account: id, SubscriberList: [{ Subscriber_Account: "phone-reader" }] });
  const account = accountPath(id);
  const routes = [
    "/accounts", account, `${account}/posts`, `${account}/posts/new`, `${account}/subscribers`, `${account}/inbox`,
    `${account}/insights`, "/settings", "/settings/users", "/settings/audit", "/profile", "/invite/not-a-real-token",
  ];
  for (const path of routes) {
    await page.goto(path);
    await noSidewaysScroll(page, path);
    await axeClean(page, path);
  }
});

test("the Menu button folds the navigation, opens by keyboard, closes with Escape and reaches every page", async ({ page }) => {
  await signedIn(page);
  const menu = page.getByRole("button", { name: "Menu" });
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(page.getByRole("link", { name: "Your account" })).toBeHidden();
  await menu.focus();
  await page.keyboard.press("Enter");
  await expect(menu).toHaveAttribute("aria-expanded", "true");
  await expect(page.getByRole("link", { name: "Your account" })).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(menu).toBeFocused();
  // A tap outside closes it too.
  await menu.tap();
  await expect(menu).toHaveAttribute("aria-expanded", "true");
  await page.locator("main").tap({ position: { x: 10, y: 300 } });
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  for (const [name, heading] of [["Settings", "Settings"], ["Users", "Users"], ["Audit log", "Audit log"], ["Your account", "Your account"], ["Official accounts", "Official accounts"]]) {
    await page.getByRole("button", { name: "Menu" }).tap();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name }).tap();
    await expect(page.getByRole("heading", { name: heading, exact: true }).first()).toBeVisible();
  }
});

test("an editor writes a text-and-image post on a phone, previews it and publishes it", async ({ page, request }) => {
  await signedIn(page);
  const { id } = await newAccount(request, "Pocket");
  await page.goto(`${accountPath(id)}/posts/new`);
  await page.getByRole("radio", { name: "Text and image" }).check();
  await page.getByLabel("Body").fill("Fresh **bread** at six");
  await expect(page.getByLabel("Add images")).toHaveAttribute("accept", "image/*");
  await page.getByLabel("Add images").setInputFiles({ name: "bread.png", mimeType: "image/png", buffer: png(800, 600) });
  await expect(page.getByRole("img", { name: "Image 1" })).toBeVisible();
  const preview = page.getByRole("region", { name: "Preview" });
  await preview.scrollIntoViewIfNeeded();
  await expect(preview.locator(".post-rendered strong")).toHaveText("bread");
  await noSidewaysScroll(page, "the composer");
  await page.getByRole("button", { name: "Publish now" }).tap();
  await expect(page.getByRole("status").filter({ hasText: "Published." })).toBeVisible();
  const history = await rest(request, "official_account_open_http_svc/official_account_msg_get_simple", { Official_Account: id, ReqMsgNumber: 5 });
  expect(history.RspMsgList).toHaveLength(1);
});

test("the console installs to the home screen: a manifest with icons that load", async ({ page, request }) => {
  await page.goto("/login");
  await expect(page.locator('link[rel="manifest"]')).toHaveAttribute("href", "/manifest.webmanifest");
  await expect(page.locator('meta[name="theme-color"]')).toHaveAttribute("content", "#1d2430");
  await expect(page.locator('link[rel="apple-touch-icon"]')).toHaveAttribute("href", "/apple-touch-icon.png");
  const res = await request.get("/manifest.webmanifest");
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toContain("application/manifest+json");
  const manifest = await res.json();
  expect(manifest.display).toBe("standalone");
  expect(manifest.icons.map((i: { sizes: string }) => i.sizes)).toEqual(["192x192", "512x512"]);
  for (const icon of [...manifest.icons.map((i: { src: string }) => i.src), "/apple-touch-icon.png"]) {
    const got = await request.get(icon);
    expect(got.status(), icon).toBe(200);
    expect(got.headers()["content-type"]).toBe("image/png");
  }
});
