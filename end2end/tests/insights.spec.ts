// The Insights tab of a prepared account: its figures, each range, the charts with their
// titles and tables, a CSV download, sorting by keyboard, axe-core; and the same figures on
// the Overview and the Posts page.
import { expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { readFileSync } from "node:fs";
import { accountPath, newAccount, rest, signedIn, test } from "./console";

test.beforeEach(async ({ page }) => {
  await signedIn(page);
});

/** An account with three subscribers (one muted), two posts, two readers of each. */
async function prepared(request: Parameters<typeof newAccount>[0]) {
  const { id, name } = await newAccount(request, "Insights");
  const stamp = Date.now().toString(36);
  const users = ["a", "b", "c"].map((u) => `ins-${stamp}-${u}`);
  await rest(request, "im_open_login_svc/multiaccount_import", { Accounts: users });
  const added = await rest(request, "official_account_open_http_svc/add_subscriber", {
    Official_Account: id,
    SubscriberList: users.map((u) => ({ Subscriber_Account: u })),
  });
  expect(added.ErrorCode).toBe(0);
  await rest(request, "official_account_open_http_svc/modify_subscriber_info", { Official_Account: id, Subscriber_Account: users[2], MsgFlag: "Discard" });
  const keys: string[] = [];
  for (const [i, words] of ["First news", "Second news"].entries()) {
    const send = () =>
      rest(request, "official_account_open_http_svc/send_official_account_msg", {
        Official_Account: id,
        Random: i + 1,
        MsgBody: [{ MsgType: "TIMTextElem", MsgContent: { Text: words } }],
      });
    let sent = await send();
    // One broadcast per second per account (the default limit): the second waits for its second.
    while (sent.ErrorCode === 10023) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      sent = await send();
    }
    expect(sent.ErrorCode).toBe(0);
    keys.push(sent.MsgKey);
  }
  for (const u of users.slice(0, 2)) {
    const read = await rest(request, "openim/admin_set_msg_read", { Report_Account: u, Peer_Account: id });
    expect(read.ErrorCode).toBe(0);
  }
  return { id, name, keys };
}

test("the Insights tab shows the account's figures, charts with tables, each range and a CSV per table", async ({ page, request }) => {
  const { id } = await prepared(request);
  await page.goto(accountPath(id));
  await page.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Insights" }).click();
  await expect(page).toHaveURL(`${accountPath(id)}/insights`);
  const headline = page.getByLabel("Headline figures");
  await expect(headline.locator("dt:text-is('Subscribers') + dd")).toHaveText("3");
  await expect(headline.locator("dt:text-is('Net change, 30 days') + dd")).toHaveText("+3");
  await expect(headline.locator("dt:text-is('Read rate') + dd")).toHaveText("66.7%"); // 4 reads of 6 recipients

  for (const title of ["Subscribers over time", "Gained and lost per day", "Reads by hour of day", "Notification settings", "Subscriptions by source"]) {
    await expect(page.getByRole("img", { name: new RegExp(title) })).toBeVisible();
  }
  const flags = page.getByRole("table", { name: "Notification settings" });
  await expect(flags.getByRole("row", { name: /Notified/ })).toContainText("2");
  await expect(flags.getByRole("row", { name: /Muted/ })).toContainText("1");
  await expect(page.getByRole("table", { name: "Subscriptions by source" }).getByRole("row", { name: /REST API/ })).toContainText("3");
  await expect(page.getByText(/Hours in your time zone, UTC/)).toBeVisible();

  const posts = page.getByRole("table", { name: "Posts" });
  await expect(posts.locator("tbody tr")).toHaveCount(2);
  const second = posts.getByRole("row", { name: /Second news/ });
  await expect(second.locator("td").nth(2)).toHaveText("3"); // recipients
  await expect(second.locator("td").nth(4)).toHaveText("2"); // reads
  await expect(second.locator("td").nth(5)).toHaveText("66.7%");

  // Ranges, by keyboard.
  await page.getByRole("link", { name: "7 days" }).focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/days=7/);
  await expect(page.getByRole("link", { name: "7 days" })).toHaveAttribute("aria-current", "page");
  await expect(page.getByLabel("Headline figures").locator("dt:text-is('Net change, 7 days') + dd")).toHaveText("+3");
  await page.getByRole("link", { name: "90 days" }).click();
  await expect(page).toHaveURL(/days=90/);
  await page.getByText("Numbers per day").click();
  await expect(page.getByRole("table", { name: "Per day" }).locator("tbody tr")).toHaveCount(90);

  // Sorting, by keyboard: reads ascending then descending.
  const readsHeader = posts.getByRole("columnheader", { name: "Reads", exact: true });
  await readsHeader.getByRole("button").focus();
  await page.keyboard.press("Enter");
  await expect(readsHeader).toHaveAttribute("aria-sort", "descending");
  await page.keyboard.press("Enter");
  await expect(readsHeader).toHaveAttribute("aria-sort", "ascending");

  // A CSV per table, with a header row.
  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download CSV (posts)" }).click();
  const file = readFileSync(await (await download).path(), "utf8").trim().split("\n");
  expect(file[0]).toBe("sent_utc,msg_key,type,post,recipients,delivered_live,pushed,reads,read_rate,reactions,recalled");
  expect(file).toHaveLength(3);
  expect(file.some((line) => line.includes("Second news") && line.includes(",3,0,0,2,0.6667,"))).toBe(true);
  const days = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download CSV (per day)" }).click();
  const dayLines = readFileSync(await (await days).path(), "utf8").trim().split("\n");
  expect(dayLines[0]).toBe("date,subscribers,subscribed,unsubscribed,reads,reactions,messages_in,replies,posts");
  expect(dayLines).toHaveLength(91);

  const results = await new AxeBuilder({ page }).analyze();
  expect(results.violations.map((v) => `${v.id} ${v.nodes.map((n) => n.target).join(" ")}`)).toEqual([]);
});

test("the Overview and the Posts page show the same figures as Insights", async ({ page, request }) => {
  const { id } = await prepared(request);
  await page.goto(accountPath(id));
  const overview = page.getByLabel("Last 30 days");
  await expect(overview.locator("dt:text-is('Subscribers') + dd")).toHaveText("3");
  await expect(overview.locator("dt:text-is('Read rate, 30 days') + dd")).toHaveText("66.7%");
  await page.goto(`${accountPath(id)}/posts`);
  await expect(page.getByRole("row", { name: /First news/ }).locator("td.reads")).toHaveText("2 of 3 (67%)");
});

test("a signed-out visitor gets no CSV but the sign-in page", async ({ browser }) => {
  const context = await browser.newContext();
  const res = await context.request.get(`/accounts/${encodeURIComponent("@TOA#_x")}/insights/days.csv`, { maxRedirects: 0 });
  expect(res.status()).toBe(303);
  expect(res.headers()["location"]).toBe("/login");
  await context.close();
});
