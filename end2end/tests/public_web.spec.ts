// The public web from the console and as a reader sees it: the owner sets a handle and turns
// the public page on, opens it (no script, axe-core clean, no sideways scroll on a phone, a
// screenshot at 390×844), creates an invite link, downloads its QR code, copies it, revokes it.
import { expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { readFileSync } from "node:fs";
import { accountPath, newAccount, rest, signedIn, test } from "./console";

test.beforeEach(async ({ page }) => {
  await signedIn(page);
});

async function axeClean(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`), what).toEqual([]);
}

test("the owner turns the public page on, a reader opens it, and an invite link's QR code downloads", async ({ page, request, browser }) => {
  const { id, name } = await newAccount(request, "Public");
  const handle = `pub-${Date.now().toString(36)}`;
  for (const words of ["**Opening hours** change on Monday. See [the map](https://example.com/map).", "<script>alert('x')</script> stays text"]) {
    let sent = await rest(request, "official_account_open_http_svc/send_official_account_msg", {
      Official_Account: id,
      Random: Math.floor(Math.random() * 2 ** 31),
      MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: words } }],
    });
    while (sent.ErrorCode === 10023) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      sent = await rest(request, "official_account_open_http_svc/send_official_account_msg", {
        Official_Account: id,
        Random: Math.floor(Math.random() * 2 ** 31),
        MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: words } }],
      });
    }
    expect(sent.ErrorCode).toBe(0);
  }

  // Another account already has a handle.
  const other = await newAccount(request, "Taken");
  const taken = `taken-${Date.now().toString(36)}`;
  expect((await rest(request, "herald_open_http_svc/set_public_page", { Official_Account: other.id, Handle: taken, Enabled: 1 })).ErrorCode).toBe(0);

  await page.goto(accountPath(id));
  const section = page.getByRole("region", { name: "Public web page" });
  // A taken handle is refused next to the field, with a sentence.
  await section.getByLabel("Handle").fill(taken);
  await section.getByLabel("Public web page").check();
  await section.getByRole("button", { name: "Save" }).click();
  await expect(section.getByRole("alert").first()).toContainText("is taken by another account");
  await expect(section.getByLabel("Handle")).toHaveAttribute("aria-invalid", "true");
  await section.getByLabel("Handle").fill(handle);
  await section.getByLabel("Public web page").check();
  await section.getByRole("button", { name: "Save" }).click();
  const pageLink = section.getByRole("link", { name: new RegExp(`/c/${handle}$`) });
  await expect(pageLink).toBeVisible();

  // The reader's view, on a phone.
  const baseURL = test.info().project.use.baseURL;
  const readerContext = await browser.newContext({ baseURL, viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  const reader = await readerContext.newPage();
  const scripts: string[] = [];
  reader.on("request", (r) => r.resourceType() === "script" && scripts.push(r.url()));
  const response = await reader.goto(`/c/${handle}`);
  expect(response?.status()).toBe(200);
  await expect(reader.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(reader.getByText("Opening hours")).toBeVisible();
  await expect(reader.getByText("<script>alert('x')</script> stays text")).toBeVisible();
  expect(scripts, "a public page loads no script").toEqual([]);
  const sideways = await reader.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(sideways, "no sideways scroll at 390 px").toBeLessThanOrEqual(0);
  await axeClean(reader, `/c/${handle} at 390×844`);
  await reader.screenshot({ path: test.info().outputPath("public-page-390x844.png"), fullPage: true });
  await reader.getByRole("link", { name: /UTC$/ }).first().click();
  await expect(reader).toHaveURL(new RegExp(`/c/${handle}/2$`));
  await axeClean(reader, "a post's page");
  await readerContext.close();

  // An invite link: created, listed, its QR code downloaded, copied, revoked.
  const links = page.getByRole("region", { name: "Links" });
  await links.getByLabel("Name").fill("Shop window");
  await links.getByLabel("Most uses (optional)").fill("5");
  await links.getByRole("button", { name: "Create link" }).click();
  const row = links.getByRole("row", { name: /Shop window/ });
  await expect(row).toContainText("0 of 5");
  await expect(row).toContainText("Active");
  const download = page.waitForEvent("download");
  await row.getByRole("link", { name: "QR PNG of Shop window" }).click();
  const file = readFileSync(await (await download).path());
  expect([...file.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  await row.getByRole("button", { name: "Copy the link Shop window" }).click();
  await expect(page.getByText("Link copied.")).toBeAttached();
  const path = (await row.locator("a.link-url").textContent())!;
  expect(path).toMatch(/^\/join\/[A-Za-z0-9]{12}$/);
  const landingContext = await browser.newContext({ baseURL });
  const landing = await landingContext.newPage();
  await landing.goto(path);
  await expect(landing.getByRole("heading", { name: `Subscribe to ${name}` })).toBeVisible();
  await expect(landing.getByRole("link", { name: "Read the posts" })).toHaveAttribute("href", `/c/${handle}`);
  await axeClean(landing, "an invite link's landing page");
  await row.getByRole("button", { name: "Revoke Shop window" }).click();
  await expect(row).toContainText("Revoked");
  const gone = await landing.goto(path);
  expect(gone?.status()).toBe(410);
  await landingContext.close();
  await axeClean(page, "the Overview with its public web sections");

  // Off again: the page is gone.
  await section.getByLabel("Public web page").uncheck();
  await section.getByRole("button", { name: "Save" }).click();
  await expect(section.getByText("Off.")).toBeVisible();
  expect((await request.get(`/c/${handle}`)).status()).toBe(404);

  // The account's export, from its Overview: one ZIP, downloaded with the console session.
  const exported = page.getByRole("region", { name: "Export" }).getByRole("link", { name: "Download the account (ZIP)" });
  const zip = await page.request.get((await exported.getAttribute("href"))!);
  expect(zip.status()).toBe(200);
  expect(zip.headers()["content-type"]).toBe("application/zip");
  expect((await zip.body()).subarray(0, 2).toString()).toBe("PK");
});
